"""Real series shipped with the app (lstmae_demo/data/files/, source and licence in its README).

"nab_jumpsup" is the pair the Keras anomaly-detection example uses, from the Numenta Anomaly
Benchmark (NAB, MIT licence): a model trains on `art_daily_small_noise` (no anomaly; its first
rows train, its last `val_share` validate) and is tested on `art_daily_jumpsup`, whose labelled
anomaly window (NAB's combined_windows.json) becomes a mask per step.

Values are z-scored with the mean and std of the training rows only; the same two numbers
scale the validation and test series and are returned. Unlike the sine and CSV sources, the
values are therefore not confined to [-1, 1] (the jump reaches about +4.4).

    make_bundled(BundledConfig("nab_jumpsup", seq_len=50)) -> BundledData
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from .checks import MAX_VALUES, DataError, check_cut

FILES = Path(__file__).resolve().parent / "files"
NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"  # numenta/NAB, where the files come from
LABELS_FILE = "nab_labels.json"  # NAB's label entries for the bundled files, copied verbatim


@dataclass(frozen=True)
class BundledSet:
    """One bundled data set: a normal series to train on and a labelled one to test on."""

    name: str  # the data-source name (CLI, URL)
    title: str  # one line for a menu
    normal_file: str  # in FILES: a series without anomalies (train and validation)
    test_file: str  # in FILES: a series with labelled anomalies
    source: str  # where it comes from
    source_url: str
    licence: str  # the licence, whose text is in FILES


BUNDLED: Mapping[str, BundledSet] = MappingProxyType({
    "nab_jumpsup": BundledSet(
        name="nab_jumpsup",
        title="NAB art_daily: train on small noise, test on a jump up",
        normal_file="art_daily_small_noise.csv",
        test_file="art_daily_jumpsup.csv",
        source=f"Numenta Anomaly Benchmark (NAB), numenta/NAB commit {NAB_COMMIT[:10]}",
        source_url="https://github.com/numenta/NAB",
        licence="MIT (LICENSE-NAB.txt)",
    ),
})

# Where each bundled file sits in NAB's data/ folder: the key of its labels.
_NAB_KEYS = {
    "art_daily_small_noise.csv": "artificialNoAnomaly/art_daily_small_noise.csv",
    "art_daily_jumpsup.csv": "artificialWithAnomaly/art_daily_jumpsup.csv",
}


@dataclass(frozen=True)
class BundledConfig:
    """Settings for a bundled data set (frozen and hashable: a cache key)."""

    SOURCE: ClassVar[str] = "bundled"  # the kind of source; `name` says which bundled set

    name: str = "nab_jumpsup"  # one of BUNDLED
    seq_len: int = 50  # time steps per window (T)
    stride: int | None = None  # rows between window starts; None: seq_len // 2 (at least 1)
    val_share: float = 0.2  # the normal series' last rows kept for validation

    @property
    def n_features(self) -> int:
        """Values per time step: every bundled series has one."""
        return 1

    def validate(self) -> None:
        """Raise DataError naming the first field that is out of range."""
        validate_bundled(self)


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class BundledSeries:
    """One bundled CSV file as read: its rows and the labelled anomaly of each row."""

    file: str
    timestamps: np.ndarray  # (n_rows,) datetime64[s]
    values: np.ndarray  # (n_rows,) float64, in the file's units
    mask: np.ndarray  # (n_rows,) bool: inside one of NAB's labelled anomaly windows


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class BundledData:
    """Z-scored windows of a bundled set: train, val (normal) and test (with its mask)."""

    train: np.ndarray  # (n_train, T, 1) float32
    val: np.ndarray  # (n_val, T, 1) float32
    test: np.ndarray  # (n_test, T, 1) float32
    test_mask: np.ndarray  # (n_test, T) bool: labelled anomalous steps
    train_starts: np.ndarray  # (n_train,) row of the normal file where each window starts
    val_starts: np.ndarray  # (n_val,) the same, for val
    test_starts: np.ndarray  # (n_test,) row of the test file where each window starts
    mean: np.ndarray  # (1,) the training rows' mean, in the file's units
    std: np.ndarray  # (1,) the training rows' standard deviation (ddof 0)
    normal: BundledSeries  # the whole normal file, unscaled
    labelled: BundledSeries  # the whole test file, unscaled, with its row mask

    def scale(self, values: np.ndarray) -> np.ndarray:
        """Z-score values in the file's units with the training statistics."""
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.std

    def unscale(self, values: np.ndarray) -> np.ndarray:
        """Map z-scored values back to the file's units (float64)."""
        return np.asarray(values, dtype=np.float64) * self.std + self.mean


def validate_bundled(cfg: BundledConfig) -> None:
    """Raise DataError naming the field, its bad value and what is allowed."""
    if cfg.name not in BUNDLED:
        raise DataError(f"unknown bundled data set {cfg.name!r}; choose one of "
                        f"{', '.join(BUNDLED)}")
    check_cut(cfg.seq_len, cfg.stride, cfg.val_share)


