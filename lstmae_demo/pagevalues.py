"""The rules of the pages' own URL values (the sidebar's knobs are settings.py's): one place,
no streamlit, read by the pages (through ui/pageurl.py) and by the core (lessons.py checks a
step's link against the same rules the page it opens applies).

A rule is a parser: it returns the value or raises ValueError saying what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

Parser = Callable[[str], Any]


def whole_number(low: int, high: int) -> Parser:
    """A parser for a whole number in [low, high]."""

    def parse(raw: str) -> int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"must be a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return parse


def one_of(choices: tuple[str, ...]) -> Parser:
    """A parser for one of `choices`."""

    def parse(raw: str) -> str:
        text = str(raw).strip()
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


# --- Time steps: which model, which validation series, which step ---------------------------

TS_MODEL, TS_SERIES, TS_STEP = "ts_model", "ts_series", "ts_step"
TS_MODELS: tuple[str, ...] = ("untrained", "trained")  # the page's radio, in its order
TS_SERIES_MAX = 16  # the page offers the first 16 validation series (fewer if the data has)


def ts_series_count(n_val: int | None = None) -> int:
    """How many validation series the Time steps page offers (`n_val`: the data's count,
    None when the data is not at hand: the most it ever offers)."""
    return TS_SERIES_MAX if n_val is None else max(1, min(TS_SERIES_MAX, n_val))


def timesteps_rules(seq_len: int, n_val: int | None = None) -> dict[str, Parser]:
    """The Time steps page's URL values and their parsers, for a model of `seq_len` steps
    and data with `n_val` validation series."""
    return {TS_MODEL: one_of(TS_MODELS),
            TS_SERIES: whole_number(1, ts_series_count(n_val)),
            TS_STEP: whole_number(1, seq_len)}


def timesteps_defaults(seq_len: int, trained: bool) -> dict[str, Any]:
    """What the Time steps page shows when its link says nothing: the trained model if there
    is one, the first series, the last step (where the code is handed on)."""
    return {TS_MODEL: "trained" if trained else "untrained", TS_SERIES: 1, TS_STEP: seq_len}


# Each page's own URL values that a link made by the core (a lesson's step) may set; a page
# not listed has none it may set.
PAGE_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"timesteps": (TS_MODEL, TS_SERIES, TS_STEP)})


def page_rules(page: str, seq_len: int) -> dict[str, Parser]:
    """The rules of `page`'s own URL values that a link may set (see PAGE_VALUES)."""
    rules = timesteps_rules(seq_len) if page == "timesteps" else {}
    return {name: rules[name] for name in PAGE_VALUES.get(page, ())}
