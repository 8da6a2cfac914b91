"""The Time steps page's model, series and step are in the URL (a teacher shares "look at
step 20"), each validated, a bad one named as plain text and replaced by its default."""

from __future__ import annotations

import pytest
from apptest_helpers import HOME, TIMESTEPS, chart_specs, open_deep_link
from streamlit.testing.v1 import AppTest


def at_timesteps(page_params: dict[str, str], knobs: dict[str, str] | None = None) -> AppTest:
    """The app opened on Time steps with these page values in the URL (the first run is
    Home, as in every AppTest; its sidebar keeps only the knobs, so the page's values are
    put back before switching, as a deep link's first run has them)."""
    return open_deep_link(TIMESTEPS, knobs or {"units": "8", "seq_len": "30"}, page_params)


def test_a_link_opens_the_step_series_and_model_it_names_and_keeps_them() -> None:
    at = at_timesteps({"ts_step": "12", "ts_series": "3", "ts_model": "untrained"})
    assert at.slider(key="ts_step").value == 12
    assert at.number_input(key="ts_series").value == 3
    assert at.radio(key="ts_model").value == "untrained"
    assert not at.warning
    params = dict(at.query_params)
    assert params["ts_step"] == "12" and params["ts_series"] == "3"
    assert "ts_model" not in params  # untrained is the default without a trained model
    assert params["units"] == "8"  # the knobs stay beside the page's values
    titles = [a.get("text") for spec in chart_specs(at)
              for a in spec.get("layout", {}).get("annotations", [])]
    assert "series 3" in titles and "series 1" not in titles  # the series the link names


@pytest.mark.slow
def test_moving_the_step_puts_it_in_the_url_and_the_default_takes_it_out() -> None:
    at = at_timesteps({})
    assert "ts_step" not in dict(at.query_params)  # at its default, the last step (T = 30)
    at.slider(key="ts_step").set_value(7).run()
    assert dict(at.query_params)["ts_step"] == "7"
    at.run()  # a rerun keeps it
    assert at.slider(key="ts_step").value == 7 and dict(at.query_params)["ts_step"] == "7"
    at.slider(key="ts_step").set_value(30).run()
    assert "ts_step" not in dict(at.query_params)


def test_bad_values_are_named_as_text_and_replaced_by_their_defaults() -> None:
    at = at_timesteps({"ts_step": "31", "ts_series": "[notice](http://evil.example/x)",
                       "ts_model": "bogus"})
    assert at.slider(key="ts_step").value == 30  # T = 30: 31 is past the last step
    assert at.number_input(key="ts_series").value == 1
    assert at.radio(key="ts_model").value == "untrained"
    notes = [t.value for t in at.text]
    assert any(n.startswith("ts_step='31'") and "from 1 to 30" in n for n in notes), notes
    assert any(n.startswith("ts_model='bogus'") and "untrained, trained" in n for n in notes)
    assert any("evil.example" in n and "whole number" in n for n in notes), notes
    rendered = " ".join(m.value for m in at.markdown)
    assert "evil.example" not in rendered  # never Markdown: no link in the app's own words
    assert "ts_step" not in dict(at.query_params)  # the defaults are not written back


def test_a_shorter_sequence_moves_the_step_back_inside_it() -> None:
    at = at_timesteps({"ts_step": "25"})
    at.number_input(key="seq_len").set_value(10).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="ts_step").value == 10


@pytest.mark.slow
def test_the_pages_values_are_kept_while_the_learner_visits_another_page() -> None:
    """Streamlit drops a widget's state when its page is not drawn: coming back must show
    the step, series and model the learner left, in the widgets and in the URL."""
    at = at_timesteps({})
    at.slider(key="ts_step").set_value(7).run()
    at.number_input(key="ts_series").set_value(4).run()
    at.switch_page(HOME).run()
    assert "ts_step" not in dict(at.query_params)  # another page: not its values
    at.switch_page(TIMESTEPS).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="ts_step").value == 7
    assert at.number_input(key="ts_series").value == 4
    params = dict(at.query_params)
    assert params["ts_step"] == "7" and params["ts_series"] == "4"
    at.slider(key="ts_step").set_value(30).run()  # back at its default: nothing kept
    at.switch_page(HOME).run()
    at.number_input(key="seq_len").set_value(40).run()  # the default step moves with T
    at.switch_page(TIMESTEPS).run()
    assert at.slider(key="ts_step").value == 40
    assert at.number_input(key="ts_series").value == 4
