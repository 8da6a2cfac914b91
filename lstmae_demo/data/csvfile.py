"""A learner's own series from a CSV file: parsed, checked, scaled per column to [-1, 1] and cut
into (n_windows, seq_len, n_features) windows.

Standard library and numpy only; anything it cannot use raises DataError with the row, the
column and what is allowed.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from .checks import MAX_VALUES, DataError, check_whole

MAX_BYTES = 5 * 1024 * 1024  # largest CSV file accepted, in bytes
MAX_ROWS = 100_000  # most data rows accepted from a CSV file
MAX_COLUMNS = 16  # most columns (features) accepted from a CSV file

_DELIMITERS = ("\t", ";", ",")  # tried in this order: "," last, since it can be a decimal separator
_SNIFF_LINES = 50  # how many non-blank lines the delimiter guess looks at



@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class CsvSeries:
    """A CSV file cut into windows and scaled per column to [-1, 1]."""

    windows: np.ndarray  # (n_windows, seq_len, n_features) float32, scaled to [-1, 1]
    columns: tuple[str, ...]  # column names (header row, or "x0", "x1", ... when there is none)
    minimum: np.ndarray  # (n_features,) per-column min before scaling
    maximum: np.ndarray  # (n_features,) per-column max before scaling
    n_rows: int  # data rows in the file (header not counted)

    def unscale(self, values: np.ndarray) -> np.ndarray:
        """Map scaled values (..., n_features) back to the file's units as float64."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 0 or values.shape[-1] != len(self.columns):
            raise DataError(
                f"unscale needs values whose last axis has {len(self.columns)} features, "
                f"got shape {values.shape}"
            )
        span = self.maximum - self.minimum  # (F,); a constant column (span 0) unscales to itself
        return (values + 1.0) / 2.0 * span + self.minimum


def _read_source(source: bytes | str | os.PathLike) -> str:
    """Return the CSV text of raw bytes, a str of CSV text, or a path, within MAX_BYTES."""
    if isinstance(source, str):
        if len(source) > MAX_BYTES:  # cheap early exit: every character is at least one byte
            _raise_too_big(len(source))
        try:
            raw = source.encode("utf-8")
        except UnicodeEncodeError as err:
            raise DataError(
                "this does not look like a text CSV file (it is not valid UTF-8 text)"
            ) from err
    elif isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    elif isinstance(source, os.PathLike):
        raw = _read_path(source)
    else:
        raise DataError(f"load_csv needs bytes, CSV text or a path, got {type(source).__name__}")
    if len(raw) > MAX_BYTES:
        _raise_too_big(len(raw))
    return _decode(raw)


def _raise_too_big(n_bytes: int) -> NoReturn:
    """Raise DataError for a file over MAX_BYTES."""
    raise DataError(
        f"the file is {n_bytes / 2**20:.1f} MB ({n_bytes} bytes); the limit is "
        f"{MAX_BYTES / 2**20:g} MB ({MAX_BYTES} bytes)"
    )


def _read_path(path: os.PathLike) -> bytes:
    """Read at most MAX_BYTES + 1 bytes from a file, turning OS errors into DataError."""
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            _raise_too_big(size)
        with open(path, "rb") as file:
            return file.read(MAX_BYTES + 1)  # + 1 so a file that grew meanwhile is still caught
    except OSError as err:
        reason = err.strerror or err
        raise DataError(f"could not read the file {os.fspath(path)!r}: {reason}") from err


