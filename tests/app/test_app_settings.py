"""Settings survive every page switch and button: the configuration is the session's, not the
widgets' (Streamlit drops widget state on st.switch_page; issue #9, 1)."""

from __future__ import annotations

import pytest
from apptest_helpers import ARCHITECTURE, HOME, PAGES, TRAIN, config_values, open_app, sampled

from lstmae_demo.settings import ARCHS, KNOBS
from lstmae_demo.shapes.trace import trace

WIDGETS = ("selectbox", "number_input", "radio", "slider", "select_slider")
# Every knob away from its default (and from its minimum), as a shared link would carry them.
LINK = {"seq_len": "30", "units": "16", "activation": "relu", "bins": "32", "reads": "steps",
        "handoff": "hc", "decoder": "unconditioned", "batch": "8", "n_series": "64",
        "freq_min": "1.5", "freq_max": "2.5", "noise": "0.05", "seed": "7", "epochs": "9",
        "batch_size": "8", "lr": "0.01"}


def test_the_link_sets_every_knob_away_from_its_default() -> None:
    at = open_app(LINK, HOME)
    values = config_values(at)
    changed = {k.name for k in KNOBS if values[k.name] != k.default}
    assert changed == set(LINK), "the test's link must move every knob but arch"
    assert {k: str(v) for k, v in at.query_params.items()} == LINK


@pytest.mark.parametrize("arch", sampled(ARCHS))
def test_open_layer_by_layer_keeps_every_knob_and_the_url(arch: str) -> None:
    at = open_app(LINK, HOME)
    before = config_values(at)
    at.button(key=f"open_{arch}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    after = config_values(at)
    assert after == before | {"arch": arch}
    expected = dict(LINK) | ({"arch": arch} if arch != "repeatvector" else {})
    assert {k: str(v) for k, v in at.query_params.items()} == expected
    # The widgets hold the same values and tell the browser so: a widget already on the page
    # keeps showing its old value unless the message says to set it (set_value).
    for knob in KNOBS:
        assert at.session_state[knob.name] == after[knob.name], knob.name
    widgets = {w.key: w for kind in WIDGETS for w in at.get(kind)}
    assert set(widgets) >= {k.name for k in KNOBS}
    for knob in KNOBS:
        assert widgets[knob.name].proto.set_value, f"the browser is not told {knob.name}"
    assert at.selectbox(key="arch").proto.raw_value.startswith(f"{arch} — ")
    assert arch in at.title[0].value
    tr = trace(at.session_state["_config"].spec, 8)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["parameters (PyTorch)"] == f"{tr.params_torch:,}"
    # A further run (any later click) keeps them too.
    at.run()
    assert config_values(at) == after


@pytest.mark.parametrize("page_path", sampled(PAGES))
def test_switching_pages_keeps_every_knob(page_path: str) -> None:
    at = open_app(LINK | {"arch": "encdec_ad"}, HOME)
    before = config_values(at)
    at.switch_page(page_path).run()
    assert config_values(at) == before
    assert at.query_params["units"] == "16"


def test_a_value_the_widget_would_refuse_is_not_taken() -> None:
    at = open_app({"units": "16"}, ARCHITECTURE)
    at.number_input(key="units").set_value(99999).run()
    assert config_values(at)["units"] == 16
    assert at.query_params["units"] == "16"


def test_choosing_encdec_ad_at_one_step_raises_the_sequence_length_and_says_so() -> None:
    at = open_app({"seq_len": "1"}, ARCHITECTURE)
    assert not at.exception
    at.selectbox(key="arch").set_value("encdec_ad").run()
    assert not at.exception, [e.value for e in at.exception]
    assert config_values(at)["seq_len"] == 2
    assert any("raised to 2" in i.value for i in at.sidebar.info)


def test_a_knob_that_does_not_apply_is_disabled_and_says_why() -> None:
    at = open_app({"arch": "hidden_n"}, TRAIN)
    assert at.number_input(key="bins").disabled
    assert at.radio(key="reads").disabled
    assert not at.number_input(key="units").disabled
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Not used by hidden_n" in captions and "token ids" in captions
    assert "units 1 to 256" in captions  # the limits, where the learner looks


@pytest.mark.slow
def test_choice_labels_come_from_the_knob_table() -> None:
    at = open_app({"arch": "embedding"}, ARCHITECTURE)
    reads = at.radio(key="reads")
    assert reads.options == ["final state only", "attention over every output",
                             "every output, step by step"]
    reads.set_value("state").run()
    assert config_values(at)["reads"] == "state"
    assert at.query_params["reads"] == "state"



def test_a_number_typed_outside_its_limits_is_refused_under_its_own_widget() -> None:
    """Typing units 300 must not show a red number while silently keeping the old value: the
    server refuses it and says so under the widget, with the limits; nothing else moves."""
    from lstmae_demo.settings import KNOB

    at = open_app({"units": "40"}, ARCHITECTURE)
    before = config_values(at)
    for name, bad in (("units", KNOB["units"].high + 44), ("n_series", KNOB["n_series"].low - 1),
                      ("epochs", KNOB["epochs"].high * 10)):
        at.number_input(key=name).set_value(bad).run()
        assert not at.exception, [e.value for e in at.exception]
        assert config_values(at) == before  # refused: every setting as it was
        assert at.number_input(key=name).value == before[name]  # the widget shows it again
        said = [e.value for e in at.sidebar.error]
        assert len(said) == 1 and said[0].startswith(f"{bad:,} is outside"), said
        assert f"{KNOB[name].low:,.0f} to {KNOB[name].high:,.0f}" in said[0]
        assert said[0].endswith(f"it keeps {before[name]:,}.")
    at.run()
    assert not at.sidebar.error  # said once, not on every later run
    at.number_input(key="units").set_value(48).run()
    assert config_values(at)["units"] == 48
