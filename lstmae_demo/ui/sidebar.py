"""The sidebar: every knob of the app, drawn from the knob table, mirrored in the URL.

The session's configuration lives in one place, an AppConfig under CONFIG_KEY. Widgets are a
view of it: before each is drawn its state is set to the config's value wherever it is missing
or differs, and its on_change callback checks the browser's new value against the knob's limits
before taking it into the config. So a widget whose state Streamlit drops keeps its value:
st.switch_page starts the new page without the browser's widget states and Streamlit then drops
every widget's state, after which a keyed widget would come back at its default, the minimum
for a number (issue #9, 1). Each widget also gets the config's value as its default, so a value
the browser sends outside the widget's limits falls back to it, not to the minimum (Streamlit's
warning about a default beside a session-state value is off in .streamlit/config.toml).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.runtime.state import common as _widget_common
from streamlit.runtime.state.session_state import SessionState

from ..archs import get_arch
from ..config import AppConfig, fit_to_data
from ..settings import KNOB, KNOBS, Knob, knobs_for, parse_params

CONFIG_KEY = "_config"  # this session's AppConfig: the one source of every knob's value
NOTES_KEY = "_url_notes"  # what was wrong with the link's values (plain text)
ADJUSTED_KEY = "_adjusted_notes"  # what a change forced elsewhere (e.g. T >= 2 for encdec_ad)
RUN_PARAMS_KEY = "_run_params"  # the URL's run id ({"run": id} and "watch" for a watcher)
RUN_NOTE_KEY = "_run_note"  # why the run named in the link could not be opened (plain text)
REFUSED_KEY = "_refused_notes"  # values the browser sent that were not taken (plain text)
OUT_OF_RANGE_KEY = "_out_of_range"  # (knob, message) of a number typed outside its limits
GROUPS = (("model", "Model", True), ("data", "Data", False),
          ("training", "Training", False))
SHORT_LABEL = 14  # radios whose labels are all this short sit on one line
log = logging.getLogger(__name__)
# A number input's state says double_value, and the browser sends an int_value for a whole
# number: either is a number.
NUMBERS = {"int_value", "double_value"}
_GUARD_LOCK = threading.Lock()


def _load_url_once() -> None:
    """On a session's first run, take the knobs from the URL; bad values become notes."""
    state = st.session_state
    if CONFIG_KEY in state:
        return
    values, notes = parse_params(st.query_params.to_dict())
    state[CONFIG_KEY] = AppConfig(values)
    state[NOTES_KEY] = notes


def _well_formed(session: SessionState, state: Any) -> bool:
    """Whether a widget state from the browser has the wire type its widget sends and
    decodes; an unknown widget's state is left to Streamlit (it ignores those)."""
    metadata = session._new_widget_state.widget_metadata.get(state.id)
    if metadata is None:
        return True
    sent = state.WhichOneof("value")
    if sent not in (None, metadata.value_type) and {sent, metadata.value_type} != NUMBERS:
        return False
    try:
        metadata.deserializer(_widget_common.unpack_widget_state_value(state))
    except Exception:  # whatever a forged value makes a deserializer raise
        return False
    return True


def guard_widget_states() -> None:
    """Drop, before Streamlit reads them, widget states the browser could not have sent (an
    int for a select box, text for a number, an index past a slider's options): Streamlit's
    own decoding raises on those before any of the app's code runs, so a crafted websocket
    message would end the sender's page in an error. A dropped state counts as missing: the
    widget keeps the configuration's value. Installed once per process, on Streamlit's
    SessionState (an internal API: tests/app/test_app_forged.py fails if it moves)."""
    with _GUARD_LOCK:
        original = SessionState.on_script_will_rerun
        if getattr(original, "_lstmae_guard", False):
            return

        @functools.wraps(original)
        def guarded(self: SessionState, fresh_widget_states: Any, *args: Any,
                    **kwargs: Any) -> None:
            if fresh_widget_states is not None:
                bad = [w for w in fresh_widget_states.widgets if not _well_formed(self, w)]
                if bad:
                    log.warning("dropped %d malformed widget state(s) from a browser: %s",
                                len(bad), [w.WhichOneof("value") for w in bad])
                    names = [_widget_common.user_key_from_element_id(w.id) or "a widget"
                             for w in bad]
                    self[REFUSED_KEY] = [
                        f"{name}: the browser sent a value of the wrong kind; the setting "
                        "keeps its value." for name in names]
                    kept = [w for w in fresh_widget_states.widgets if w not in bad]
                    fresh_widget_states = type(fresh_widget_states)(widgets=kept)
            original(self, fresh_widget_states, *args, **kwargs)

        guarded._lstmae_guard = True
        SessionState.on_script_will_rerun = guarded


