"""The Latent space page's streamlit parts: the analysis of a run's model kept per run, the
chart's selection checked and turned into the two series A and B, and training from here.

Training goes through the shared runner (ui.training.start_run), like the Train page's, so
both pages start, join and show the same run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st
from torch import nn

from .. import latent
from ..config import AppConfig, training_budget
from ..data import SineConfig
from ..shapes.trace import trace
from .cache import sine_data
from .live import poll_seconds
from .training import current_run, start_run, stop_run

SCATTER_KEY = "latent_scatter"
A_KEY, B_KEY = "latent_a", "latent_b"
SEEN_KEY = "_latent_seen_selection"  # the chart selection already turned into A and B
MAX_SELECTED = 8  # series drawn for a selection; a box can hold all of them


@st.cache_resource(show_spinner=False, max_entries=32)
def latent_view(run_id: str, data: SineConfig, _model: nn.Module) -> latent.LatentView:
    """The analysis of a finished run's model on its own validation series, once per run
    (a cleared cache only costs a recomputation). Callers must not change it."""
    sine = sine_data(data)
    return latent.analyse(_model, sine.val, sine.val_params)


def selected_series(n: int) -> list[int]:
    """The series the chart's selection holds, in the order given, each checked: an index
    the browser sends must be a whole number below n, or it is left out."""
    event = st.session_state.get(SCATTER_KEY)
    selection = event.get("selection") if isinstance(event, Mapping) else None
    points = selection.get("points") if isinstance(selection, Mapping) else None
    found: list[int] = []
    for point in points if isinstance(points, list) else []:
        if not isinstance(point, Mapping) or point.get("curve_number") != 0:
            continue  # only the series' own markers (curve 0) stand for a series
        index = _index(point.get("customdata"), n)
        if index is not None and index not in found:
            found.append(index)
    return found


def _index(raw: Any, n: int) -> int | None:
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
        return None
    return int(raw) if 0 <= raw < n else None


def ends_from_selection(selected: list[int], default: tuple[int, int]) -> None:
    """Before the A and B boxes are drawn: a new selection of one series makes it A, of two
    or more makes the first two A and B; unchanged selections change nothing."""
    for key, value in ((A_KEY, default[0]), (B_KEY, default[1])):
        st.session_state.setdefault(key, value)
    if tuple(selected) == st.session_state.get(SEEN_KEY):
        return
    st.session_state[SEEN_KEY] = tuple(selected)
    if selected:
        st.session_state[A_KEY] = selected[0]
    if len(selected) > 1:
        st.session_state[B_KEY] = selected[1]


def train_here(config: AppConfig) -> None:
    """No trained model for these settings: say so, offer Train (and Stop while it trains),
    and follow the run until it is done, then redraw the page."""
    run = current_run()
    going = (run is not None and run.attached and run.spec == config.spec
             and not run.job.snapshot().done)
    if going:
        st.info("This model is training: the page shows its latent space when the run is "
                "done. The Train page shows its loss curves meanwhile.")
    else:
        st.info("There is no trained model for the sidebar's settings yet. Train one here or "
                "on the Train page (the same run either way); the latent space of a model "
                "that was never trained shows nothing it learned.")
    if run is None or not (run.watching and run.attached):  # a watcher trains nothing
        too_big = training_budget(config, trace(config.spec, 1).params_torch)
        left, right, _ = st.columns([1, 1, 4])
        left.button("Train", type="primary", disabled=too_big is not None or going,
                    width="stretch", on_click=start_run, args=(config,), key="latent_train")
        right.button("Stop", disabled=not going, width="stretch", on_click=stop_run,
                     key="latent_stop")
        if too_big:
            st.error(too_big)
    if going:
        st.fragment(run_every=poll_seconds())(_progress)()


def _progress() -> None:
    """The run's progress; once it is done, the whole page again (now with the model)."""
    run = current_run()
    if run is None:
        return
    view = run.job.snapshot()
    if view.done:
        st.rerun(scope="app")
    st.progress(view.epoch / max(1, view.total_epochs), text=view.summary())
