"""Cached core calls shared by the pages (each user gets copies: st.cache_data)."""

from __future__ import annotations

import streamlit as st

from ..data import SineConfig, SineData, make_sine


@st.cache_data(show_spinner=False, max_entries=16)
def sine_data(cfg: SineConfig) -> SineData:
    """The sine data set for these settings (deterministic, so safe to share)."""
    return make_sine(cfg)
