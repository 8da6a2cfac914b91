"""A learner's uploaded CSV file as a data source a run can hold (`CsvConfig`).

The file travels inside the run's description as its bytes (`CsvFile.raw`, at most
UPLOAD_MAX_BYTES) with their SHA-256: equality and hashing use the hash, so a JobSpec holding a
file stays cheap to compare, and another process or machine rebuilds the same windows from the
config alone, without any shared file.

Like a bundled set, the series is split by rows: the first (1 - val_share) of the rows train,
the rest validate; each column is z-scored with the training rows' mean and standard deviation,
and each split is cut into windows of seq_len rows starting every `stride` rows. Columns are
the features (F): a file with three numeric columns gives (n, T, 3) windows. Text columns (a
timestamp, a label) are left out and named.

    file = read_upload(raw_bytes, "my_series.csv")    # DataError says what is wrong
    file = accept_upload(raw_bytes, "my_series.csv", seq_len=50)  # ... and fits T = 50
    make_csv(CsvConfig(file, seq_len=50)) -> CsvData
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .checks import MAX_VALUES, DataError, check_cut
from .csvfile import MAX_COLUMNS, MAX_ROWS, read_table

UPLOAD_MAX_BYTES = 2**20  # 1 MB: the largest CSV file a learner may upload (a run holds it)
MAX_NAME = 60  # characters of a file's name kept for display
DEFAULT_VAL_SHARE = 0.2


@dataclass(frozen=True)
class CsvFile:
    """An uploaded CSV file that was read without error: its bytes and what they hold."""

    name: str = field(compare=False)  # as uploaded, shortened (for display only)
    sha256: str  # of `raw`: what equality and hashing use
    raw: bytes = field(compare=False, repr=False)
    columns: tuple[str, ...] = field(compare=False)  # the numeric columns: the features
    skipped: tuple[str, ...] = field(compare=False)  # text columns left out
    n_rows: int = field(compare=False)

    @property
    def nbytes(self) -> int:
        """The bytes this file keeps in memory."""
        return len(self.raw)


def allowed(seq_len: int | None = None) -> str:
    """What a CSV upload may be, in words (with the fewest rows for windows of seq_len)."""
    rows = (f"at least {min_rows(seq_len)} rows at T = {seq_len} and at most {MAX_ROWS:,}"
            if seq_len else f"at most {MAX_ROWS:,} rows")
    return (f"a UTF-8 text file of at most {UPLOAD_MAX_BYTES / 2**20:g} MB, {rows}, at most "
            f"{MAX_COLUMNS} columns, with one or more columns of finite numbers that change (a "
            "header row and text columns such as a timestamp are fine)")


def read_upload(raw: bytes, name: str = "upload.csv",
                max_bytes: int = UPLOAD_MAX_BYTES) -> CsvFile:
    """Check an uploaded file's bytes and read its columns; DataError says what is wrong.
    (`max_bytes`: the command line reads files up to csvfile.MAX_BYTES.)"""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise DataError(f"an upload comes as bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise DataError(f"the file is too large: {len(raw):,} bytes; the limit is "
                        f"{max_bytes:,} bytes ({max_bytes / 2**20:g} MB)")
    columns, values, skipped = read_table(raw)
    return CsvFile(name=_short(name), sha256=hashlib.sha256(raw).hexdigest(), raw=raw,
                   columns=columns, skipped=skipped, n_rows=len(values))


def accept_upload(raw: bytes, name: str, seq_len: int, stride: int | None = None) -> CsvFile:
    """An uploaded file, if it gives windows of seq_len rows to train and validate on: read,
    checked and cut once (DataError says what is wrong and what is allowed)."""
    file = read_upload(raw, name)
    make_csv(CsvConfig(file, seq_len=seq_len, stride=stride))
    return file


def _short(name: str) -> str:
    name = str(name).replace("\n", " ").replace("\r", " ")
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


@dataclass(frozen=True)
class CsvConfig:
    """An uploaded file cut into windows (frozen and hashable: a run's data)."""

    SOURCE: ClassVar[str] = "csv"

    file: CsvFile
    seq_len: int = 50  # time steps per window (T)
    stride: int | None = None  # rows between window starts; None: seq_len // 2 (at least 1)
    val_share: float = DEFAULT_VAL_SHARE  # the last rows kept for validation

    @property
    def n_features(self) -> int:
        """Values per time step: the file's numeric columns."""
        return len(self.file.columns)

    @property
    def nbytes(self) -> int:
        """The bytes this data description keeps in memory (the file)."""
        return self.file.nbytes

    def split_rows(self) -> tuple[int, int]:
        """(training rows, validation rows)."""
        cut = round(self.file.n_rows * (1 - self.val_share))
        return cut, self.file.n_rows - cut

    def train_windows(self) -> int:
        """How many training windows the file gives (0 if fewer rows than one window)."""
        rows, _ = self.split_rows()
        step = _stride(self)
        return 0 if rows < self.seq_len else 1 + (rows - self.seq_len) // step

    def validate(self) -> None:
        """Raise DataError naming what does not fit."""
        validate_csv(self)


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class CsvData:
    """Z-scored windows of an uploaded file: train and val, and the statistics used."""

    train: np.ndarray  # (n_train, T, F) float32
    val: np.ndarray  # (n_val, T, F) float32
    train_starts: np.ndarray  # (n_train,) the file's data row (0-based) each window starts at
    val_starts: np.ndarray  # (n_val,)
    mean: np.ndarray  # (F,) of the training rows, in the file's units
    std: np.ndarray  # (F,) of the training rows (ddof 0)
    columns: tuple[str, ...]

    def unscale(self, values: np.ndarray) -> np.ndarray:
        """Map z-scored values (..., F) back to the file's units (float64)."""
        return np.asarray(values, dtype=np.float64) * self.std + self.mean


def _stride(cfg: CsvConfig) -> int:
    return cfg.stride if cfg.stride is not None else max(1, cfg.seq_len // 2)


def min_rows(seq_len: int, val_share: float = DEFAULT_VAL_SHARE) -> int:
    """The fewest rows that give one training and one validation window of seq_len rows."""
    rows = seq_len  # a search, not a formula: the split rounds (CsvConfig.split_rows)
    while True:
        cut = round(rows * (1 - val_share))
        if cut >= seq_len and rows - cut >= seq_len:
            return rows
        rows += 1


def validate_csv(cfg: CsvConfig) -> None:
    """Raise DataError naming the field or the file's problem and what is allowed."""
    if not isinstance(cfg.file, CsvFile):
        raise DataError(f"CsvConfig.file must be a CsvFile, got {type(cfg.file).__name__}")
    if hashlib.sha256(cfg.file.raw).hexdigest() != cfg.file.sha256:
        raise DataError("the uploaded file's bytes do not match their SHA-256: upload it again")
    check_cut(cfg.seq_len, cfg.stride, cfg.val_share)
    share = cfg.val_share
    train_rows, val_rows = cfg.split_rows()
    if train_rows < cfg.seq_len or val_rows < cfg.seq_len:
        need = min_rows(cfg.seq_len, share)
        raise DataError(
            f"the file is too short for T = {cfg.seq_len}: it has {cfg.file.n_rows} rows, and "
            f"a window of {cfg.seq_len} rows is needed both from the first {1 - share:.0%} "
            f"(training: {train_rows} rows) and from the last {share:.0%} (validation: "
            f"{val_rows} rows); at T = {cfg.seq_len} a file needs at least {need} rows. Use a "
            "shorter sequence length or a longer file")
    n_values = (cfg.train_windows() + 1 + (val_rows - cfg.seq_len) // _stride(cfg)) \
        * cfg.seq_len * cfg.n_features
    if n_values > MAX_VALUES:
        raise DataError(f"the windows would hold {n_values:,} values; at most {MAX_VALUES:,} "
                        "are allowed (use a larger stride or a shorter sequence length)")


def make_csv(cfg: CsvConfig) -> CsvData:
    """The file's windows, z-scored with its training rows' statistics."""
    validate_csv(cfg)
    columns, values, _ = read_table(cfg.file.raw)  # (n_rows, F) float64
    cut, _ = cfg.split_rows()
    train_rows = values[:cut]
    mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)  # (F,) each
    flat = np.flatnonzero(~(std > 0))
    if flat.size:
        name = columns[flat[0]]
        raise DataError(f"column {name!r} does not change in the training rows (the first "
                        f"{cut}): it cannot be z-scored; leave it out of the file")
    scaled = (values - mean) / std  # (n_rows, F)
    step = _stride(cfg)
    train, train_starts = _windows(scaled[:cut], cfg.seq_len, step, 0)
    val, val_starts = _windows(scaled[cut:], cfg.seq_len, step, cut)
    return CsvData(train=train, val=val, train_starts=train_starts, val_starts=val_starts,
                   mean=mean, std=std, columns=columns)


def _windows(values: np.ndarray, seq_len: int, stride: int,
             offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, seq_len, F) float32 windows every stride rows, and each one's first row + offset."""
    starts = np.arange(0, len(values) - seq_len + 1, stride)
    views = np.lib.stride_tricks.sliding_window_view(values, seq_len, axis=0)  # (n, F, T)
    windows = views[starts].transpose(0, 2, 1)  # (n, T, F)
    return np.ascontiguousarray(windows, dtype=np.float32), starts + offset
