"""Shared AppTest helpers: open the app at a page with URL parameters, read its charts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
HOME, ARCHITECTURE, TRAIN, TIMESTEPS, LATENT, ANOMALIES = (
    f"pages/{p}/page.py" for p in ("home", "architecture", "train", "timesteps", "latent",
                                   "anomalies"))
COMPARE = "pages/compare/page.py"
LESSONS = "pages/lessons/page.py"
QUIZ = "pages/quiz/page.py"
PAGES = [HOME, ARCHITECTURE, TRAIN, TIMESTEPS, COMPARE, LATENT, ANOMALIES, LESSONS, QUIZ]


def sampled(values, ids=None, several: bool = False) -> list:
    """Parameters for a case matrix run through the whole app: the first case stays in the
    everyday fast subset, the rest are marked slow (the full suite runs them all). The core
    tests check every case of these matrices on their own, much faster. `several`: each value
    is a tuple, one item per argument name."""
    values = list(values)
    ids = list(ids) if ids is not None else [None] * len(values)
    return [pytest.param(*(v if several else (v,)), id=i,
                         marks=() if n == 0 else pytest.mark.slow)
            for n, (v, i) in enumerate(zip(values, ids, strict=True))]


def open_deep_link(page: str, knobs: dict[str, str] | None = None,
                   page_values: dict[str, str] | None = None) -> AppTest:
    """The app opened as a deep link to `page` is in a new browser session: the first run (Home,
    as in every AppTest) takes the knobs from the URL; its sidebar rewrites the query with
    the knobs only, so the page's own values go back in before switching to the page, as a
    deep link's first run has them."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(knobs or {})
    at.run()
    at.query_params.update(page_values or {})
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(params: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    """The app after its first run with these URL parameters, switched to `page`."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def n_values(values: list | dict) -> int:
    """Length of a Plotly data array: a list, or a typed array {"dtype", "bdata"} (base64)."""
    if isinstance(values, dict):
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def chart_specs(at: AppTest) -> list[dict]:
    """Every Plotly chart on the page, as its figure JSON."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def config_values(at: AppTest) -> dict:
    """The session's configuration (the sidebar's one AppConfig), as a plain dict."""
    return dict(at.session_state["_config"].values)


def page_text(at: AppTest) -> str:
    """Everything the page writes as Markdown, text, captions, alerts and code, joined."""
    parts = []
    for kind in ("markdown", "caption", "text", "code", "info", "warning", "error",
                 "success", "title", "header", "subheader"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def loss_chart(at: AppTest) -> dict:
    """The Train page's loss chart (its y axis is titled "loss: <what the loss is>")."""
    return next(s for s in chart_specs(at)
                if s["layout"].get("yaxis", {}).get("title", {}).get("text", "")
                .startswith("loss"))
