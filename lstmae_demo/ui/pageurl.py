"""A page's own settings in the URL (the knobs of settings.py are the sidebar's).

A page calls `from_url(name, parse, default)` before drawing the widget whose key is `name`:
on the page's first run in a session the widget starts from the URL's value, if it parses;
a value that does not gives a note (shown as text by `show_notes`) and the default. After the
widget, `to_url(name, value, default)` puts the value in the URL (only when it differs from
the default), so a teacher can copy the page as the learner sees it. The sidebar rewrites
the query on every run before the page runs, so app.py calls `capture()` first and each page
writes its own values again every run.

The values are also kept while the learner is on other pages: Streamlit drops a widget's state
when its page is not drawn, so without this, coming back showed the defaults. `to_url` keeps
each value (at its default: nothing kept), and `from_url` puts it back when the widget's state
is gone; a page that reads its widgets another way uses `keep` and `restore` directly. A link
the app opens on purpose with other values (a lesson's "open here") calls `forget` first.
The rules of the values themselves are in the core, lstmae_demo/pagevalues.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from ..pagevalues import one_of, whole_number
from ..settings import shown

__all__ = ["capture", "forget", "from_url", "keep", "one_of", "restore", "show_notes",
           "to_url", "whole_number"]

NOTES_KEY = "_page_url_notes"
SEEN_KEY = "_page_url_seen"  # the (page, name) pairs already taken from the URL
QUERY_KEY = "_page_url_query"  # the URL's query as this run began
KEPT_KEY = "_page_url_kept"  # widget key -> the value its page last showed (not a default)


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
    restore(name)  # the widget was not drawn on the last run: the value the learner left
    if name not in st.session_state:  # first run, or left at its default
        st.session_state[name] = default
    return st.session_state[name]


def to_url(name: str, value: Any, default: Any) -> None:
    """Put the page's `name` in the URL, or take it out when it is at its default; either
    way, keep it for the learner's return to the page."""
    keep(name, value, default)
    if value == default:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = str(value)


def keep(name: str, value: Any, default: Any) -> None:
    """Remember the value the page shows in the widget keyed `name` while the learner is on
    other pages (at its default: forget it, so the default, which may have moved with the
    settings, applies again)."""
    kept = st.session_state.setdefault(KEPT_KEY, {})
    if value == default:
        kept.pop(name, None)
    else:
        kept[name] = value


def restore(name: str) -> None:
    """Put back the kept value of the widget keyed `name` if Streamlit has dropped its state
    (its page was not drawn on the last run)."""
    kept = st.session_state.get(KEPT_KEY) or {}
    if name not in st.session_state and name in kept:
        st.session_state[name] = kept[name]


def forget(page: str, names: Iterable[str]) -> None:
    """Let `page` read these values from the URL again as on its first run (a link the app
    opens itself): what the learner left there and what the widgets hold are dropped, so a
    value the link does not set starts at its default."""
    seen = st.session_state.get(SEEN_KEY, set())
    kept = st.session_state.get(KEPT_KEY) or {}
    for name in names:
        seen.discard((page, name))
        kept.pop(name, None)
        st.session_state.pop(name, None)


def show_notes() -> None:
    """Say, once and as plain text, which of the page's URL values were not used."""
    for note in st.session_state.pop(NOTES_KEY, None) or []:
        st.warning("A value in the link was not used:")
        st.text(note)
