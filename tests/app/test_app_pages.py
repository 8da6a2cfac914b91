"""AppTest: every page renders at defaults and other settings; the URL round-trips; training."""

from __future__ import annotations

import json
import time

import pytest
from apptest_helpers import PAGES, loss_chart, n_values, open_app, sampled
from streamlit.testing.v1 import AppTest

from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ARCHS, preset


def table_rows(at: AppTest) -> list[dict]:
    """The layer table of the Architecture page, as records."""
    frame = at.dataframe[0].value
    return frame.to_dict("records")


@pytest.mark.parametrize("page_path", PAGES)
def test_every_page_renders_at_defaults(page_path: str) -> None:
    at = open_app(page=page_path)
    assert at.title, f"{page_path} has no title"


@pytest.mark.parametrize("arch", sampled(ARCHS))
@pytest.mark.parametrize("page_path", PAGES)
def test_every_page_renders_for_every_architecture(arch: str, page_path: str) -> None:
    params = {"arch": arch, "seq_len": "12", "units": "6", "activation": "relu"}
    if arch != "embedding":
        params["n_features"] = "2"
    open_app(params, page_path)


def test_changing_the_preset_changes_the_table() -> None:
    at = open_app(page="pages/architecture/page.py")
    before = table_rows(at)
    expected = [r.name for r in trace(preset("repeatvector")).layers]
    assert [r["layer"].split("  ")[0] for r in before] == expected
    at.selectbox(key="arch").set_value("hidden_n").run()
    after = table_rows(at)
    assert after != before
    assert [r["layer"].split("  ")[0] for r in after] == [
        "input", "encoder LSTM 1", "encoder LSTM 2", "RepeatVector", "decoder LSTM 1",
        "decoder LSTM 2", "output Linear"]
    assert at.query_params["arch"] == "hidden_n"


def test_knob_change_updates_shapes_and_url() -> None:
    at = open_app(page="pages/architecture/page.py")
    at.number_input(key="units").set_value(48).run()
    rows = table_rows(at)
    encoder = next(r for r in rows if r["layer"].startswith("encoder LSTM"))
    assert encoder["output shape"] == "(32, 48)"
    assert at.query_params["units"] == "48"


def test_shared_url_restores_the_same_state() -> None:
    params = {"arch": "encdec_ad", "units": "20", "seq_len": "30", "decoder": "unconditioned",
              "noise": "0.05", "epochs": "7", "lr": "0.003"}
    at = open_app(params, "pages/architecture/page.py")
    for key, value in params.items():
        assert str(at.session_state[key]) == value
    assert not at.warning or all("not valid" not in w.value for w in at.warning)
    rows = table_rows(at)
    assert next(r for r in rows if r["layer"] == "decoder LSTM")["output shape"] == "(32, 30, 20)"


@pytest.mark.parametrize(("params", "field"), sampled(
    [({"units": "99999"}, "units"), ({"arch": "gru"}, "arch"), ({"seq_len": "abc"}, "seq_len"),
     ({"lr": "7"}, "lr"), ({"noise": "-1"}, "noise")], several=True))
def test_bad_url_values_fall_back_with_a_visible_note(params: dict, field: str) -> None:
    at = open_app(params, "pages/architecture/page.py")
    defaults = open_app(page="pages/architecture/page.py")
    assert at.session_state[field] == defaults.session_state[field]
    assert any("not valid" in w.value for w in at.warning)
    assert any(field in t.value for t in at.text)


def test_two_epoch_training_run_draws_curves_and_reconstructions() -> None:
    at = open_app({"epochs": "2", "n_series": "32", "seq_len": "16"}, "pages/train/page.py")
    at.button(key="train_button").click().run()
    run = at.session_state["_training_run"]
    assert run.job.wait(timeout=60)
    at.run()  # the page after the run (the fragment's timer never fires under AppTest)
    assert not at.exception
    charts = at.get("plotly_chart")
    specs = [json.loads(c.proto.spec) for c in charts]
    losses = loss_chart(at)
    assert [len(t["y"]) for t in losses["data"]] == [2, 2]  # train and validation, 2 epochs
    recon = [s for s in specs if any(t.get("name") == "reconstruction" for t in s["data"])]
    assert recon, "no reconstruction chart"
    assert any("Done" in s.value for s in at.success)
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Losses (CSV)", "Weights (.safetensors)", "Spec (JSON)"]