def low_of(knob: Knob, arch: str) -> float | None:
    """The knob's lower limit for this architecture (some need more than the table's low)."""
    return knob.low_for[arch][0] if arch in knob.low_for else knob.low


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def limits_text(knob: Knob, arch: str) -> str:
    """The allowed values of a knob, in words (empty for a choice)."""
    if knob.choices is not None:
        return ""
    why = f" for {arch}" if arch in knob.low_for else ""
    return f"{_number(low_of(knob, arch))} to {_number(knob.high)}{why}"


def _fitted(values: Mapping[str, Any], upload: Any = None) -> tuple[dict[str, Any], list[str]]:
    """The values with each architecture's stricter lower limit applied and F fitted to the
    chosen data (config.fit_to_data), and what moved."""
    values, notes = fit_to_data(values, upload)
    arch = values["arch"]
    for knob in KNOBS:
        low = low_of(knob, arch)
        if knob.choices is None and values[knob.name] < low:
            notes.append(f"{knob.label} raised to {low:g}: {arch} needs at least {low:g} "
                         f"({knob.low_for[arch][1]}).")
            values[knob.name] = knob.kind(low)
    return values, notes


def choose(upload: Any = dataclasses.MISSING, **changes: Any) -> None:
    """Set some knobs (each checked against its limits), and the uploaded file if given;
    for buttons and callbacks."""
    config = current()
    if upload is not dataclasses.MISSING:
        config = dataclasses.replace(config, upload=upload)
    parsed = {name: KNOB[name].parse(value) for name, value in changes.items()}
    values, notes = _fitted({**config.values, **parsed}, config.upload)
    st.session_state[CONFIG_KEY] = dataclasses.replace(config, values=values)
    st.session_state[ADJUSTED_KEY] = notes


def _changed(name: str) -> None:
    """A widget's callback: keep its new value if the knob allows it, else restore the old
    and say why (the next draw puts the config's value back in the widget). A number typed
    outside the limits is said under its own widget; anything else the browser sent that does
    not fit (a forged value) in the sidebar's note."""
    sent = st.session_state.get(name)
    try:
        choose(**{name: sent})
    except (LookupError, ValueError, TypeError) as err:  # a missing or forged value
        knob, kept = KNOB[name], current().values[name]
        if _typed_number(knob, sent):
            st.session_state[OUT_OF_RANGE_KEY] = (name, (
                f"{_number(sent)} is outside what this server allows for "
                f"{knob.label.split(' (')[0].lower()} "
                f"({limits_text(knob, current().values['arch'])}); it keeps {_number(kept)}."))
            return
        why = str(err) if isinstance(err, ValueError) else "no value was sent"
        st.session_state[REFUSED_KEY] = [f"{knob.label}: {why}; it keeps {kept}."]


def _typed_number(knob: Knob, value: Any) -> bool:
    """Whether `value` is a finite number a number input could send for this knob."""
    return (knob.choices is None and isinstance(value, int | float)
            and not isinstance(value, bool) and math.isfinite(value))


def _bind(name: str, value: Any) -> None:
    """Set the widget's state to the config's value where it is missing or differs (after
    st.switch_page, a button, or a rule that moved another knob).

    Setting it through session state is what makes Streamlit tell the browser: a widget
    already on the page keeps showing its old value when only its default changes.
    """
    state = st.session_state
    try:
        stale = name not in state or state[name] != value
    except (LookupError, ValueError, TypeError):  # a forged state that does not even read
        stale = True
    if stale:
        state[name] = value


def _help(knob: Knob, arch: str, applies: bool) -> str:
    limits = limits_text(knob, arch)
    text = knob.help + (f". Allowed: {limits} (the server's limit)." if limits else ".")
    return text if applies else f"{text} {_not_used(knob, arch, '')}"


def _not_used(knob: Knob, arch: str, source: str) -> str:
    """Why a knob does nothing at these settings (the architecture or the data source)."""
    if not knob.applies_to(arch):
        return f"Not used by {arch}: {knob.why_not}."
    return f"Not used with {KNOB['data'].label_of(source)}: {knob.why_not_source}."


