"""Every Plotly chart of the app is drawn here, with its text alternative beside it.

`chart(fig, text, key=...)` puts the chart and its sentence (chart_text) in one keyed
container (class `st-key-chart-<key>`), the sentence as a caption right after the chart, so a
screen reader reaches it next and the browser tests can find every chart's text.
"""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

PREFIX = "chart-"
# Markdown's special characters: the sentence is shown as text, whatever names it quotes.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def as_text(sentence: str) -> str:
    """The sentence with Markdown's special characters escaped, so it shows as written."""
    return _MARKDOWN.sub(r"\\\1", sentence)


def chart(fig: go.Figure, text: str, *, key: str, where: Any = None, **kwargs: Any) -> Any:
    """Draw `fig` (st.plotly_chart's keyword arguments pass through) and, under it, `text`:
    what the chart shows in one or two sentences. Returns st.plotly_chart's value (a
    selection, with on_select)."""
    if not text.strip():
        raise ValueError(f"chart {key!r} has no text alternative")
    box = (where if where is not None else st).container(key=PREFIX + key)
    drawn = box.plotly_chart(fig, key=key, **kwargs)
    box.caption(as_text(text))
    return drawn
