"""Training runs as plain data (JobSpec) and the local runner: threads behind a fair queue."""

import gc
import os
import re
import threading
import time
from dataclasses import FrozenInstanceError, replace

import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.data import DataError, SineConfig, make_sine
from lstmae_demo.jobs import (
    DONE,
    FIFO,
    QUEUED,
    RUNNING,
    JobSpec,
    JobSpecError,
    LocalRunner,
    Runner,
    RunNotFound,
    default_slots,
    shared_runner,
    validate_job,
)
from lstmae_demo.jobs import local as local_runner
from lstmae_demo.spec import ModelSpec, SpecError
from lstmae_demo.training import Epoch, TrainConfig, TrainConfigError, fit

T = 10
MODEL = ModelSpec(arch="repeatvector", seq_len=T, units=8)
DATA = SineConfig(n_series=64, n_val=8, seq_len=T, seed=3)
SHORT = TrainConfig(epochs=3, batch_size=16)
LONG = TrainConfig(epochs=10_000, batch_size=16)  # minutes if never stopped


def job(cfg: TrainConfig = SHORT, model: ModelSpec = MODEL, data: SineConfig = DATA,
        seed: int | None = None) -> JobSpec:
    """A run; a `seed` makes it differ from every other, so it is never joined to one."""
    cfg = cfg if seed is None else replace(cfg, seed=seed)
    return JobSpec(model=model, data=data, train=cfg)


@pytest.fixture
def runner():
    """A one-slot FIFO runner whose learners let go at once (no reconnect grace) and whose
    waiting runs never call `alive`; every run still going at the end of the test is stopped."""
    made = LocalRunner(slots=1, policy=FIFO, grace_seconds=0.0, check_seconds=None)
    handles = []
    submit = made.submit

    def tracked(*args, **kwargs):
        handles.append(submit(*args, **kwargs))
        return handles[-1]

    made.submit = tracked
    yield made
    for handle in handles:
        handle.stop()
    for handle in handles:
        handle.wait(30)


class Gate:
    """An `alive` callback that holds the run's thread after the epoch `at` until released."""

    def __init__(self, at: int):
        self.at, self.epochs = at, 0
        self.reached, self.release = threading.Event(), threading.Event()

    def __call__(self) -> bool:  # called by the run's thread after every event
        self.epochs += 1
        if self.epochs == self.at + 1:  # Started, then `at` Epochs
            self.reached.set()
            self.release.wait(60)
        return True


def order_recorder(name: str, order: list):
    """An `alive` callback that appends `name` when its run has begun training (Started)."""
    def alive() -> bool:
        if name not in order:
            order.append(name)
        return True
    return alive


# --- JobSpec: a run as data -------------------------------------------------------------------


def test_a_jobspec_is_frozen_hashable_and_compares_by_value():
    a, b = job(), job()
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1  # usable as a key for sharing runs
    assert job(replace(SHORT, seed=1)) != a and a.seed == SHORT.seed
    with pytest.raises(FrozenInstanceError):
        a.train = LONG


@pytest.mark.parametrize(("bad", "error", "message"), [
    (job(replace(SHORT, epochs=0)), TrainConfigError, "epochs"),
    (job(model=replace(MODEL, units=0)), SpecError, "units"),
    (job(data=replace(DATA, noise=-1.0)), DataError, "noise"),
    (job(data=replace(DATA, seq_len=T + 2)), JobSpecError, "12 time steps x 1 features per "
                                                            "series, the model expects 10 x 1"),
    (JobSpec(model=MODEL, data={"n_series": 4}, train=SHORT), DataError, "unknown data source"),
    (JobSpec(model="repeatvector", data=DATA, train=SHORT), JobSpecError, "must be a ModelSpec"),
    (MODEL, JobSpecError, "described by a JobSpec, got ModelSpec"),
])
def test_bad_jobs_are_refused_in_the_callers_thread(runner, bad, error, message):
    with pytest.raises(error, match=message):
        validate_job(bad)
    with pytest.raises(error, match=message):
        runner.submit(bad)
    assert runner.counts() == (0, 0)  # nothing was queued


def test_submit_fills_in_the_runners_thread_count_and_keeps_an_explicit_one(runner):
    assert runner.submit(job()).job.train.threads == 1
    assert runner.submit(job(replace(SHORT, threads=1))).job.train.threads == 1
    assert runner.submit(job()).job == job(replace(SHORT, threads=1))


# --- one run ----------------------------------------------------------------------------------


