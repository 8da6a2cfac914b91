"""The data choice and the files a learner brings (issue #12): the sidebar's Data source trains
every run on it, a CSV upload becomes the data (a bad one is refused with its message and
nothing changes), a weights file loads as the session's trained model or is refused with its
message, and the weights download holds what the run did.

The runner is one per process, so each training test uses its own seed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from apptest_helpers import TIMESTEPS, TRAIN, config_values, open_app, page_text, sampled
from streamlit.testing.v1 import AppTest

from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import BundledConfig, CsvConfig, load, settings_of
from lstmae_demo.jobs import shared_runner
from lstmae_demo.spec import ModelSpec
from lstmae_demo.ui.live import weights_file
from lstmae_demo.weights import load as load_weights
from lstmae_demo.weights import save

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA / "bad_csv"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_upload import EXPECTED as CSV_EXPECTED  # noqa: E402
from test_upload import corpus_file  # noqa: E402
from test_weights import EXPECTED as WEIGHTS_EXPECTED  # noqa: E402

SHORT = {"epochs": "2", "seq_len": "20", "units": "8", "stride": "10"}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.exception]


def run_of(at: AppTest):
    return at.session_state["_training_run"]


def upload(at: AppTest, prefix: str, name: str, raw: bytes) -> AppTest:
    """Choose a file in the uploader whose key starts with `prefix` (csv_file, weights_file)."""
    widget = next(u for u in at.get("file_uploader") if u.key.startswith(prefix))
    widget.set_value((name, raw, "application/octet-stream"))
    at.run()
    assert not errors(at), errors(at)
    return at


def good_csv() -> bytes:
    return (DATA / "bad_csv" / "good.csv").read_bytes()


def finish(at: AppTest) -> None:
    assert run_of(at).job.wait(120)
    at.run()


@pytest.mark.slow
def test_the_sidebar_data_choice_trains_on_the_bundled_series() -> None:
    at = open_app(SHORT | {"seed": "301", "n_features": "3"}, TRAIN)
    at.radio(key="data").set_value("nab_jumpsup").run()
    assert not errors(at)
    values = config_values(at)
    assert values["data"] == "nab_jumpsup" and at.query_params["data"] == "nab_jumpsup"
    assert values["n_features"] == 1  # the series has one value per step
    assert any("Features per step (F) set to 1" in i.value for i in at.sidebar.info)
    for name in ("n_series", "freq_min", "freq_max", "noise"):
        widget = next(w for w in at.sidebar.get("number_input") + at.sidebar.get("slider")
                      if w.key == name)
        assert widget.disabled, name
    assert any("Not used with NAB art_daily (real)" in c.value for c in at.sidebar.caption)
    config = AppConfig(values)
    n_train = len(load(config.data).train)
    assert f"**{n_train} windows** of 20 steps cut every 10 rows" in page_text(at)
    at.button(key="train_button").click().run()
    assert not errors(at)
    job = run_of(at).job.job
    assert job.data == BundledConfig(name="nab_jumpsup", seq_len=20, stride=10)
    finish(at)
    assert run_of(at).job.snapshot().started.n_train == n_train
    at.switch_page(TIMESTEPS).run()
    assert not errors(at)
    assert at.radio(key="ts_model").value.startswith("trained")


def test_a_link_with_data_opens_it_and_csv_without_a_file_says_what_to_do() -> None:
    at = open_app({"data": "nab_jumpsup"}, TRAIN)
    assert config_values(at)["data"] == "nab_jumpsup"
    at = open_app({"data": "csv"}, TRAIN)
    text = page_text(at)
    assert "no CSV file has been uploaded in this session" in text
    assert "a file cannot travel in a link" in text
    assert not [b for b in at.button if b.key == "train_button"]  # nothing to train on
    at = open_app({"data": "mnist"}, TRAIN)
    assert config_values(at)["data"] == "sine"
    assert any("data must be one of sine, nab_jumpsup, csv" in t.value for t in at.text)


def test_a_good_csv_upload_becomes_the_data_of_the_next_run() -> None:
    at = open_app(SHORT | {"seed": "302"}, TRAIN)
    upload(at, "csv_file", "good.csv", good_csv())
    values = config_values(at)
    assert values["data"] == "csv" and values["n_features"] == 2
    upload_file = at.session_state["_config"].upload
    assert (upload_file.columns, upload_file.n_rows) == (("a", "b"), 300)
    data = load(CsvConfig(upload_file, seq_len=20, stride=10))
    text = page_text(at)
    assert f"**{len(data.train)} windows** of 20 steps cut every 10 rows" in text
    assert "good.csv: 300 rows; text columns left out: time" in text
    assert "a link carries the settings but never the file" in text
    means = at.dataframe[0].value["training mean"].tolist()
    assert means == pytest.approx(data.mean.tolist())
    at.button(key="train_button").click().run()
    assert run_of(at).job.job.data == CsvConfig(upload_file, seq_len=20, stride=10)
    finish(at)
    assert "the address bar's link carries only the settings, never the file" in page_text(at)
    # The watch link's run carries the file: a new session opening it gets the same data.
    other = open_app({"run": run_of(at).run_id}, TRAIN)
    assert other.session_state["_config"].upload == upload_file
    assert config_values(other)["data"] == "csv"


@pytest.mark.parametrize("name", sampled(sorted(CSV_EXPECTED)))
def test_every_bad_csv_is_refused_with_its_message_and_nothing_is_lost(name) -> None:
    at = open_app(SHORT | {"seed": "303", "seq_len": "50"}, TRAIN)  # the corpus' T
    upload(at, "csv_file", "good.csv", good_csv())
    at.number_input(key="units").set_value(9).run()
    before = at.session_state["_config"]
    at.button(key="train_button").click().run()
    run = run_of(at)
    upload(at, "csv_file", name, corpus_file(name))
    assert any(e.value == "That file was not used; your settings are unchanged."
               for e in at.sidebar.error)
    shown = [t.value for t in at.sidebar.text]
    assert any(t.startswith(f"{name}: ") and CSV_EXPECTED[name] in t for t in shown), shown
    assert any(c.value.startswith("Allowed: a UTF-8 text file") for c in at.sidebar.caption)
    assert at.session_state["_config"] == before  # the settings and the previous file
    assert at.session_state["_config"].upload == before.upload
    assert run_of(at) is run and run.attached  # the run goes on
    shared_runner().stop(run.run_id)


def model_file(spec: ModelSpec, seed: int = 3, epochs: int = 2) -> bytes:
    losses = [0.5 / (i + 1) for i in range(epochs)]
    return save(build_model(spec, seed=seed), data={"source": "sine"},
                losses={"train": losses, "val": losses, "val_mse": losses})


@pytest.mark.slow
def test_a_weights_file_loads_as_the_trained_model_and_can_be_trained_further() -> None:
    spec = ModelSpec(arch="hidden_n", seq_len=24, units=6)
    raw = model_file(spec)
    at = open_app({"epochs": "2", "seed": "304"}, TIMESTEPS)
    upload(at, "weights_file", "mine.safetensors", raw)
    values = config_values(at)
    assert (values["arch"], values["seq_len"], values["units"]) == ("hidden_n", 24, 6)
    assert any("arch: file hidden_n, before repeatvector" in t.value for t in at.text)
    assert at.radio(key="ts_model").value.startswith("trained")
    run = run_of(at)
    model = run.job.model()
    expected = build_model(spec, seed=3)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.state_dict().items())
    at.switch_page(TRAIN).run()
    assert not errors(at)
    assert any("A model loaded from a file: trained elsewhere for 2 epoch(s)" in s.value
               for s in at.success)
    at.button(key="continue_button").click().run()
    continued = run_of(at)
    assert continued.run_id != run.run_id and continued.job.job.init is not None
    finish(at)
    assert continued.job.snapshot().finished.reason == "completed"


def test_a_weights_file_puts_its_data_and_training_settings_in_the_sidebar() -> None:
    """The sidebar shows how the file's model was trained (as the app saves it: the data's
    and the training's settings), not the settings it had before; a recorded value outside
    the server's limits is left out with a note."""
    spec = ModelSpec(arch="repeatvector", seq_len=30, units=8)
    config = AppConfig(values=defaults() | {"seq_len": 30, "units": 8, "n_series": 64,
                                                     "noise": 0.05, "seed": 7, "epochs": 9,
                                                     "batch_size": 32, "lr": "0.01"})
    training = config.train.to_dict() | {"batch_size": 99999}  # beyond the server's limit
    raw = save(build_model(spec, seed=1), data=settings_of(config.data), training=training,
               losses={"train": [0.4], "val": [0.4], "val_mse": [0.4]})
    at = open_app({"epochs": "2", "seed": "306", "data": "nab_jumpsup"}, TIMESTEPS)
    upload(at, "weights_file", "trained.safetensors", raw)
    values = config_values(at)
    assert {k: values[k] for k in ("data", "n_series", "noise", "seed", "epochs", "lr")} == {
        "data": "sine", "n_series": 64, "noise": 0.05, "seed": 7, "epochs": 9, "lr": "0.01"}
    assert values["batch_size"] == 16  # the sidebar's, kept
    note = next(t.value for t in at.text if t.value.startswith("Loaded trained.safetensors"))
    assert "epochs: file 9, before 2" in note and "seed: file 7, before 306" in note
    assert "batch_size must be between 1 and 512" in note and "sidebar's batch_size is kept" in note
    assert run_of(at).job.job.data == config.data


