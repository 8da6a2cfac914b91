"""Anomalies put into a series on purpose, with the window they occupy labelled step by step.

    inject(series, "level_shift", size=0.5, start=20, width=10) -> Injected(series, mask)

Each kind changes the steps start .. start + width - 1 and nothing else (of the chosen feature,
or of every feature); `mask` marks exactly those steps. What `size` means depends on the kind
(SIZE_MEANS). NumPy only; the noise burst draws from a generator seeded by `seed`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .scoring import AnomalyError

KINDS: tuple[str, ...] = ("spike", "level_shift", "frequency_change", "noise_burst", "flat_line")

SIZE_MEANS: Mapping[str, str] = MappingProxyType({
    "spike": "the pulse's height at its peak (any number but 0); the pulse is a triangle over "
             "the window, so a width of 1 is a one-step spike",
    "level_shift": "the amount added to every step of the window (any number but 0)",
    "frequency_change": "the speed factor (> 0, not 1): the window's own content is played that "
                        "many times as fast, looping within the window (2 doubles its frequency)",
    "noise_burst": "the standard deviation of the Gaussian noise added to the window (> 0)",
    "flat_line": "not used: the window holds the value just before it (a sensor stuck at its "
                 "last reading; the first value when the window starts at step 0)",
})


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class Injected:
    """A series with one anomaly and the steps it occupies."""

    series: np.ndarray  # the input's shape, (T,) or (T, F), float64
    mask: np.ndarray  # (T,) bool: True on the anomaly's steps


def inject(series: object, kind: str, size: float, start: int, width: int, *,
           feature: int | None = None, seed: int = 0) -> Injected:
    """The series with an anomaly of `kind` over steps start .. start + width - 1.

    `series` is (T,) or (T, F); `feature` picks one feature to change (None: every feature).
    """
    values = _check_series(series)
    table = values.reshape(len(values), -1).copy()  # (T, F)
    _check_window(start, width, len(table))
    _check_size(kind, size, width)
    columns = range(table.shape[1]) if feature is None else [_check_feature(feature, table)]
    rng = np.random.default_rng(seed)
    steps = slice(start, start + width)
    for f in columns:
        table[steps, f] = _changed(kind, table[:, f], size, start, width, rng)
    mask = np.zeros(len(table), dtype=bool)
    mask[steps] = True
    return Injected(series=table.reshape(values.shape), mask=mask)


def inject_batch(batch: object, kind: str, size: float, width: int, *, share: float = 0.5,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Anomalies in a random share of the series (N, T, F), each at a random position.

    Returns the batch (float32, the others unchanged) and the masks (N, T) bool.
    """
    values = np.asarray(batch, dtype=np.float64)
    if values.ndim != 3 or 0 in values.shape:
        raise AnomalyError(f"batch must be a non-empty (series, time steps, features) array, "
                           f"got shape {values.shape}")
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 <= share <= 1:
        raise AnomalyError(f"share must be a number between 0 and 1, got {share!r}")
    n, t, _ = values.shape
    _check_window(0, width, t)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n, size=round(share * n), replace=False)
    masks = np.zeros((n, t), dtype=bool)
    out = values.copy()
    for i in np.sort(chosen):
        start = int(rng.integers(0, t - width + 1))
        done = inject(values[i], kind, size, start, width, seed=int(rng.integers(2**32)))
        out[i], masks[i] = done.series, done.mask
    return out.astype(np.float32), masks


def _changed(kind: str, column: np.ndarray, size: float, start: int, width: int,
             rng: np.random.Generator) -> np.ndarray:
    """The window's new values (width,) for one feature's whole column (T,)."""
    window = column[start:start + width]
    if kind == "spike":
        centre, half = (width - 1) / 2, (width + 1) / 2
        return window + size * (1 - np.abs(np.arange(width) - centre) / half)
    if kind == "level_shift":
        return window + size
    if kind == "frequency_change":
        positions = (np.arange(width) * size) % width
        return np.interp(positions, np.arange(width), window, period=width)
    if kind == "noise_burst":
        return window + rng.normal(0.0, size, size=width)
    held = column[start - 1] if start > 0 else column[0]  # flat_line
    return np.full(width, held)


def _check_series(series: object) -> np.ndarray:
    """The series as finite float64 (T,) or (T, F), or AnomalyError."""
    values = np.asarray(series, dtype=np.float64)
    if values.ndim not in (1, 2) or 0 in values.shape:
        raise AnomalyError(f"series must be a non-empty (time steps,) or (time steps, features) "
                           f"array, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise AnomalyError("the series holds NaN or infinite values; every value must be finite")
    return values


def _check_window(start: object, width: object, n_steps: int) -> None:
    """Raise AnomalyError unless 0 <= start and start + width <= n_steps, width >= 1."""
    for name, value, low in (("start", start, 0), ("width", width, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise AnomalyError(f"{name} must be a whole number >= {low}, got {value!r}")
    if start + width > n_steps:
        raise AnomalyError(f"the window (start {start}, width {width}) ends at step "
                           f"{start + width - 1}, past the series' last step {n_steps - 1}")


def _check_size(kind: object, size: object, width: int) -> None:
    """Raise AnomalyError unless kind is known and size is allowed for it."""
    if kind not in KINDS:
        raise AnomalyError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Real) or not math.isfinite(size):
        raise AnomalyError(f"size must be a finite number, got {size!r}")
    bad = {
        "spike": size == 0,
        "level_shift": size == 0,
        "frequency_change": size <= 0 or size == 1,
        "noise_burst": size <= 0,
        "flat_line": False,
    }[kind]
    if bad:
        raise AnomalyError(f"for {kind}, size is {SIZE_MEANS[kind]}; got {size!r}")
    if kind == "frequency_change" and width < 2:
        raise AnomalyError("a frequency change needs a window of at least 2 steps, "
                           f"got width {width}")


def _check_feature(feature: object, table: np.ndarray) -> int:
    """The feature index, or AnomalyError when it is not one of the series' features."""
    n = table.shape[1]
    if isinstance(feature, bool) or not isinstance(feature, numbers.Integral) \
            or not 0 <= feature < n:
        raise AnomalyError(f"feature must be a whole number from 0 to {n - 1} (or None for "
                           f"every feature), got {feature!r}")
    return int(feature)
