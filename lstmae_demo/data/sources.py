"""Data sources: a frozen, hashable config names a data set; `load(config)` makes it.

A run (`jobs.JobSpec`) holds its data as such a config, never as arrays, so the config is the
whole description of the data: a worker builds the arrays itself, and two equal configs give
bit-identical arrays. Sources: "sine" (SineConfig) and the bundled real series
(BundledConfig, named by `BundledConfig.name`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from .bundled import BUNDLED, BundledConfig, make_bundled
from .checks import DataError
from .sine import SineConfig, make_sine

# Every data source's config type.
DataConfig = SineConfig | BundledConfig


class Dataset(Protocol):
    """What a trainer needs of a data set: (N, T, F) float32 arrays (sines lie in [-1, 1];
    a bundled series is z-scored with its training rows' statistics, so it may leave it)."""

    train: np.ndarray  # (n_train, T, F)
    val: np.ndarray  # (n_val, T, F); may hold no series


_MAKERS: dict[type, Callable[[DataConfig], Dataset]] = {
    SineConfig: make_sine, BundledConfig: make_bundled}
SOURCES: tuple[str, ...] = (SineConfig.SOURCE, *BUNDLED)


def source_name(config: DataConfig) -> str:
    """The name of the data set `config` describes ("sine" or a bundled set's name)."""
    _maker(config)
    return config.name if isinstance(config, BundledConfig) else type(config).SOURCE


def load(config: DataConfig) -> Dataset:
    """The data set `config` describes (deterministic: equal configs, identical arrays)."""
    return _maker(config)(config)


def _maker(config: object) -> Callable[[DataConfig], Dataset]:
    maker = _MAKERS.get(type(config))
    if maker is None:
        raise DataError(f"unknown data source: a {type(config).__name__}; the data must be "
                        f"described by one of {', '.join(k.__name__ for k in _MAKERS)}")
    return maker