def _decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without a byte-order mark), rejecting binary files."""
    not_text = "this does not look like a text CSV file"
    if b"\x00" in raw:
        raise DataError(f"{not_text} (it contains NUL bytes)")
    try:
        return raw.decode("utf-8-sig")  # "-sig" drops the byte-order mark Excel puts first
    except UnicodeDecodeError as err:
        raise DataError(f"{not_text} (byte {err.start + 1} is not UTF-8 text)") from err


def _is_blank(row: list[str]) -> bool:
    """True for a row from an empty or whitespace-only line."""
    return len(row) == 0 or (len(row) == 1 and not row[0].strip())


def _guess_delimiter(text: str) -> str:
    """Pick tab, ';' or ',': the first that splits every sampled line into the same number of cells.

    csv.Sniffer gives up on single-column and ragged files and prefers ',' in "1,5;2,5"
    (decimal commas), so this small count-based guess is used instead.
    """
    sample = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]
    for delimiter in _DELIMITERS:
        counts = {line.count(delimiter) for line in sample}
        if len(counts) == 1 and counts != {0}:
            return delimiter
    # Ragged or single-column: take the most frequent, so a ragged row is reported as such.
    return max(_DELIMITERS, key=lambda d: (sum(line.count(d) for line in sample), d == ","))


def _parse_number(cell: str, line: int, column: int, name: str) -> float:
    """Return the cell as a finite float, or raise DataError saying where and why it is not."""
    where = f'row {line}, column {column} ("{name}")'
    text = cell.strip()
    if not text:
        raise DataError(f"{where} is empty; every cell needs a number")
    try:
        value = float(text)
    except ValueError:
        hint = ""
        if "," in text and _is_float(text.replace(",", ".")):
            hint = " (use a dot as the decimal separator)"
        raise DataError(f"{where}: {text!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text!r} is not a finite number (no NaN or infinity)")
    return value


def _is_float(text: str) -> bool:
    """True when float(text) succeeds."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_numeric(cell: str) -> bool:
    """True for a number, a decimal-comma number like '1,5', or an empty cell."""
    text = cell.strip()
    return not text or _is_float(text) or _is_float(text.replace(",", "."))


def _column_names(first_row: list[str]) -> tuple[str, ...] | None:
    """Header names if the first row holds any text that is not a number, else None."""
    if all(_looks_numeric(cell) for cell in first_row):
        return None  # a data row; a bad cell in it is reported with its row and column
    return tuple(cell.strip() or f"x{i}" for i, cell in enumerate(first_row))


def _parse_rows(text: str, skip_text: bool = False
                ) -> tuple[tuple[str, ...], np.ndarray, tuple[str, ...]]:
    """Parse CSV text into column names, a (n_rows, n_features) float64 array and the names of
    the columns left out. With skip_text, a column whose first data cell is text (a timestamp,
    a label) is left out; without, every column must hold numbers."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_guess_delimiter(text))
    names: tuple[str, ...] | None = None
    width = 0
    first_line = 0
    keep: list[int] | None = None  # the columns read, decided by the first data row
    skipped: tuple[str, ...] = ()
    rows: list[list[float]] = []
    try:
        for row in reader:
            line = reader.line_num  # 1-based line in the file, as the learner sees it
            if _is_blank(row):
                continue
            if not width:
                width, first_line = _check_width(len(row)), line
                names = _column_names(row)
                if names is not None:
                    continue
                names = tuple(f"x{i}" for i in range(width))
            if keep is None:
                keep = [i for i, cell in enumerate(row)
                        if not skip_text or i >= width or _looks_numeric(cell)]
                skipped = tuple(names[i] for i in range(width) if i not in keep)
                if not keep:
                    raise DataError(
                        f"no column holds numbers: row {line}, the first data row, is all text "
                        f"({', '.join(repr(c.strip()[:20]) for c in row[:4])}); the file needs "
                        "at least one column of numbers")
            if len(row) != width:
                raise DataError(
                    f"row {line} has {_plural(len(row), 'value')}, "
                    f"expected {width} (like row {first_line})"
                )
            if len(rows) == MAX_ROWS:
                raise DataError(
                    f"the file has more than {MAX_ROWS} data rows; at most {MAX_ROWS} are allowed"
                )
            rows.append([_parse_number(row[i], line, i + 1, names[i]) for i in keep])
    except csv.Error as err:
        raise DataError(f"row {reader.line_num} could not be read as CSV: {err}") from err
    if names is None:
        raise DataError("the file is empty")
    if not rows:
        raise DataError("the file has a header row but no data rows")
    return tuple(names[i] for i in keep), np.array(rows, dtype=np.float64), skipped


def read_table(source: bytes | str | os.PathLike) -> tuple[tuple[str, ...], np.ndarray,
                                                         tuple[str, ...]]:
    """The numeric columns of a CSV file: (names, (n_rows, n_columns) float64 values, names of
    the text columns left out, such as a timestamp). Raises DataError like load_csv."""
    return _parse_rows(_read_source(source), skip_text=True)


def _plural(count: int, noun: str) -> str:
    """'1 value', '3 values'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_width(n_columns: int) -> int:
    """Return n_columns, or raise DataError when it is over MAX_COLUMNS."""
    if n_columns > MAX_COLUMNS:
        raise DataError(f"the file has {n_columns} columns; at most {MAX_COLUMNS} are allowed")
    return n_columns


