"""Seeded sine waves: a reproducible (N, T, F) data set whose every series has known parameters.

The defaults of the knobs the app offers (series, length, features, frequencies, noise, seed)
come from `settings.KNOBS`, so `SineConfig()` is the app's data set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..settings import default
from .checks import MAX_VALUES, DataError, check_real, check_whole


@dataclass(frozen=True)
class SineConfig:
    """Settings for a reproducible set of sine-wave series (frozen and hashable: a cache key)."""

    SOURCE: ClassVar[str] = "sine"  # its name among the data sources (data.sources)

    n_series: int = default("n_series")  # training series
    # Validation series (extra, not taken from n_series); 0 means none. The app's share is a
    # quarter of n_series (AppConfig.sine), so the default is a quarter of the default.
    n_val: int = default("n_series") // 4
    seq_len: int = default("seq_len")  # time steps per series (T)
    n_features: int = default("n_features")  # channels per step (F)
    # Frequencies in cycles per window, so the look is independent of seq_len.
    freq_min: float = default("freq_min")
    freq_max: float = default("freq_max")
    phase_min: float = 0.0  # radians
    phase_max: float = 2 * math.pi
    amplitude: float = 0.8  # peak height before noise, in (0, 1]
    noise: float = default("noise")  # std of added Gaussian noise, in [0, 1]
    seed: int = default("seed")  # same seed and settings -> bit-identical data

    def validate(self) -> None:
        """Raise DataError naming the first field that is out of range."""
        validate_sine(self)


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class SineData:
    """Generated sine series and the parameters that produced each one."""

    train: np.ndarray  # (n_series, seq_len, n_features) float32
    val: np.ndarray  # (n_val, seq_len, n_features) float32
    # "freq": (n_series,), "phase": (n_series, n_features), "amplitude": (n_series,)
    train_params: dict[str, np.ndarray]
    val_params: dict[str, np.ndarray]  # the same keys, for val


def _check_frequency(name: str, value: float, seq_len: int) -> None:
    """Raise DataError unless 0 < value < seq_len / 2 (the Nyquist limit)."""
    nyquist = seq_len / 2
    if not 0 < value < nyquist:
        raise DataError(
            f"{name} must be > 0 and below the Nyquist limit seq_len/2 = {nyquist:g} "
            f"cycles per window, got {value!r}"
        )


def validate_sine(cfg: SineConfig) -> None:
    """Raise DataError naming the field, its bad value and what is allowed."""
    check_whole("n_series", cfg.n_series, 1)
    check_whole("n_val", cfg.n_val, 0)
    check_whole("seq_len", cfg.seq_len, 2)
    check_whole("n_features", cfg.n_features, 1)
    check_whole("seed", cfg.seed, 0)
    for name in ("freq_min", "freq_max", "phase_min", "phase_max", "amplitude", "noise"):
        check_real(name, getattr(cfg, name))
    _check_frequency("freq_min", cfg.freq_min, cfg.seq_len)
    _check_frequency("freq_max", cfg.freq_max, cfg.seq_len)
    if cfg.freq_min > cfg.freq_max:
        raise DataError(f"freq_min ({cfg.freq_min!r}) must be <= freq_max ({cfg.freq_max!r})")
    if cfg.phase_min > cfg.phase_max:
        raise DataError(f"phase_min ({cfg.phase_min!r}) must be <= phase_max ({cfg.phase_max!r})")
    if not 0 < cfg.amplitude <= 1:
        raise DataError(f"amplitude must be > 0 and <= 1, got {cfg.amplitude!r}")
    if not 0 <= cfg.noise <= 1:
        raise DataError(f"noise must be between 0 and 1, got {cfg.noise!r}")
    n_values = (cfg.n_series + cfg.n_val) * cfg.seq_len * cfg.n_features
    if n_values > MAX_VALUES:
        raise DataError(
            f"(n_series + n_val) * seq_len * n_features = {n_values} values; "
            f"at most {MAX_VALUES} are allowed"
        )


def _sine_split(
    cfg: SineConfig, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draw n series of shape (n, seq_len, n_features) and their parameters from rng."""
    freq = rng.uniform(cfg.freq_min, cfg.freq_max, size=n)  # (N,) one per series
    phase = rng.uniform(cfg.phase_min, cfg.phase_max, size=(n, cfg.n_features))  # (N, F)
    amplitude = np.full(n, float(cfg.amplitude))  # (N,)
    t = np.arange(cfg.seq_len)  # (T,) time steps 0 .. seq_len-1
    cycles = freq[:, None, None] * t[None, :, None] / cfg.seq_len  # (N, T, 1)
    angle = 2 * np.pi * cycles + phase[:, None, :]  # (N, T, F)
    values = amplitude[:, None, None] * np.sin(angle)  # (N, T, F)
    if cfg.noise > 0:
        values = values + cfg.noise * rng.standard_normal(values.shape)
    # Noise can push a value past the tanh range, which the model could never output: clip it.
    values = np.clip(values, -1.0, 1.0).astype(np.float32)
    return values, {"freq": freq, "phase": phase, "amplitude": amplitude}


def make_sine(cfg: SineConfig) -> SineData:
    """Generate train and validation sine series; the same cfg always gives identical arrays.

    value = amplitude * sin(2*pi*freq*t/seq_len + phase) + noise * N(0, 1), then clipped to [-1, 1].
    """
    validate_sine(cfg)
    # Two independent random streams: changing n_val never changes train (and vice versa).
    train_seed, val_seed = np.random.SeedSequence(cfg.seed).spawn(2)
    train, train_params = _sine_split(cfg, cfg.n_series, np.random.default_rng(train_seed))
    val, val_params = _sine_split(cfg, cfg.n_val, np.random.default_rng(val_seed))
    return SineData(train=train, val=val, train_params=train_params, val_params=val_params)


