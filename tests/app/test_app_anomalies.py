"""AppTest: the Anomalies page. It trains through the shared runner on normal series only, its
numbers are the anomaly lab's on the run's own model, the threshold slider moves them, its
choices round-trip through the URL, and forged or bad values fall back with a note in text.

Each test trains with its own seed, so no test joins another's run by accident."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from apptest_helpers import ANOMALIES, APP, TIMESTEPS, TRAIN
from streamlit.testing.v1 import AppTest
from test_app_forged import put, send

from lstmae_demo.anomaly import lab
from lstmae_demo.config import AppConfig
from lstmae_demo.data import make_bundled
from lstmae_demo.settings import parse_params

SHORT = {"arch": "encdec_ad", "epochs": "3", "n_series": "32", "seq_len": "16", "units": "8"}


def open_app(params: dict[str, str], page: str = ANOMALIES) -> AppTest:
    """The app opened on `page` with these URL parameters (the first run is Home, as in every
    AppTest; its sidebar keeps only the knobs and the run, so the page's own values are put
    back before switching, as a deep link's first run has them)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.run()
    at.query_params.update({k: v for k, v in params.items() if k.startswith("an_")})
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def trained(params: dict[str, str]) -> AppTest:
    """A session on the Anomalies page that pressed Train and waited for the lab's numbers."""
    at = open_app(params, ANOMALIES)
    at.button(key="an_train").click().run()
    deadline = time.monotonic() + 120
    while not any(m.label == "precision" for m in at.metric):
        assert time.monotonic() < deadline, "the run did not finish in 120 s"
        assert not at.exception, [e.value for e in at.exception]
        time.sleep(0.3)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected(at: AppTest, params: dict[str, str]) -> lab.LabResult:
    """The lab's result computed here from the session's run model and the link's choices."""
    run = at.session_state["_training_run"]
    config = AppConfig(parse_params(params)[0])
    raw = {name: params.get(lab.PARAMS[name]) for name in lab.PARAMS}
    choice, _ = lab.parse_choice(raw, config.spec.seq_len)
    data = lab.data_config(choice.data, config.sine)
    assert run.job.job.data == data  # trained on exactly these normal series
    sets = lab.build_sets(data, choice, config.values["seed"])
    return lab.analyse(run.job.model(), sets, choice.beta, choice.unit)


def test_the_page_suggests_the_papers_model_and_switches_to_it() -> None:
    at = open_app({}, ANOMALIES)
    assert at.title[0].value == "Anomalies"
    at.button(key="an_use_paper").click().run()
    assert at.selectbox(key="arch").value == "encdec_ad"
    assert at.query_params["arch"] == "encdec_ad"
    assert not any(b.key == "an_use_paper" for b in at.button)


@pytest.mark.slow
def test_the_numbers_are_the_labs_on_the_runs_model_and_the_slider_moves_them() -> None:
    params = SHORT | {"seed": "201", "an_kind": "spike", "an_size": "1.5", "an_start": "3",
                      "an_width": "4"}
    at = trained(params)
    result = expected(at, params)
    best = result.on_test(result.best.tau)
    assert metric(at, "precision") == f"{best.precision:.3f}"
    assert metric(at, "recall") == f"{best.recall:.3f}"
    assert metric(at, "true positives") == str(best.tp)
    assert metric(at, "true negatives") == str(best.tn)
    slider = at.slider(key="an_log_tau")
    slider.set_value(slider.min).run()
    moved = result.on_test(10 ** slider.min)
    assert metric(at, "false positives") == str(moved.fp)
    assert metric(at, "recall") == f"{moved.recall:.3f}"
    assert moved.fp != best.fp or moved.tp != best.tp  # the lowest tau flags more
    at.button(key="an_reset_tau").click().run()
    assert metric(at, "true positives") == str(best.tp)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(specs) == 3
    names = [t.get("name", "") for t in specs[2]["data"]]
    assert any(n.startswith("τ = ") for n in names)
    assert specs[1]["layout"]["shapes"], "the injected window is shaded"


def test_the_bundled_set_is_scored_on_its_labelled_file() -> None:
    params = SHORT | {"seed": "202", "an_data": "nab_jumpsup"}
    at = trained(params)
    result = expected(at, params)
    assert result.sets.labelled
    best = result.on_test(result.best.tau)
    assert metric(at, "false negatives") == str(best.fn)
    series = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert len(series["layout"]["shapes"]) == 1  # NAB's one labelled window
    assert at.query_params["an_data"] == "nab_jumpsup"
    assert all(n.key != "an_series" for n in at.number_input)
    assert metric(at, "ratio anomalous / normal") == f"{result.errors.ratio:.2f}"


def test_the_copying_design_says_what_its_numbers_show() -> None:
    params = {"arch": "embedding", "reads": "steps", "epochs": "3", "n_series": "32",
              "seq_len": "16", "units": "8", "seed": "203", "an_kind": "frequency_change",
              "an_size": "2", "an_start": "0", "an_width": "16"}
    at = trained(params)
    result = expected(at, params)
    box = next(m.value for m in at.markdown if "This design can copy" in m.value)
    assert lab.copy_verdict(result.errors) in box
    assert f"{result.errors.ratio:.2f}" in box


def test_the_links_choices_are_taken_and_bad_ones_fall_back_with_a_note() -> None:
    at = open_app({"an_kind": "noise_burst", "an_size": "0.3", "an_beta": "0.5",
                   "an_unit": "series", "an_width": "<b>x</b>"}, ANOMALIES)
    assert at.selectbox(key="an_kind").value == "noise_burst"
    assert at.number_input(key="an_size").value == 0.3
    assert at.number_input(key="an_beta").value == 0.5
    assert at.radio(key="an_unit").value == "series"
    assert at.slider(key="an_width").value == lab.LabChoice().width
    notes = [t.value for t in at.text]
    assert any(n.startswith("From the link: width must be") and "<b>x</b>" in n for n in notes)
    assert not any("<b>" in m.value for m in at.markdown)
    assert at.query_params["an_kind"] == "noise_burst" and "an_width" not in at.query_params
    at.switch_page("pages/home/page.py").run()
    assert "an_kind" not in at.query_params  # the page's choices leave the URL with it


def test_the_choice_is_kept_while_the_learner_visits_another_page() -> None:
    """Streamlit drops a widget's state when its page is not drawn: back here, the choice
    the learner made is in the widgets and in the URL again."""
    at = open_app({}, ANOMALIES)
    at.selectbox(key="an_kind").set_value("spike").run()
    at.radio(key="an_unit").set_value("series").run()
    at.switch_page(TIMESTEPS).run()
    assert "an_kind" not in at.query_params
    at.switch_page(ANOMALIES).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="an_kind").value == "spike"
    assert at.radio(key="an_unit").value == "series"
    assert at.query_params["an_kind"] == "spike" and at.query_params["an_unit"] == "series"


