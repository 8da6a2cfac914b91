"""Cached core calls shared by the pages.

`dataset` (and `sine_data`) is a Streamlit cache (each user gets copies: st.cache_data).
Figures of a run live in `FIGURES`, a small module-level LRU with a lock: server-wide state
that no client can clear (any client can send Streamlit's clear_cache message, which empties
every st.cache_*).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Hashable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ..data import DataConfig, Dataset, SineConfig, SineData, load, make_sine

# Figures kept: two per run (losses, reconstructions) per scale, for far more runs than a
# 2-core server trains at once; one loss figure is ~10 KB, a reconstruction figure ~20-200 KB.
MAX_FIGURES = 256


@st.cache_data(show_spinner=False, max_entries=16)
def sine_data(cfg: SineConfig) -> SineData:
    """The sine data set for these settings (deterministic, so safe to share)."""
    return make_sine(cfg)


# An uploaded file's windows may hold up to data.MAX_VALUES floats (40 MB): a few at most.
@st.cache_data(show_spinner=False, max_entries=8)
def dataset(cfg: DataConfig) -> Dataset:
    """The data set a data config describes (deterministic, so safe to share)."""
    return load(cfg)


class FrozenFigure(go.Figure):
    """A figure whose to_dict() is computed once: st.plotly_chart calls it on every draw, and
    for a figure holding numpy arrays it costs more than all the rest of a poll (typed-array
    conversion). Every session drawing the figure shares the dict: nobody may change it."""

    def __init__(self, figure: go.Figure):
        super().__init__(figure)
        self._frozen = super().to_dict()

    def to_dict(self) -> dict:
        """The figure as plain data, computed when it was frozen."""
        return self._frozen


class FigureCache:
    """Built figures by key, each with the version (e.g. the run's epoch) it was built for.

    A learner's poll asks for (key, version): the figure comes back without a rebuild when
    anyone built that version before, so N learners watching one run build each figure once
    per epoch. Only the latest version of a key is kept; the least recently used keys go first
    beyond `size`. Callers must not change a figure they get: other sessions draw it too.
    """

    def __init__(self, size: int = MAX_FIGURES):
        self.size = size
        self._items: collections.OrderedDict[Hashable, tuple[Hashable, Any]] = (
            collections.OrderedDict())
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.builds = 0  # how many figures were built (a test and the measurement read it)

    def _lookup(self, key: Hashable, version: Hashable) -> tuple[bool, Any]:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return False, None
            self._items.move_to_end(key)
            return True, item[1]

    def get(self, key: Hashable, version: Hashable, build: Callable[[], go.Figure]) -> go.Figure:
        """The figure of `key` at `version`, built by `build()` (and frozen) only if nobody
        has yet."""
        found, figure = self._lookup(key, version)
        if found:
            return figure
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:  # sessions asking for the same new figure at once build it once
            found, figure = self._lookup(key, version)
            if found:
                return figure
            figure = FrozenFigure(build())
            with self._lock:
                self.builds += 1
                self._items[key] = (version, figure)
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    old, _ = self._items.popitem(last=False)
                    self._building.pop(old, None)
        return figure

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


FIGURES = FigureCache()
