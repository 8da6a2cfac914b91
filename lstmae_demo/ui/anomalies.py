"""The Anomalies page's widgets and state: the learner's choice (seeded from the link, checked
on the server, mirrored in the URL), the training progress, the lab's result per run and
choice, and the threshold slider."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import streamlit as st

from ..anomaly import lab
from ..anomaly.inject import KINDS, SIZE_MEANS
from ..archs import Autoencoder
from ..data import BUNDLED
from . import pageurl
from .training import Run

SEEDED_KEY = "_an_seeded"  # the link's choices were put into the widgets
NOTES_KEY = "_an_notes"  # what was wrong with the link's or the browser's values (plain text)
RESULT_KEY = "_an_result"  # (key, LabResult) of the last analysis
RATIOS_KEY = "_an_ratios"  # {(data, choice, model words): ErrorRatio} measured this session
TAU_KEY = "an_log_tau"  # the threshold slider: log10(tau)
TAU_FOR_KEY = "_an_tau_for"  # the result key the slider was last set up for
FIELDS = ("data", "kind", "size", "start", "width", "beta", "unit")
DATA_WORDS = {"sine": "sine series (inject your anomaly)",
              **{name: f"{name} (real, labelled)" for name in BUNDLED}}


def _widget_values() -> dict[str, Any]:
    return {name: st.session_state.get(lab.PARAMS[name]) for name in FIELDS}


def _put(choice: lab.LabChoice) -> None:
    for name in FIELDS:
        st.session_state[lab.PARAMS[name]] = getattr(choice, name)


def read_choice(seq_len: int) -> lab.LabChoice:
    """Draw the choice's widgets and return the checked choice (bad values: defaults + a note).

    The first time in a session the widgets take the link's values (later, coming back from
    another page, the values the learner left: pageurl keeps them); every value the browser
    sends is checked by lab.parse_choice, and a refused or adjusted one is put back into its
    widget so the page shows what it computes.
    """
    if not st.session_state.get(SEEDED_KEY):
        link = st.session_state.get(pageurl.QUERY_KEY) or {}  # the query as this run began
        raw = {name: link.get(lab.PARAMS[name]) for name in FIELDS}
        choice, notes = lab.parse_choice(raw, seq_len)
        st.session_state[NOTES_KEY] = [f"From the link: {n}" for n in notes]
        st.session_state[SEEDED_KEY] = True
    else:
        for name in FIELDS:  # back from another page, which dropped the widgets' states
            pageurl.restore(lab.PARAMS[name])
        choice, notes = lab.parse_choice(_widget_values(), seq_len)
        if notes:
            st.session_state[NOTES_KEY] = notes
    _put(choice)
    base = lab.LabChoice()
    for name in FIELDS:  # kept while the learner is on other pages
        pageurl.keep(lab.PARAMS[name], getattr(choice, name), getattr(base, name))
    _draw(choice, seq_len)
    for note in st.session_state.get(NOTES_KEY) or []:
        st.text(note)  # it may quote what was sent: text, never Markdown
    st.query_params.update(choice.to_params())  # the sidebar wrote its own knobs already
    return choice


def _draw(choice: lab.LabChoice, seq_len: int) -> None:
    data_col, beta_col, unit_col = st.columns([2, 1, 2])
    # Each widget also gets the checked choice as its default: a value the browser sends
    # outside a widget's limits then falls back to it, not to the widget's minimum.
    data_col.radio("Data", lab.SOURCES, index=lab.SOURCES.index(choice.data),
                   format_func=DATA_WORDS.get, key=lab.PARAMS["data"],
                   horizontal=True, on_change=_clear_notes,
                   help="Train on normal series only: the sine data of the sidebar, or the "
                        "normal file of a bundled real set (tested on its labelled file).")
    beta_col.number_input("β of F_β", *lab.BETA_LIMITS, value=choice.beta, step=0.05,
                          format="%.2f",
                          key=lab.PARAMS["beta"], on_change=_clear_notes,
                          help=f"β < 1 favours precision, as the paper asks; its default "
                               f"{lab.DEFAULT_BETA:g} (allowed {lab.BETA_LIMITS[0]:g} to "
                               f"{lab.BETA_LIMITS[1]:g}).")
    unit_col.radio("Count", lab.UNITS, index=lab.UNITS.index(choice.unit),
                   format_func=lab.UNIT_WORDS.get, key=lab.PARAMS["unit"],
                   horizontal=True, on_change=_clear_notes,
                   help="What precision, recall and the counts count.")
    labelled = choice.data != "sine"
    with st.container(border=True):
        st.markdown("**The anomaly you inject** " + (
            "(into half of the validation windows, to choose tau; the test uses the file's "
            "own labelled anomaly)" if labelled else
            "(into every second validation and test series)"))
        kind_col, size_col, start_col, width_col = st.columns([2, 1, 2, 2])
        kind_col.selectbox("Kind", KINDS, index=KINDS.index(choice.kind),
                           format_func=lab.KIND_WORDS.get,
                           key=lab.PARAMS["kind"], on_change=_clear_notes)
        size_col.number_input("Size", -lab.MAX_SIZE, lab.MAX_SIZE, value=choice.size, step=0.1,
                              key=lab.PARAMS["size"], on_change=_clear_notes,
                              disabled=choice.kind == "flat_line",
                              help=f"For this kind: {SIZE_MEANS[choice.kind]}.")
        if seq_len > 1:
            start_col.slider("Start (step in the window)", 0, seq_len - 1, value=choice.start,
                             key=lab.PARAMS["start"], on_change=_clear_notes)
            width_col.slider("Width (steps)", 1, seq_len, value=choice.width,
                             key=lab.PARAMS["width"],
                             on_change=_clear_notes)


def _clear_notes() -> None:
    st.session_state[NOTES_KEY] = []


def progress(run: Run) -> None:
    """Training progress, polled once a second; the whole page reruns once the run ends."""
    @st.fragment(run_every=1.0)
    def body() -> None:
        view = run.job.snapshot()
        if view.done:
            st.rerun(scope="app")
        st.progress(view.epoch / max(view.total_epochs, 1), text=view.summary())

    body()


def result(run_id: str, model: Autoencoder, data: Any, choice: lab.LabChoice,
           seed: int) -> lab.LabResult:
    """The lab's analysis of this run's model for this choice (kept while they stay the same)."""
    key = (run_id, data, choice, seed)
    kept = st.session_state.get(RESULT_KEY)
    if kept is not None and kept[0] == key:
        return kept[1]
    sets = lab.build_sets(data, choice, seed)
    done = lab.analyse(model, sets, choice.beta, choice.unit)
    st.session_state[RESULT_KEY] = (key, done)
    return done


def remember_ratio(data: Any, choice: lab.LabChoice, model_words: str,
                   ratio: lab.ErrorRatio) -> dict[str, lab.ErrorRatio]:
    """Record this model's error ratio; return every model's measured this session on the same
    data and anomaly (model words -> ErrorRatio)."""
    ratios = st.session_state.setdefault(RATIOS_KEY, {})
    same = (data, choice.data, choice.kind, choice.size, choice.start, choice.width)
    ratios[(same, model_words)] = ratio
    return {words: r for (key, words), r in ratios.items() if key == same}


def tau_slider(result_key: Any, done: lab.LabResult) -> float:
    """The threshold slider on a log scale, set to the validation's best tau for each new
    result; returns tau (the browser's value clipped to the slider's range)."""
    low, high = done.tau_range()
    lo = math.floor(math.log10(max(low, 1e-12)) * 10) / 10
    hi = math.ceil(math.log10(max(high, 1e-12)) * 10) / 10 + 0.1
    best = min(max(math.log10(done.best.tau) if done.best.tau > 0 else lo, lo), hi)
    if st.session_state.get(TAU_FOR_KEY) != result_key:
        st.session_state[TAU_KEY] = round(best, 3)
        st.session_state[TAU_FOR_KEY] = result_key
    value = st.session_state.get(TAU_KEY)
    if not isinstance(value, int | float) or not np.isfinite(value) or not lo <= value <= hi:
        st.session_state[TAU_KEY] = round(best, 3)
    picked = st.slider("log₁₀ τ (move the threshold)", lo, hi, value=round(best, 3), step=0.01,
                       key=TAU_KEY,
                       help="Steps (or windows) scoring above τ are flagged. It starts at the "
                            "τ that maximised F_β on the validation set.")
    return 10 ** float(picked)


def reset_tau() -> None:
    """Put the slider back to the validation's best tau (a button's callback)."""
    st.session_state.pop(TAU_FOR_KEY, None)
