"""The trainer's events: plain, frozen records a page, the CLI or a test consumes.

A run sends Started, then one Epoch per completed epoch, then exactly one Finished.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

REASONS: tuple[str, ...] = ("completed", "target_reached", "cancelled", "diverged")


def _plain(value):
    """JSON-ready: arrays to nested lists, nan/inf to None (JSON has no nan)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Event:
    def to_dict(self) -> dict:
        """Plain JSON-ready dict with the event's kind; nan/inf become None."""
        out = {"event": type(self).__name__}
        out.update({f.name: _plain(getattr(self, f.name)) for f in fields(self)})
        return out


@dataclass(frozen=True)
class Started(_Event):
    """Sent once, before the first step."""

    total_epochs: int
    n_train: int  # training series
    n_val: int  # validation series
    params_torch: int  # trainable parameters
    steps_per_epoch: int  # optimizer steps per epoch (the last batch may be smaller)


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class Epoch(_Event):
    """Sent after every completed epoch; all metrics in eval mode except train_loss."""

    epoch: int  # 1-based
    step: int  # optimizer steps so far, whole run
    train_loss: float  # mean training loss over this epoch's steps (model.loss, train mode)
    val_loss: float  # model.loss on the validation set (nan if there is none)
    val_mse: float  # MSE of reconstruct(val) vs val: comparable across architectures
    elapsed: float  # seconds since the run started, everything included
    train_seconds: float  # seconds this epoch spent in optimizer steps (no validation)
    sequences_per_second: float  # training series / train_seconds, this epoch
    reconstructions: np.ndarray | None  # (n_show, T, F) of the first validation series, or None


@dataclass(frozen=True)
class Finished(_Event):
    """Sent once, last: why the run ended and its totals."""

    reason: str  # one of REASONS
    epochs: int  # completed epochs
    seconds: float  # whole run, validation and snapshots included
    train_seconds: float  # time in optimizer steps only
    train_loss: float  # last completed epoch's ("diverged": the diverging step's loss)
    val_loss: float  # last measured (nan if no epoch completed)
    val_mse: float
    sequences_per_second: float  # training series processed / train_seconds
    message: str = ""  # for "diverged": where and what to try