def test_a_run_trains_what_its_spec_describes_and_keeps_the_model(runner):
    handle = runner.submit(job())
    assert handle.snapshot().status == RUNNING  # a free slot: admitted at once
    assert handle.wait(60)
    view = handle.snapshot()
    assert view.status == DONE and view.done and view.error is None and view.position is None
    assert view.finished.reason == "completed" and view.finished.epochs == 3
    assert view.epoch == 3 == len(view.train_losses) == len(view.val_losses) == len(view.val_mses)
    assert view.started.n_train == 64 and view.started.n_val == 8 and view.last_epoch.epoch == 3
    assert view.reconstructions.shape == (4, T, 1) and view.reconstructions_epoch == 3
    assert "Done (completed) after 3 epochs" in view.summary()
    # The same run by hand: the model and the data built from the spec, trained with fit.
    model, data, epochs = build_model(MODEL, seed=SHORT.seed), make_sine(DATA), []
    fit(model, data.train, data.val, handle.job.train,
        on_event=lambda e: epochs.append(e) if isinstance(e, Epoch) else None)
    assert view.train_losses == tuple(e.train_loss for e in epochs)
    assert view.val_mses == tuple(e.val_mse for e in epochs)
    weights = handle.state_dict()
    assert weights.keys() == model.state_dict().keys()
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    trained = handle.model()
    assert not trained.training and trained.spec == MODEL
    assert all(torch.equal(weights[k], v) for k, v in trained.state_dict().items())


def test_state_dict_and_model_refused_while_training(runner):
    handle = runner.submit(job(LONG))
    assert handle.wait_first_epoch(60)
    with pytest.raises(RuntimeError, match="still training"):
        handle.state_dict()
    with pytest.raises(RuntimeError, match="still training"):
        handle.model()


def test_stop_returns_at_once_and_the_run_ends_before_its_next_step(runner):
    gate = Gate(at=2)
    handle = runner.submit(job(LONG), alive=gate)
    assert gate.reached.wait(60)  # the run's thread is held after its second epoch
    stopper = threading.Thread(target=handle.stop)
    stopper.start()
    stopper.join(30)
    # stop() returned while the run's thread was still held: it never waits for training.
    assert not stopper.is_alive()
    assert handle.snapshot().status == RUNNING
    gate.release.set()
    assert handle.wait(30)
    view = handle.snapshot()
    assert view.finished.reason == "cancelled"
    assert view.finished.epochs == view.epoch == 2  # not one step of a third epoch
    assert len(view.train_losses) == 2  # the epochs before the stop are kept


