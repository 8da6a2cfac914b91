"""Data sources: a frozen, hashable config names a data set; `load(config)` makes it.

A run (`jobs.JobSpec`) holds its data as such a config, never as arrays, so the config is the
whole description of the data: a worker builds the arrays itself, and two equal configs give
bit-identical arrays. Sources: "sine" (SineConfig), the bundled real series
(BundledConfig, named by `BundledConfig.name`) and an uploaded CSV file (CsvConfig, which holds
the file's bytes and their hash).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

import numpy as np

from .bundled import BUNDLED, BundledConfig, count_bundled_windows, make_bundled
from .checks import DataError
from .sine import SineConfig, make_sine
from .upload import CsvConfig, make_csv

# Every data source's config type.
DataConfig = SineConfig | BundledConfig | CsvConfig


class Dataset(Protocol):
    """What a trainer needs of a data set: (N, T, F) float32 arrays (sines lie in [-1, 1];
    a bundled series is z-scored with its training rows' statistics, so it may leave it)."""

    train: np.ndarray  # (n_train, T, F)
    val: np.ndarray  # (n_val, T, F); may hold no series


_MAKERS: dict[type, Callable[[DataConfig], Dataset]] = {
    SineConfig: make_sine, BundledConfig: make_bundled, CsvConfig: make_csv}
SOURCES: tuple[str, ...] = (SineConfig.SOURCE, *BUNDLED)  # the sources a name alone describes
UPLOADED = CsvConfig.SOURCE  # the source of an uploaded file (not describable by a link)


def source_name(config: DataConfig) -> str:
    """The name of the data set `config` describes ("sine" or a bundled set's name)."""
    _maker(config)
    return config.name if isinstance(config, BundledConfig) else type(config).SOURCE


def train_windows(config: DataConfig) -> int:
    """How many training series (windows) `config` gives, without making them."""
    _maker(config)
    if isinstance(config, SineConfig):
        return config.n_series
    if isinstance(config, CsvConfig):
        return config.train_windows()
    return count_bundled_windows(config)


def load(config: DataConfig) -> Dataset:
    """The data set `config` describes (deterministic: equal configs, identical arrays)."""
    return _maker(config)(config)


def _maker(config: object) -> Callable[[DataConfig], Dataset]:
    maker = _MAKERS.get(type(config))
    if maker is None:
        raise DataError(f"unknown data source: a {type(config).__name__}; the data must be "
                        f"described by one of {', '.join(k.__name__ for k in _MAKERS)}")
    return maker


def settings_of(config: DataConfig) -> dict[str, object]:
    """The data settings as plain JSON-ready values (what a weights file records); an uploaded
    file is named by its name, hash and columns, not stored."""
    source = source_name(config)
    if isinstance(config, CsvConfig):
        f = config.file
        return {"source": source, "file": f.name, "sha256": f.sha256, "rows": f.n_rows,
                "columns": list(f.columns), "skipped": list(f.skipped),
                "seq_len": config.seq_len, "stride": config.stride,
                "val_share": config.val_share}
    return {"source": source, **dataclasses.asdict(config)}