@pytest.mark.parametrize("name", sampled(sorted(set(WEIGHTS_EXPECTED) - {
    "other_arch.safetensors", "other_size.safetensors"})))
def test_every_bad_weights_file_is_refused_with_its_message_and_the_model_is_kept(name):
    at = open_app({"epochs": "2", "seed": "305", "units": "7"}, TIMESTEPS)
    upload(at, "weights_file", "good.safetensors", model_file(ModelSpec(units=7, seq_len=50)))
    before, run = at.session_state["_config"], run_of(at)
    upload(at, "weights_file", name, (DATA / "bad_weights" / name).read_bytes())
    assert any(e.value.startswith("That model was not loaded") for e in at.error)
    shown = [t.value for t in at.text]
    assert any(t.startswith(f"{name}: ") and WEIGHTS_EXPECTED[name] in t for t in shown), shown
    assert at.session_state["_config"] == before and run_of(at) is run
    assert at.radio(key="ts_model").value.startswith("trained")


def test_a_file_over_the_upload_limit_is_refused_unread() -> None:
    at = open_app({}, TIMESTEPS)
    upload(at, "weights_file", "huge.safetensors", b"\0" * (16 * 2**20 + 1))
    assert any("the file is too large" in t.value and "the limit is 16 MB" in t.value
               for t in at.text)
    assert config_values(at)["units"] == 32


@pytest.mark.slow
def test_the_weights_download_holds_the_runs_model_settings_and_losses() -> None:
    at = open_app(SHORT | {"seed": "306", "data": "nab_jumpsup"}, TRAIN)
    at.button(key="train_button").click().run()
    finish(at)
    run = run_of(at)
    view = run.job.snapshot()
    raw = weights_file(run, view)
    spec, state, metadata = load_weights(raw)
    assert spec == run.spec
    assert all(torch.equal(state[k], v) for k, v in run.job.state_dict().items())
    assert metadata["data"] == settings_of(run.job.job.data)
    assert metadata["data"]["source"] == "nab_jumpsup"
    assert metadata["training"] == run.job.job.train.to_dict()
    assert metadata["losses"]["train"] == list(view.train_losses)
    assert metadata["losses"]["val_mse"] == list(view.val_mses)
    # ... and loads back into a new session as its model.
    other = open_app({}, TIMESTEPS)
    upload(other, "weights_file", "run.safetensors", raw)
    assert run_of(other).spec == run.spec
    assert other.session_state["_config"].spec == run.spec