@pytest.mark.parametrize("key, forge", [
    ("an_beta", put("double_value", 0.0)),  # below the allowed range
    ("an_beta", put("string_value", "x")),  # the wrong kind of value
    ("an_kind", put("string_value", "earthquake")),
    ("an_size", put("double_value", 1e9)),
])
def test_a_forged_value_is_refused_and_the_page_survives(key: str, forge) -> None:
    at = open_app({}, ANOMALIES)
    before = {k: at.session_state[k] for k in ("an_beta", "an_kind", "an_size")}
    at = send(at, key, forge)
    assert not at.exception, [e.value for e in at.exception]
    assert {k: at.session_state[k] for k in before} == before


@pytest.mark.slow
def test_a_bundled_run_shows_on_the_train_page_and_is_not_time_steps_sine_model() -> None:
    params = SHORT | {"seed": "204", "an_data": "nab_jumpsup"}
    at = trained(params)
    run = at.session_state["_training_run"]
    at.switch_page(TRAIN).run()
    assert not at.exception, [e.value for e in at.exception]
    recon = json.loads(at.get("plotly_chart")[1].proto.spec)
    windows = make_bundled(run.job.job.data).val
    first = recon["data"][0]["y"]
    values = first if isinstance(first, list) else np.frombuffer(
        base64.b64decode(first["bdata"]), dtype=first["dtype"])
    np.testing.assert_allclose(values, windows[0, :, 0], rtol=1e-6)  # the NAB windows
    at.switch_page(TIMESTEPS).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="ts_model").value == "untrained"


@pytest.mark.slow
def test_a_reload_of_a_bundled_runs_link_gets_the_same_run_and_numbers() -> None:
    params = SHORT | {"seed": "205", "an_data": "nab_jumpsup"}
    first = trained(params)
    run_id = first.session_state["_training_run"].run_id
    again = open_app(dict(first.query_params), ANOMALIES)  # the address bar, in a new session
    assert not again.exception, [e.value for e in again.exception]
    assert again.session_state["_training_run"].run_id == run_id
    for label in ("precision", "recall", "true positives", "false negatives"):
        assert metric(again, label) == metric(first, label)