def test_before_a_run_the_train_page_draws_empty_curves_and_the_validation_series() -> None:
    at = open_app({"seq_len": "16", "epochs": "7"}, "pages/train/page.py")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    losses = loss_chart(at)
    assert [len(t["y"]) for t in losses["data"]] == [0, 0]
    assert losses["layout"]["xaxis"]["range"] == [0.5, 7.5]  # room for the 7 epochs to come
    assert losses["layout"]["yaxis"]["showticklabels"] is False  # no made-up loss scale
    assert "appear here" in losses["layout"]["annotations"][0]["text"]
    series = next(s for s in specs if any(t.get("name") == "input" for t in s["data"]))
    assert len(series["data"]) == 4 and all(n_values(t["y"]) == 16 for t in series["data"])
    assert not any(t.get("name") == "reconstruction" for t in series["data"])


def test_the_train_click_draws_the_first_epoch_in_its_own_rerun(monkeypatch) -> None:
    from lstmae_demo.ui import training

    # An epoch of ~0.5 s, far longer than the click's rerun would take without the wait,
    # and a wait long enough for the slowest CI machine.
    monkeypatch.setattr(training, "FIRST_EPOCH_WAIT_S", 60.0)
    at = open_app({"epochs": "300", "n_series": "1024", "seq_len": "100", "units": "64"},
                  "pages/train/page.py")
    at.button(key="train_button").click().run()  # no fragment polling under AppTest
    job = at.session_state["_training_run"].job
    losses = loss_chart(at)
    assert len(losses["data"][0]["y"]) >= 1, "the click's rerun drew no loss point"
    job.stop()
    assert job.wait(10)


@pytest.mark.slow
def test_changing_the_model_stops_a_running_job() -> None:
    at = open_app({"epochs": "300", "n_series": "64"}, "pages/train/page.py")
    at.button(key="train_button").click().run()
    job = at.session_state["_training_run"].job
    time.sleep(0.5)
    at.number_input(key="units").set_value(16).run()
    assert job.wait(timeout=10)
    assert job.snapshot().finished.reason == "cancelled"
    assert any("settings changed" in i.value for i in at.info)


def test_a_run_over_the_server_budget_is_refused_with_the_limit() -> None:
    at = open_app({"epochs": "300", "n_series": "2048", "seq_len": "200", "units": "256"},
                  "pages/train/page.py")
    assert at.button(key="train_button").disabled
    assert any("limit is" in e.value for e in at.error)


def test_swapped_frequencies_are_explained_not_hidden() -> None:
    at = open_app({"freq_min": "4", "freq_max": "2", "seq_len": "8"}, "pages/train/page.py")
    notes = " ".join(i.value for i in at.info)
    assert "swapped" in notes and "capped" in notes
    assert "frequencies 2–3.2 cycles per window" in at.markdown[0].value  # 0.4 x 8 steps


def test_the_page_registry_and_the_pages_folder_agree() -> None:
    """registry.PAGES (app.py's navigation, the watch link's base URL, the lessons' titles)
    names exactly the scripts in pages/: a page left out of it is unreachable, and its watch
    link would point under it."""
    from pathlib import Path

    from lstmae_demo.ui import registry

    root = Path(__file__).resolve().parents[2]
    on_disk = {p.parent.name for p in (root / "pages").glob("*/page.py")}
    assert {p.name for p in registry.PAGES} == on_disk
    assert all((root / registry.script(p.name)).is_file() for p in registry.PAGES)
    assert registry.HOME not in registry.PAGE_PATHS and len(registry.PAGE_PATHS) == len(on_disk) - 1
