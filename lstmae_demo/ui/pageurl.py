"""A page's own settings in the URL (the knobs of settings.py are the sidebar's).

A page calls `from_url(name, parse, default)` before drawing the widget whose key is `name`:
on the page's first run in a session the widget starts from the URL's value, if it parses;
a value that does not gives a note (shown as text by `show_notes`) and the default. After the
widget, `to_url(name, value, default)` puts the value in the URL (only when it differs from
the default), so a teacher can copy the page as the learner sees it. The sidebar rewrites
the query on every run before the page runs, so app.py calls `capture()` first and each page
writes its own values again every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ..settings import shown

NOTES_KEY = "_page_url_notes"
SEEN_KEY = "_page_url_seen"  # the (page, name) pairs already taken from the URL
QUERY_KEY = "_page_url_query"  # the URL's query as this run began


def capture() -> None:
    """Keep the URL's query as the run began (app.py calls this before the sidebar, which
    rewrites the query with the knobs, the run and nothing of a page's)."""
    st.session_state[QUERY_KEY] = st.query_params.to_dict()


def from_url(name: str, parse: Callable[[str], Any], default: Any, page: str = "") -> Any:
    """Start the widget keyed `name` from the URL's `name` once per session (and `page`);
    `parse` returns the value or raises ValueError saying what is allowed. Returns the value
    the widget should show now (the widget itself must be drawn with no value of its own:
    it takes the session state's)."""
    seen = st.session_state.setdefault(SEEN_KEY, set())
    if (page, name) not in seen:
        seen.add((page, name))
        raw = (st.session_state.get(QUERY_KEY) or {}).get(name)
        if raw is not None:
            try:
                st.session_state[name] = parse(raw)
            except ValueError as err:
                st.session_state.setdefault(NOTES_KEY, []).append(
                    f"{name}={shown(raw)} in the link was not used: {err}")
                st.session_state[name] = default
    if name not in st.session_state:  # first run, or the widget was not drawn last run
        st.session_state[name] = default
    return st.session_state[name]


def to_url(name: str, value: Any, default: Any) -> None:
    """Put the page's `name` in the URL, or take it out when it is at its default."""
    if value == default:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = str(value)


def show_notes() -> None:
    """Say, once and as plain text, which of the page's URL values were not used."""
    for note in st.session_state.pop(NOTES_KEY, None) or []:
        st.warning("A value in the link was not used:")
        st.text(note)


def whole_number(low: int, high: int) -> Callable[[str], int]:
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


def one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A parser for one of `choices`."""

    def parse(raw: str) -> str:
        text = str(raw).strip()
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse
