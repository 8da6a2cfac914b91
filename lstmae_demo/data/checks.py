"""What every data source shares: the error type, the memory cap, and the number checks."""

from __future__ import annotations

import math
import numbers

MAX_VALUES = 10_000_000  # most float32 values in one result (40 MB): no request can exhaust memory


class DataError(ValueError):
    """Bad settings or a bad file; the message says what is wrong, where, and what is allowed."""


def check_whole(name: str, value: object, minimum: int) -> None:
    """Raise DataError unless value is a whole number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise DataError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def check_cut(seq_len: object, stride: object, val_share: object) -> None:
    """Raise DataError unless a long series can be cut with these: windows of seq_len >= 2
    rows, every `stride` >= 1 rows (None: the default), the last val_share (0 < share < 1) of
    the rows held out for validation."""
    check_whole("seq_len", seq_len, 2)
    if stride is not None:
        check_whole("stride", stride, 1)
    if (isinstance(val_share, bool) or not isinstance(val_share, numbers.Real)
            or not 0 < val_share < 1):
        raise DataError(f"val_share must be a number between 0 and 1 (both excluded), "
                        f"got {val_share!r}")


def check_real(name: str, value: object) -> None:
    """Raise DataError unless value is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise DataError(f"{name} must be a finite number, got {value!r}")
