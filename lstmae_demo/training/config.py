"""TrainConfig: how to train, as plain frozen data, and its checks.

The defaults of the knobs the app offers (epochs, batch size, learning rate, seed) come from
`settings.KNOBS`; the limits here are the trainer's own, for any caller (the server's stricter
limits are the knob table's).
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass, fields

from ..settings import default


class TrainConfigError(ValueError):
    """A training setting is invalid; the message names the field, the value and what is allowed."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: every knob the page, the CLI and the benchmarks can turn."""

    epochs: int = default("epochs")  # passes over the training series
    batch_size: int = default("batch_size")  # series per optimizer step
    # Adam's learning rate: held for DECAY_FROM of the steps, then decayed (schedule.lr_factor)
    lr: float = float(default("lr"))
    seed: int = default("seed")  # model init (build_model(spec, seed)) and the shuffling order
    clip_norm: float | None = 1.0  # rescale gradients whose total norm exceeds this (None: off)
    until_mse: float | None = None  # stop once the validation MSE is <= this (None: never)
    snapshot_every: int = 1  # epochs between reconstruction snapshots (plus the first and last)
    n_show: int = 4  # validation series whose reconstructions are sent (0: none)
    threads: int | None = None  # torch intra-op threads for this run (None: leave as is)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


def _max_threads() -> int:
    return os.cpu_count() or 1


# field -> (kind, low, high, may be None); int ranges are inclusive, float ranges say below.
_LIMITS: dict[str, tuple[type, float, float, bool]] = {
    "epochs": (int, 1, 10_000, False),
    "batch_size": (int, 1, 4096, False),
    "lr": (float, 0.0, 10.0, False),  # 0 < lr <= 10
    "seed": (int, 0, 2**63 - 1, False),
    "clip_norm": (float, 0.0, 1e6, True),  # 0 < clip_norm <= 1e6
    "until_mse": (float, 0.0, 1e6, True),  # 0 <= until_mse <= 1e6
    "snapshot_every": (int, 1, 10_000, False),
    "n_show": (int, 0, 64, False),
    "threads": (int, 1, -1, True),  # 1 .. os.cpu_count()
}
_OPEN_LOW = {"lr", "clip_norm"}  # fields whose lower bound is excluded


def _check_field(name: str, value: object) -> str | None:
    """The problem with one field's value, or None if it is fine."""
    kind, low, high, optional = _LIMITS[name]
    if name == "threads":
        high = _max_threads()
    if value is None:
        return None if optional else f"{name} must be set, got None"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return f"{name} must be a whole number between {low} and {high}, got {value!r}"
        if not low <= value <= high:
            return f"{name} must be between {low} and {high}, got {value}"
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{name} must be a number, got {value!r}"
    low_ok = value > low if name in _OPEN_LOW else value >= low
    if not (math.isfinite(value) and low_ok and value <= high):
        bracket = "greater than" if name in _OPEN_LOW else "at least"
        return f"{name} must be {bracket} {low:g} and at most {high:g}, got {value!r}"
    return None


def validate_train(cfg: TrainConfig) -> TrainConfig:
    """Return cfg if every field is in range; else raise TrainConfigError listing each problem."""
    if not isinstance(cfg, TrainConfig):
        raise TrainConfigError(f"the training settings must be a TrainConfig, "
                               f"got {type(cfg).__name__}")
    problems = [p for f in fields(cfg) if (p := _check_field(f.name, getattr(cfg, f.name)))]
    if problems:
        raise TrainConfigError("; ".join(problems))
    return cfg
