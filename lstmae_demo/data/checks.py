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


def check_real(name: str, value: object) -> None:
    """Raise DataError unless value is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise DataError(f"{name} must be a finite number, got {value!r}")