def make_bundled(cfg: BundledConfig) -> BundledData:
    """Windows of the bundled set `cfg.name`, z-scored with the training rows' statistics."""
    validate_bundled(cfg)
    bundled = BUNDLED[cfg.name]
    stride = cfg.stride if cfg.stride is not None else max(1, cfg.seq_len // 2)
    normal, labelled = read_series(bundled.normal_file), read_series(bundled.test_file)
    cut = round(len(normal.values) * (1 - cfg.val_share))  # rows [0, cut) train, [cut, n) val
    train_rows = normal.values[:cut]
    mean = np.array([train_rows.mean()])
    std = np.array([train_rows.std()])
    if not std[0] > 0:
        raise DataError(f"{bundled.normal_file}: the training rows are constant, so they "
                        "cannot be z-scored")
    parts = {}
    for part, values, offset in (("train", train_rows, 0), ("val", normal.values[cut:], cut),
                                 ("test", labelled.values, 0)):
        parts[part] = _windows(part, (values - mean[0]) / std[0], cfg.seq_len, stride, offset)
    test_starts = parts["test"][1]
    steps = test_starts[:, None] + np.arange(cfg.seq_len)[None, :]  # (n_test, T) row numbers
    return BundledData(
        train=parts["train"][0], val=parts["val"][0], test=parts["test"][0],
        test_mask=labelled.mask[steps], train_starts=parts["train"][1],
        val_starts=parts["val"][1], test_starts=test_starts, mean=mean, std=std,
        normal=normal, labelled=labelled,
    )


def count_bundled_windows(cfg: BundledConfig) -> int:
    """How many training windows `cfg` gives (0 if its split is shorter than one window)."""
    validate_bundled(cfg)
    rows = round(len(read_series(BUNDLED[cfg.name].normal_file).values) * (1 - cfg.val_share))
    stride = cfg.stride if cfg.stride is not None else max(1, cfg.seq_len // 2)
    return 0 if rows < cfg.seq_len else 1 + (rows - cfg.seq_len) // stride


def _windows(part: str, values: np.ndarray, seq_len: int, stride: int,
             offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, seq_len, 1) float32 windows every stride rows, and each one's first row + offset."""
    if len(values) < seq_len:
        raise DataError(f"the {part} split has {len(values)} rows but one window needs "
                        f"seq_len={seq_len}; use a shorter seq_len (or, for val, a larger "
                        "val_share)")
    starts = np.arange(0, len(values) - seq_len + 1, stride)
    if len(starts) * seq_len > MAX_VALUES:
        raise DataError(f"{len(starts)} {part} windows of seq_len={seq_len} would be "
                        f"{len(starts) * seq_len} values; at most {MAX_VALUES} are allowed "
                        "(use a larger stride)")
    windows = np.lib.stride_tricks.sliding_window_view(values, seq_len)[starts]  # (n, T)
    return np.ascontiguousarray(windows[:, :, None], dtype=np.float32), starts + offset


@functools.lru_cache(maxsize=8)
def read_series(file: str) -> BundledSeries:
    """One bundled CSV file (timestamp,value) with NAB's labelled windows as a row mask."""
    if file not in _NAB_KEYS:
        raise DataError(f"{file!r} is not a bundled file; the bundled files are "
                        f"{', '.join(_NAB_KEYS)}")
    timestamps, values = _parse(file, (FILES / file).read_text(encoding="utf-8"))
    mask = np.zeros(len(values), dtype=bool)
    for start, end in _label_windows(file):
        mask |= (timestamps >= start) & (timestamps <= end)
    for array in (timestamps, values, mask):
        array.flags.writeable = False  # shared by every caller through the cache
    return BundledSeries(file=file, timestamps=timestamps, values=values, mask=mask)


def _parse(file: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """The timestamps (datetime64[s]) and finite values of a 'timestamp,value' CSV text."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0] != ["timestamp", "value"]:
        raise DataError(f"{file}: the first row must be 'timestamp,value'")
    stamps, values = [], []
    for line, row in enumerate(rows[1:], start=2):
        try:
            stamp, value = np.datetime64(row[0], "s"), float(row[1])
        except (ValueError, IndexError):
            raise DataError(f"{file}, row {line}: expected a timestamp and a number, "
                            f"got {row!r}") from None
        if len(row) != 2 or not math.isfinite(value):
            raise DataError(f"{file}, row {line}: expected a timestamp and a finite number, "
                            f"got {row!r}")
        stamps.append(stamp)
        values.append(value)
    times = np.array(stamps, dtype="datetime64[s]")
    if len(times) < 2 or not np.all(np.diff(times) > np.timedelta64(0, "s")):
        raise DataError(f"{file}: the timestamps must rise from row to row")
    return times, np.array(values, dtype=np.float64)


def _label_windows(file: str) -> list[tuple[np.datetime64, np.datetime64]]:
    """NAB's labelled anomaly windows of a bundled file, as (first, last) timestamps."""
    labels = json.loads((FILES / LABELS_FILE).read_text(encoding="utf-8"))
    return [(np.datetime64(start, "s"), np.datetime64(end, "s"))
            for start, end in labels["combined_windows"][_NAB_KEYS[file]]]
