"""The sidebar: every knob of the app, kept in session state and mirrored in the URL.

Drawn by app.py on every run, so the configuration carries across pages; the URL holds every
value that differs from its default, so a copied link opens the same state elsewhere.
"""

from __future__ import annotations

import streamlit as st

from ..archs import get_arch
from ..config import AppConfig
from ..settings import KNOBS, Knob, parse_params

NOTES_KEY = "_url_notes"
LOADED_KEY = "_url_loaded"


def _load_url_once() -> None:
    """On a session's first run, take the knobs from the URL; bad values become notes."""
    state = st.session_state
    if state.get(LOADED_KEY):
        return
    values, notes = parse_params(st.query_params.to_dict())
    for name, value in values.items():
        state[name] = value
    state[NOTES_KEY] = notes
    state[LOADED_KEY] = True


def _widget(knob: Knob, container, disabled: bool = False, help_extra: str = "") -> None:
    """Draw one knob as the widget that suits it, bound to session state by its name."""
    help_text = knob.help + (f" — {help_extra}" if help_extra else "")
    if knob.name == "arch":
        container.selectbox(knob.label, knob.choices, key=knob.name, help=help_text,
                            format_func=lambda a: f"{a} — {get_arch(a).title}")
    elif knob.name == "lr":
        container.select_slider(knob.label, knob.choices, key=knob.name, help=help_text)
    elif knob.choices is not None:
        container.radio(knob.label, knob.choices, key=knob.name, help=help_text,
                        horizontal=True, disabled=disabled, format_func=knob.label_of)
    elif knob.name == "noise":
        container.slider(knob.label, float(knob.low), float(knob.high), step=knob.step,
                         key=knob.name, help=help_text)
    elif knob.kind is float:
        container.number_input(knob.label, float(knob.low), float(knob.high), step=knob.step,
                               key=knob.name, help=help_text)
    else:
        container.number_input(knob.label, int(knob.low), int(knob.high), step=1,
                               key=knob.name, help=help_text, disabled=disabled)


def sidebar() -> AppConfig:
    """Draw all knobs in the sidebar, sync the URL, and return the configuration."""
    _load_url_once()
    state = st.session_state
    arch = state["arch"]
    model = st.sidebar.expander("Model", expanded=True)
    for knob in KNOBS:
        if knob.group not in ("model", "view"):
            continue
        applies = knob.applies_to(arch)
        _widget(knob, model, disabled=not applies, help_extra="" if applies else knob.why_not)
    for group, title in (("data", "Sine data"), ("training", "Training")):
        box = st.sidebar.expander(title, expanded=False)
        for knob in KNOBS:
            if knob.group == group:
                _widget(knob, box)
    config = AppConfig({k.name: state[k.name] for k in KNOBS})
    st.query_params.from_dict(config.to_params())
    return config


def current() -> AppConfig:
    """The configuration that app.py's sidebar set up in this run (for pages)."""
    return AppConfig({k.name: st.session_state.get(k.name, k.default) for k in KNOBS})


def show_url_notes() -> None:
    """A visible note for values in a shared link that were invalid and fell back."""
    notes = st.session_state.get(NOTES_KEY) or []
    if not notes:
        return
    with st.container(border=True):
        st.warning("Some values in the link were not valid, so their defaults are used:\n\n"
                   + "\n".join(f"- {n}" for n in notes))
        if st.button("Dismiss", key="dismiss_url_notes"):
            st.session_state[NOTES_KEY] = []
            st.rerun()