def test_snapshots_are_consistent_and_immutable_while_running(runner):
    handle = runner.submit(job(replace(LONG, n_show=2, snapshot_every=3)))
    views = []
    while len(views) < 200 and (not views or views[-1].epoch < 12):
        views.append(handle.snapshot())
        time.sleep(0.001)
    handle.stop()
    handle.wait(30)
    assert any(v.status == RUNNING for v in views)
    for v in views:
        n = v.epoch
        assert len(v.train_losses) == len(v.val_losses) == len(v.val_mses) == n
        assert v.reconstructions_epoch <= n
        assert (v.reconstructions is None) == (v.reconstructions_epoch == 0)
        if v.last_epoch is not None:
            assert v.last_epoch.epoch == n and v.last_epoch.train_loss == v.train_losses[-1]
    epochs = [v.epoch for v in views]
    assert epochs == sorted(epochs) and epochs[-1] >= 2
    old = views[len(views) // 2]
    frozen_len = len(old.train_losses)
    assert len(handle.snapshot().train_losses) >= frozen_len == old.epoch  # no later effect
    with pytest.raises(FrozenInstanceError):
        old.status = DONE
    shown = next(v for v in reversed(views) if v.reconstructions is not None)
    with pytest.raises(ValueError, match="read-only"):
        shown.reconstructions[0, 0, 0] = 1.0


class Exploding(torch.nn.Module):
    """Wraps a model; its forward raises on the given training step."""

    def __init__(self, model, at_step: int):
        super().__init__()
        self.inner, self.at_step, self.steps = model, at_step, 0
        self.spec = model.spec

    def forward(self, x):
        if self.training:
            self.steps += 1
            if self.steps == self.at_step:
                raise RuntimeError("CUDA out of memory (simulated)")
        return self.inner(x)

    def reconstruct(self, x):
        return self.inner.reconstruct(x)

    def loss(self, output, x):
        return self.inner.loss(output, x)


@pytest.fixture
def exploding(monkeypatch):
    """The runner builds models whose forward raises at training step `at_step`."""
    def use(at_step: int) -> None:
        real = local_runner.build_model
        monkeypatch.setattr(local_runner, "build_model",
                            lambda spec, seed: Exploding(real(spec, seed), at_step))
    return use


def test_an_exception_in_training_becomes_an_error_message(runner, exploding, caplog):
    exploding(at_step=6)  # in epoch 2 (4 steps per epoch)
    handle = runner.submit(job(replace(SHORT, epochs=5)))
    after = runner.submit(job())
    assert handle.wait(60)
    view = handle.snapshot()
    assert view.status == DONE and view.finished is None
    assert view.error == "Training failed: RuntimeError: CUDA out of memory (simulated)"
    assert view.summary() == view.error
    assert view.epoch == 1  # the epoch before the failure is kept
    assert "training run" in caplog.text and "Traceback" in caplog.text
    assert after.wait(60) and after.snapshot().error is not None  # slot freed; it ran too


def test_wait_first_epoch_returns_when_the_run_fails(runner, exploding):
    exploding(at_step=1)  # fails in epoch 1
    handle = runner.submit(job())
    assert handle.wait_first_epoch(60)
    assert handle.snapshot().error is not None and handle.snapshot().epoch == 0


def test_a_run_whose_page_is_gone_stops_after_the_current_epoch(runner):
    calls = []

    def alive() -> bool:  # the web app passes "is the browser session still connected?"
        calls.append(1)
        return len(calls) < 2  # asked after Started (still open), then after epoch 1 (gone)

    handle = runner.submit(job(replace(LONG, n_show=0)), alive=alive)
    assert handle.wait(60)
    view = handle.snapshot()
    assert view.finished.reason == "cancelled" and view.epoch == 1


# --- the queue --------------------------------------------------------------------------------


def test_the_local_runner_offers_the_whole_runner_interface():
    assert isinstance(LocalRunner(slots=1), Runner)


def test_default_slots_keep_threads_times_runs_within_the_cores():
    cores = os.cpu_count() or 1
    assert LocalRunner().slots == default_slots(1) == cores
    assert LocalRunner(threads_per_job=2).slots == max(1, cores // 2)
    assert LocalRunner(slots=3).slots == 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="slots"):
            LocalRunner(slots=bad)
        with pytest.raises(ValueError, match="threads_per_job"):
            LocalRunner(threads_per_job=bad)


@pytest.mark.slow
def test_second_run_waits_until_the_first_finishes(runner):
    first = runner.submit(job(replace(SHORT, epochs=200)))
    second = runner.submit(job())
    assert first.snapshot().status == RUNNING
    view = second.snapshot()
    assert (view.status, view.position, view.epoch) == (QUEUED, 1, 0)
    assert re.fullmatch(r"Waiting for a free slot: number 1 in the queue(, about \d+ s)?\.",
                        view.summary())
    assert runner.counts() == (1, 1)
    assert first.wait(60)
    assert second.wait(60)
    assert second.snapshot().finished.reason == "completed"
    assert runner.counts() == (0, 0)


def test_stopping_the_running_run_admits_the_next(runner):
    first = runner.submit(job(LONG))
    second = runner.submit(job())
    assert first.wait_first_epoch(60)
    assert second.snapshot().status == QUEUED
    first.stop()
    assert second.wait(60)
    assert first.snapshot().finished.reason == "cancelled"
    assert second.snapshot().finished.reason == "completed"


def test_runs_train_in_the_order_they_were_submitted(runner):
    order: list[str] = []
    names = ["a", "b", "c"]
    handles = [runner.submit(job(replace(SHORT, epochs=60 if name == "a" else 4), seed=i),
                             alive=order_recorder(name, order)) for i, name in enumerate(names)]
    assert [h.snapshot().position for h in handles] == [None, 1, 2]
    for handle in handles:
        assert handle.wait(60)
    assert order == names
    assert all(h.snapshot().finished.reason == "completed" for h in handles)


def test_stopping_a_queued_run_removes_it_from_the_queue(runner):
    order: list[str] = []
    running = runner.submit(job(LONG), alive=order_recorder("a", order))
    dropped = runner.submit(job(seed=1), alive=order_recorder("b", order))
    last = runner.submit(job(seed=2), alive=order_recorder("c", order))
    assert running.wait_first_epoch(60)  # it has trained
    assert last.snapshot().position == 2
    dropped.stop()
    view = dropped.snapshot()  # at once: no waiting on the thread
    assert view.status == DONE and view.position is None
    assert view.finished.reason == "cancelled" and view.finished.epochs == 0
    assert view.finished.message == "Stopped before it started."
    assert last.snapshot().position == 1 and runner.counts() == (1, 1)
    assert dropped.wait(30)
    running.stop()
    assert last.wait(60)
    assert order == ["a", "c"]  # the stopped run never trained


def test_a_run_stopped_before_it_trained_has_its_initial_model(runner):
    # Once the running run has built its model: two threads building at once share torch's
    # global generator (the runner's own threads take turns, this test's thread does not).
    assert runner.submit(job(LONG)).wait_first_epoch(60)
    queued = runner.submit(job(replace(SHORT, seed=4)))
    queued.stop()
    assert queued.wait(30) and queued.wait_first_epoch(0)  # nothing more to wait for
    assert queued.snapshot().epoch == 0
    initial = build_model(MODEL, seed=4).state_dict()
    weights = queued.state_dict()
    assert weights.keys() == initial.keys()
    assert all(torch.equal(weights[k], v) for k, v in initial.items())


def test_wait_first_epoch_gives_up_on_a_queued_run(runner):
    first = runner.submit(job(LONG))
    assert first.wait_first_epoch(60)
    assert first.snapshot().epoch >= 1 and len(first.snapshot().train_losses) >= 1
    second = runner.submit(job())  # queued behind a run of minutes
    assert not second.wait_first_epoch(0.2)  # gives up after its timeout, without an epoch
    assert second.snapshot().status == QUEUED and second.snapshot().epoch == 0
    second.stop()  # ended without an epoch: nothing more to wait for
    assert second.wait_first_epoch(0)


def test_two_slots_train_two_runs_at_once():
    runner = LocalRunner(slots=2, policy=FIFO)
    handles = [runner.submit(job(LONG, seed=seed)) for seed in range(3)]
    try:
        assert all(h.wait_first_epoch(60) for h in handles[:2])
        assert handles[2].snapshot().position == 1 and runner.counts() == (2, 1)
    finally:
        for handle in handles:
            handle.stop()
        assert all(h.wait(30) for h in handles)


def test_snapshot_is_safe_from_many_threads(runner):
    handles = [runner.submit(job(replace(SHORT, epochs=5), seed=seed)) for seed in range(3)]
    problems = []

    def poll():
        while not all(h.snapshot().done for h in handles):
            for h in handles:
                v = h.snapshot()
                if len(v.train_losses) != v.epoch or (v.status == QUEUED) != (
                        v.position is not None):
                    problems.append(v)

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for p in pollers:
        p.start()
    for p in pollers:
        p.join(60)
    assert not problems
    assert all(h.snapshot().finished.reason == "completed" for h in handles)


# --- the runner's registry --------------------------------------------------------------------


def test_runs_are_found_by_id_and_a_finished_one_is_kept_without_its_handle():
    runner = LocalRunner(slots=1)  # not the fixture's, which keeps every handle
    handle = runner.submit(job())
    run_id = handle.run_id
    assert runner.wait(run_id, 60) and runner.snapshot(run_id).finished.reason == "completed"
    weights = handle.state_dict()
    del handle
    gc.collect()
    assert runner.snapshot(run_id).finished.reason == "completed"  # the registry keeps it
    again = runner.state_dict(run_id)
    assert again.keys() == weights.keys()
    assert all(torch.equal(again[k], v) for k, v in weights.items())
    with pytest.raises(RunNotFound, match="not known here") as found:
        runner.snapshot(run_id[::-1] + "x")
    assert isinstance(found.value, KeyError)  # callers that catch KeyError still do


def test_a_running_run_is_kept_without_its_handle(runner):
    run_id = runner.submit(job(LONG)).run_id  # the handle is dropped at once
    gc.collect()
    assert runner.wait_first_epoch(run_id, 60)
    assert runner.snapshot(run_id).status == RUNNING
    runner.stop(run_id)
    assert runner.wait(run_id, 30)
    assert runner.snapshot(run_id).finished.reason == "cancelled"


def test_the_shared_runner_is_one_object_for_every_thread():
    found = []
    threads = [threading.Thread(target=lambda: found.append(shared_runner())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and all(r is shared_runner() for r in found)
    assert isinstance(shared_runner(), LocalRunner)
    assert shared_runner().slots == default_slots(1) and shared_runner().threads_per_job == 1
