"""Runs that involve a weights file or an uploaded series: a run that continues training a
saved model (JobSpec.init), a loaded model kept as a finished run (LocalRunner.adopt), and a
run on an uploaded CSV file; each computes what a direct computation gives."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.data import CsvConfig, SineConfig, load, read_upload, settings_of
from lstmae_demo.jobs import DONE, FIFO, JobSpec, JobSpecError, LocalRunner, validate_job
from lstmae_demo.spec import ModelSpec
from lstmae_demo.training import Epoch, TrainConfig, fit
from lstmae_demo.weights import build_loaded, load_into, read_file, save

T = 10
MODEL = ModelSpec(arch="repeatvector", seq_len=T, units=8)
DATA = SineConfig(n_series=32, n_val=8, seq_len=T, seed=3)
SHORT = TrainConfig(epochs=2, batch_size=16, threads=1)
GOOD_CSV = Path(__file__).resolve().parents[1] / "data" / "bad_csv" / "good.csv"


@pytest.fixture
def runner():
    made = LocalRunner(slots=1, policy=FIFO, grace_seconds=0.0, check_seconds=None)
    yield made
    for run_id in list(made._runs):
        made.stop(run_id)


def saved(seed: int = 11) -> tuple[bytes, torch.nn.Module]:
    model = build_model(MODEL, seed=seed)
    return save(model, data={"source": "sine"}, losses={"train": [0.3, 0.2]}), model


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_with_init_continues_from_the_files_weights(runner):
    raw, _ = saved()
    file, _ = read_file(raw, "start.safetensors")
    handle = runner.submit(JobSpec(model=MODEL, data=DATA, train=SHORT, init=file))
    assert handle.wait(60) and handle.snapshot().finished.reason == "completed"
    # By hand: the file's weights (not the seed's), trained on the same data and settings.
    model = build_model(MODEL, seed=SHORT.seed)
    load_into(model, raw)
    data, epochs = load(DATA), []
    fit(model, data.train, data.val, SHORT,
        on_event=lambda e: epochs.append(e) if isinstance(e, Epoch) else None)
    assert handle.snapshot().train_losses == tuple(e.train_loss for e in epochs)
    assert same(handle.state_dict(), model.state_dict())
    fresh = runner.submit(JobSpec(model=MODEL, data=DATA, train=SHORT))
    assert not fresh.joined  # starting from a file is another run than starting from a seed
    assert fresh.wait(60) and not same(fresh.state_dict(), handle.state_dict())


def test_the_same_file_and_settings_join_and_another_file_does_not(runner):
    first = runner.submit(JobSpec(MODEL, DATA, SHORT, init=read_file(saved(11)[0], "a")[0]))
    again = runner.submit(JobSpec(MODEL, DATA, SHORT, init=read_file(saved(11)[0], "b")[0]))
    other = runner.submit(JobSpec(MODEL, DATA, SHORT, init=read_file(saved(12)[0], "a")[0]))
    assert again.joined and again.run_id == first.run_id
    assert not other.joined and other.run_id != first.run_id


def test_init_must_hold_the_models_weights():
    raw = save(build_model(replace(MODEL, units=9), seed=0))
    with pytest.raises(JobSpecError, match="units: file 9, current 8"):
        validate_job(JobSpec(MODEL, DATA, SHORT, init=read_file(raw)[0]))
    file, other = read_file(saved(11)[0])[0], read_file(saved(12)[0])[0]
    with pytest.raises(JobSpecError, match="contents do not match their SHA-256"):
        validate_job(JobSpec(MODEL, DATA, SHORT, init=replace(file, raw=other.raw)))
    with pytest.raises(JobSpecError, match="must be a WeightsFile"):
        validate_job(JobSpec(MODEL, DATA, SHORT, init=b"weights"))


def test_an_adopted_model_is_a_finished_run_found_by_id_and_never_joined(runner):
    raw, original = saved()
    _, loaded = read_file(raw)
    losses = {"train": [0.5, 0.25], "val": [0.6, math.nan], "val_mse": [0.6, 0.3]}
    handle = runner.adopt(JobSpec(MODEL, DATA, replace(SHORT, epochs=2)), build_loaded(loaded),
                          losses, message="from a file")
    view = handle.snapshot()
    assert view.status == DONE and view.finished.reason == "loaded"
    assert view.finished.message == "from a file" and view.epoch == 2
    assert view.train_losses == (0.5, 0.25) and view.val_mses == (0.6, 0.3)
    assert math.isnan(view.val_losses[1]) and view.finished.val_mse == 0.3
    assert same(handle.state_dict(), original.state_dict())
    assert handle.wait(1)  # its thread has nothing to do
    assert same(runner.attach(handle.run_id).model().state_dict(), original.state_dict())
    trained = runner.submit(JobSpec(MODEL, DATA, replace(SHORT, epochs=2)))
    assert not trained.joined and trained.run_id != handle.run_id  # trains for itself
    assert runner.counts() in ((1, 0), (0, 0))  # the adopted run took no slot


def test_a_run_on_an_uploaded_file_trains_on_its_windows(runner):
    file = read_upload(GOOD_CSV.read_bytes(), "good.csv")
    spec = replace(MODEL, n_features=2)
    data_cfg = CsvConfig(file, seq_len=T, stride=5)
    handle = runner.submit(JobSpec(spec, data_cfg, SHORT))
    assert handle.wait(60)
    view = handle.snapshot()
    data = load(data_cfg)
    assert view.started.n_train == len(data.train) and view.started.n_val == len(data.val)
    model = build_model(spec, seed=SHORT.seed)
    fit(model, data.train, data.val, SHORT)
    assert same(handle.state_dict(), model.state_dict())
    # What a weights file records of this data: the file by name and hash, not its bytes.
    recorded = settings_of(handle.job.data)
    assert recorded["sha256"] == file.sha256 and recorded["columns"] == ["a", "b"]
