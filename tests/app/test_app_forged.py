"""Widget values a crafted websocket message could carry (issue #10, "Safe"): the page survives,
the settings keep their values, and the sidebar says, as text, what was not taken.

The forged message is built as the browser's would be (a WidgetStates proto with one widget's
state changed or left out) and handed to the app as AppTest hands on a real interaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from apptest_helpers import ARCHITECTURE, TRAIN, config_values, open_app, sampled
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.testing.v1 import AppTest

WIDGETS = ("selectbox", "number_input", "radio", "slider", "select_slider")


def send(at: AppTest, key: str, forge: Callable[[WidgetState], None] | None) -> AppTest:
    """Rerun with the browser's widget states, the one of widget `key` forged (None: left
    out, as a browser that lost it would send)."""
    widget_id = next(w.id for kind in WIDGETS for w in at.get(kind) if w.key == key)
    states = WidgetStates()
    for state in at._tree.get_widget_states().widgets:
        if state.id == widget_id:
            if forge is None:
                continue
            state.Clear()
            state.id = widget_id
            forge(state)
        states.widgets.append(state)
    return at._run(states)


def put(field: str, value) -> Callable[[WidgetState], None]:
    """A forger that sets one value field of the widget state."""
    def forge(state: WidgetState) -> None:
        target = getattr(state, field, None)
        if field.endswith("array_value"):
            target.data.extend(value)
        else:
            setattr(state, field, value)
    return forge


# (widget, forged state): the wrong wire type for each kind of widget, and out-of-range ones.
WRONG_KIND = [
    ("arch", put("int_value", 3)),  # a select box sends the option's text
    ("activation", put("int_value", 1)),  # a radio
    ("units", put("string_value", "x")),  # a number (the browser sends a double)
    ("units", put("bool_value", True)),
    ("noise", put("string_value", "0.1")),  # a slider
    ("lr", put("string_value", "9")),  # a select slider
    ("lr", put("double_array_value", [99])),  # an index past its options
]


@pytest.mark.parametrize("page_path", [ARCHITECTURE, TRAIN])
@pytest.mark.parametrize(("key", "forge"), sampled(
    WRONG_KIND, [f"{k}-{i}" for i, (k, _) in enumerate(WRONG_KIND)], several=True))
def test_a_value_of_the_wrong_kind_is_refused_with_a_note(page_path: str, key: str,
                                                          forge) -> None:
    at = open_app({"units": "16"}, page_path)
    before = config_values(at)
    send(at, key, forge)
    assert not at.exception, [e.value for e in at.exception]
    assert config_values(at) == before
    notes = [t.value for t in at.sidebar.text]
    assert any(n.startswith(f"{key}: the browser sent a value of the wrong kind") for n in notes)
    assert any("not taken" in w.value for w in at.sidebar.warning)
    at.run()  # the page goes on, and the note was said once
    assert not at.exception and not at.sidebar.text
    assert config_values(at) == before


def test_a_whole_number_sent_as_an_int_is_taken_as_chromium_sends_it() -> None:
    """Chromium sends an int_value for a whole-number input (AppTest a double_value)."""
    at = open_app({"units": "16"}, ARCHITECTURE)
    send(at, "units", put("int_value", 24))
    assert not at.exception, [e.value for e in at.exception]
    assert config_values(at)["units"] == 24 and at.query_params["units"] == "24"
    assert not at.sidebar.text


@pytest.mark.parametrize("key", ["arch", "activation", "units", "lr"])
def test_a_missing_widget_state_keeps_the_setting(key: str) -> None:
    at = open_app({"arch": "encdec_ad", "units": "16", "lr": "0.01"}, TRAIN)
    before = config_values(at)
    send(at, key, None)
    assert not at.exception, [e.value for e in at.exception]
    assert config_values(at) == before
    assert at.session_state[key] == before[key]  # the widget shows the setting again


def test_a_choice_the_knob_table_does_not_have_is_refused_with_the_choices() -> None:
    """The right wire type with a value no option has: the knob table says what is allowed."""
    at = open_app({"units": "16"}, ARCHITECTURE)
    send(at, "arch", put("string_value", "bogus **arch**"))
    assert not at.exception, [e.value for e in at.exception]
    assert config_values(at)["arch"] == "repeatvector"
    notes = [t.value for t in at.sidebar.text]
    assert any(n.startswith("Architecture: arch must be one of repeatvector, embedding")
               and "'bogus **arch**'" in n for n in notes), notes
    assert not any("bogus" in str(i.value) for i in at.sidebar.info)