def _widget(knob: Knob, container, value: Any, arch: str, source: str = "sine") -> None:
    """Draw one knob as the widget that suits it, showing `value` (the config's)."""
    applies = knob.applies_to(arch) and knob.applies_to_data(source)
    helped = _help(knob, arch, True) + ("" if applies else " " + _not_used(knob, arch, source))
    common = dict(key=knob.name, help=helped, disabled=not applies,
                  on_change=_changed, args=(knob.name,))
    if knob.name == "arch":
        container.selectbox(knob.label, knob.choices, index=knob.choices.index(value),
                            format_func=lambda a: f"{a} — {get_arch(a).title}", **common)
    elif knob.name == "lr":
        container.select_slider(knob.label, knob.choices, value=value, **common)
    elif knob.choices is not None:
        short = all(len(knob.label_of(c)) <= SHORT_LABEL for c in knob.choices)
        container.radio(knob.label, knob.choices, index=knob.choices.index(value),
                        format_func=knob.label_of, horizontal=short, **common)
    elif knob.name == "noise":
        container.slider(knob.label, float(knob.low), float(knob.high), value=value,
                         step=knob.step, **common)
    elif knob.kind is float:  # no limits in the browser: the server says them (below)
        container.number_input(knob.label, value=value, step=knob.step, **common)
    else:
        container.number_input(knob.label, value=value, step=1, **common)
    out_of_range = st.session_state.get(OUT_OF_RANGE_KEY)
    if out_of_range is not None and out_of_range[0] == knob.name:
        # Under the widget, where the learner looks: a limit kept only in the browser would
        # show the number in red and silently keep the old value. Numbers only: no Markdown.
        container.error(out_of_range[1], icon=":material/block:")
        del st.session_state[OUT_OF_RANGE_KEY]
    if not applies:
        container.caption(_not_used(knob, arch, source))


def _limits_caption(knobs: tuple[Knob, ...], container, arch: str, source: str) -> None:
    parts = [f"{k.label.split(' (')[0].lower()} {limits_text(k, arch)}" for k in knobs
             if k.choices is None and k.applies_to(arch) and k.applies_to_data(source)]
    if parts:
        container.caption("Allowed on this server: " + "; ".join(parts) + ".")


def sidebar() -> AppConfig:
    """Draw all knobs in the sidebar, sync the URL, and return this session's configuration."""
    _load_url_once()
    config = current()
    arch, source = config.values["arch"], config.values["data"]
    for group, title, expanded in GROUPS:
        box = st.sidebar.expander(title, expanded=expanded)
        knobs = knobs_for(group) + (knobs_for("view") if group == "model" else ())
        for knob in knobs:
            _bind(knob.name, config.values[knob.name])
            _widget(knob, box, config.values[knob.name], arch, source)
            if knob.name == "data":
                from .uploads import csv_upload  # uploads draws with this module's helpers
                csv_upload(box, config)
        _limits_caption(knobs, box, arch, source)
    for note in st.session_state.get(ADJUSTED_KEY) or []:
        st.sidebar.info(note)
    if refused := st.session_state.pop(REFUSED_KEY, None):
        with st.sidebar.container(border=True):  # once: the next rerun has nothing to say
            st.warning("A value from the browser was not taken:")
            for note in refused:
                st.text(note)  # it may quote what was sent: text, never Markdown
    st.query_params.from_dict(config.to_params() | (st.session_state.get(RUN_PARAMS_KEY) or {}))
    return config


def current() -> AppConfig:
    """This session's configuration: what the sidebar shows and every page uses."""
    _load_url_once()
    return st.session_state[CONFIG_KEY]


def show_url_notes() -> None:
    """A visible note for values in a shared link that were invalid and fell back.

    The notes quote what the link held, so they are shown as plain text, never as Markdown:
    a link's value must not become an image, a link or formatting on the learner's page.
    """
    if run_note := st.session_state.get(RUN_NOTE_KEY):
        with st.container(border=True):
            st.warning("The run in the link could not be opened:")
            st.text(run_note)  # it quotes the link's id: text, never Markdown
    notes = st.session_state.get(NOTES_KEY) or []
    if not notes:
        return
    with st.container(border=True):
        st.warning("Some values in the link were not valid, so their defaults are used:")
        for note in notes:
            st.text(note)
        if st.button("Dismiss", key="dismiss_url_notes"):
            st.session_state[NOTES_KEY] = []
            st.rerun()
