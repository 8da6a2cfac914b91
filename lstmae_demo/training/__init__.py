"""The trainer: `train(model, train_x, val_x, cfg)` yields Started, an Epoch per epoch, then
Finished; `fit` runs it to the end.

- `loop`: the training loop, `train` and `fit`
- `events`: Started, Epoch, Finished and the reasons a run ends
- `config`: TrainConfig (defaults from settings.KNOBS) and its checks
- `schedule`: the learning rate over a run (held, then decayed to FINAL_LR of it)
- `clipping`: gradient clipping by total norm
- `runtime`: process tuning (glibc malloc thresholds, torch's thread count per run)
"""

from __future__ import annotations

from .clipping import clip_gradients
from .config import TrainConfig, TrainConfigError, validate_train
from .events import REASONS, Epoch, Finished, Started
from .loop import fit, train
from .runtime import torch_threads, tune_allocator
from .schedule import DECAY_FROM, FINAL_LR, lr_factor

__all__ = [
    "DECAY_FROM",
    "FINAL_LR",
    "REASONS",
    "Epoch",
    "Finished",
    "Started",
    "TrainConfig",
    "TrainConfigError",
    "clip_gradients",
    "fit",
    "lr_factor",
    "torch_threads",
    "train",
    "tune_allocator",
    "validate_train",
]
