"""AppTest: the Latent space page, without a model, training from the page through the shared
runner, and with a trained model of every architecture and choice; its numbers against the
core run on the run's own model; the chart's selection, forged ones included."""

from __future__ import annotations

import numpy as np
import pytest
from apptest_helpers import LATENT, TRAIN, chart_specs, n_values, open_app, page_text, sampled
from streamlit.testing.v1 import AppTest
from test_app_every_model import IDS, MODELS

from lstmae_demo import latent
from lstmae_demo.data import make_sine
from lstmae_demo.jobs import shared_runner
from lstmae_demo.shapes.trace import trace
from lstmae_demo.ui.training import Run, job_spec

TINY = {"epochs": "2", "n_series": "16", "seq_len": "12", "units": "6"}


def run_of(at: AppTest) -> Run:
    return at.session_state["_training_run"]


def trained_here(params: dict[str, str]) -> AppTest:
    """A session on the Latent space page that pressed its Train and waited for the end."""
    at = open_app(params, LATENT)
    at.button(key="latent_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert run_of(at).job.wait(120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart(at: AppTest, key: str) -> dict:
    index = [c.key for c in at.get("plotly_chart")].index(key)
    return chart_specs(at)[index]


def trace_named(spec: dict, prefix: str) -> dict:
    return next(t for t in spec["data"] if t.get("name", "").startswith(prefix))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_without_a_trained_model_the_page_says_so_and_offers_train() -> None:
    at = open_app(page=LATENT)
    assert "no trained model for the sidebar's settings" in page_text(at)
    assert not at.button(key="latent_train").disabled
    assert at.button(key="latent_stop").disabled
    assert "the encoder LSTM's last output: 32 numbers per series" in page_text(at)
    assert not at.get("plotly_chart")


def test_train_on_this_page_is_the_shared_runners_run_the_train_page_shows() -> None:
    at = open_app({"epochs": "300", "n_series": "64", "seed": "201"}, LATENT)
    at.button(key="latent_train").click().run()
    run = run_of(at)
    wanted = job_spec(at.session_state["_config"])  # the runner fills in its thread count
    assert (run.job.job.model, run.job.job.data) == (wanted.model, wanted.data)
    assert run.job.job.train.epochs == wanted.train.epochs == 300
    assert shared_runner().get(run.run_id) is not None
    assert "This model is training" in page_text(at)
    assert at.button(key="latent_train").disabled and not at.button(key="latent_stop").disabled
    at.switch_page(TRAIN).run()
    assert run_of(at).run_id == run.run_id  # the Train page follows the same run
    at.switch_page(LATENT).run()
    at.button(key="latent_stop").click().run()
    assert run.job.wait(60)


@pytest.mark.parametrize("params", sampled(MODELS, IDS))
def test_a_trained_model_of_every_architecture_and_choice(params: dict[str, str]) -> None:
    at = trained_here(params | TINY | {"seed": "202"})
    run = run_of(at)
    model, data = run.job.model(), make_sine(run.job.job.data)
    codes = latent.encode(model, data.val)
    spec = run.spec
    assert metric(at, "numbers in each code") == f"{trace(spec, 1).code.per_example:,}"
    assert metric(at, "validation series") == str(len(data.val))
    assert metric(at, "variance on the two axes") == f"{100 * latent.pca_2d(codes).share:.1f}%"
    scatter = chart(at, "latent_scatter")
    dots = scatter["data"][0]
    assert n_values(dots["x"]) == len(data.val) == n_values(dots["customdata"])
    morph = chart(at, "latent_morph")
    assert len([t for t in morph["data"] if t["name"].startswith("decoded at")]) == 11
    grows = not trace(spec, 1).code.fixed_size
    assert any("grows with T" in i.value for i in at.info) == grows


def test_the_frequency_check_shows_the_runs_own_numbers() -> None:
    at = trained_here({"epochs": "3", "n_series": "32", "seed": "203"})
    run = run_of(at)
    data = make_sine(run.job.job.data)
    nb = latent.neighbourhood(latent.encode(run.job.model(), data.val), data.val_params["freq"])
    text = page_text(at)
    assert f"frequency difference {nb.rho:+.2f}" in text
    assert f"by {nb.nearest_gap:.2f} cycles per window on average" in text
    assert ("Series of similar frequency land near each other" in text) == (nb.verdict == "near")
    assert "After 3 epochs" in text or nb.verdict == "near"


def test_a_selection_picks_a_and_b_and_forged_ones_are_ignored() -> None:
    at = trained_here(TINY | {"seed": "204"})
    n = len(make_sine(run_of(at).job.job.data).val)
    a, b = at.selectbox(key="latent_a").value, at.selectbox(key="latent_b").value
    forged = [{"curve_number": 0, "customdata": "3"}, {"curve_number": 0, "customdata": n},
              {"curve_number": 0, "customdata": -1}, {"curve_number": 0, "customdata": True},
              {"curve_number": 2, "customdata": 1}, {"customdata": 1}, "x", None]
    at.session_state["latent_scatter"] = {"selection": {"points": forged}}
    at.run()
    assert not at.exception
    assert (at.selectbox(key="latent_a").value, at.selectbox(key="latent_b").value) == (a, b)
    at.session_state["latent_scatter"] = {"selection": {"points": [
        {"curve_number": 0, "customdata": 3}, {"curve_number": 0, "customdata": [5]},
        {"curve_number": 0, "customdata": 7}]}}
    at.run()
    assert (at.selectbox(key="latent_a").value, at.selectbox(key="latent_b").value) == (3, 5)
    panels = chart(at, "latent_selected")["layout"]["annotations"]
    assert [p["text"] for p in panels] == ["series 4", "series 6", "series 8"]
    scatter = chart(at, "latent_scatter")
    assert trace_named(scatter, "A: series 4") and trace_named(scatter, "B: series 6")


def test_the_slider_moves_the_decoded_point_from_a_to_b() -> None:
    at = trained_here(TINY | {"seed": "205"})
    for position, end in ((0.0, "A: series"), (1.0, "B: series")):
        at.slider(key="latent_position").set_value(position).run()
        scatter = chart(at, "latent_scatter")
        star, marker = trace_named(scatter, "decoded below"), trace_named(scatter, end)
        assert np.allclose([star["x"][0], star["y"][0]], [marker["x"][0], marker["y"][0]],
                           atol=1e-4)
    bold = [t for t in chart(at, "latent_morph")["data"] if t.get("showlegend") is not False
            and t["name"].startswith("decoded at")]
    assert [t["name"].split(":")[0] for t in bold] == ["decoded at 1.0"]


def test_when_every_series_has_one_frequency_it_is_not_a_colour_and_a_b_differ() -> None:
    # At T = 2 the frequencies are capped at 0.8 cycles: every series has the same one.
    at = trained_here({"arch": "encdec_ad", "seq_len": "2", "epochs": "2", "n_series": "16",
                       "units": "4", "seed": "206"})
    assert "frequency" not in at.radio(key="latent_colour").options
    assert "Not offered as a colour: the frequency, the same (0.8) for every series here." in page_text(at)
    assert at.selectbox(key="latent_a").value != at.selectbox(key="latent_b").value
    assert "A and B are the same series" not in page_text(at)
