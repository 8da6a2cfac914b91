"""The learning-rate schedule: held for most of a run, then a linear decay to a fraction of it."""

from __future__ import annotations

DECAY_FROM = 0.7  # the learning rate is held for this fraction of a run's steps ...
FINAL_LR = 0.05  # ... then falls linearly to this fraction of it by the last step


def lr_factor(step: int, total_steps: int) -> float:
    """The multiple of cfg.lr used for optimiser step `step` (0-based) of `total_steps`.

    A constant rate escapes the "predict the mean" plateau fastest but leaves the model
    jittering around its optimum at the end of a run (a free-running encdec_ad decoder most of
    all); decaying over the last 30% settles it, whatever the number of epochs.
    """
    progress = step / max(1, total_steps)
    if progress <= DECAY_FROM:
        return 1.0
    return 1.0 - (1.0 - FINAL_LR) * (progress - DECAY_FROM) / (1.0 - DECAY_FROM)