def _scale(values: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min-max scale each column of (n_rows, F) values to [-1, 1]; a constant column becomes 0."""
    minimum = values.min(axis=0)  # (F,)
    maximum = values.max(axis=0)  # (F,)
    with np.errstate(over="ignore"):  # an overflow to inf is reported just below
        span = maximum - minimum  # (F,)
    too_wide = np.flatnonzero(~np.isfinite(span))
    if too_wide.size:
        i = too_wide[0]
        raise DataError(
            f'column {i + 1} ("{names[i]}") spans too wide a range '
            f"({minimum[i]:g} to {maximum[i]:g}) to scale; divide it by a large factor first"
        )
    safe_span = np.where(span > 0, span, 1.0)  # avoid dividing by zero for constant columns
    scaled = np.where(span > 0, 2.0 * (values - minimum) / safe_span - 1.0, 0.0)  # (n_rows, F)
    return np.clip(scaled, -1.0, 1.0), minimum, maximum


def _check_window_settings(seq_len: object, stride: object) -> int:
    """Validate seq_len and stride; return the stride to use (default seq_len // 2, at least 1)."""
    check_whole("seq_len", seq_len, 2)
    if stride is None:
        return max(1, int(seq_len) // 2)
    check_whole("stride", stride, 1)
    return int(stride)


def _cut_windows(series: np.ndarray, seq_len: int, stride: int) -> np.ndarray:
    """Cut (n_rows, F) into (n_windows, seq_len, F) float32 windows starting every stride rows."""
    n_rows, n_features = series.shape
    n_windows = 1 + (n_rows - seq_len) // stride  # rows after the last full window are left out
    if n_windows * seq_len * n_features > MAX_VALUES:
        raise DataError(
            f"{n_windows} windows of seq_len={seq_len} x {n_features} features would be "
            f"{n_windows * seq_len * n_features} values; at most {MAX_VALUES} are allowed "
            "(use a larger stride or a shorter seq_len)"
        )
    views = np.lib.stride_tricks.sliding_window_view(series, seq_len, axis=0)  # (n_starts, F, T)
    windows = views[::stride].transpose(0, 2, 1)  # (n_windows, T, F)
    return np.ascontiguousarray(windows, dtype=np.float32)


def load_csv(
    source: bytes | str | os.PathLike, seq_len: int, stride: int | None = None
) -> CsvSeries:
    """Load a numeric CSV (bytes, CSV text, or a path) as scaled windows of seq_len rows.

    A str is always CSV text; pass a pathlib.Path for a file name. Delimiter ',', ';' or tab;
    an optional header row; blank lines are skipped. Raises DataError for anything it cannot use.
    """
    stride = _check_window_settings(seq_len, stride)
    names, values, _ = _parse_rows(_read_source(source))  # values: (n_rows, F)
    n_rows = len(values)
    if n_rows < seq_len:
        raise DataError(f"the file has {n_rows} rows but one window needs seq_len={seq_len}")
    scaled, minimum, maximum = _scale(values, names)
    return CsvSeries(
        windows=_cut_windows(scaled, seq_len, stride),
        columns=names,
        minimum=minimum,
        maximum=maximum,
        n_rows=n_rows,
    )
