"""Background training jobs and the fair admission queue."""

import threading
import time
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
import torch

from lstmae_demo.jobs import (
    DONE,
    QUEUED,
    RUNNING,
    TrainingJob,
    TrainingQueue,
    default_queue,
    default_slots,
)
from lstmae_demo.archs import build_model
from lstmae_demo.spec import preset
from lstmae_demo.training import TrainConfig

T = 10
LONG = TrainConfig(epochs=10_000, batch_size=16)  # minutes if never stopped
SHORT = TrainConfig(epochs=3, batch_size=16)


def sines(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, T)
    freq, phase = rng.uniform(1, 2, (n, 1)), rng.uniform(0, 2 * np.pi, (n, 1))
    return (0.8 * np.sin(2 * np.pi * freq * t + phase))[..., None].astype(np.float32)


TRAIN_X, VAL_X = sines(64), sines(8, seed=1)


def small_model(seed: int = 0):
    return build_model(replace(preset("repeatvector"), seq_len=T, units=8), seed=seed)


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


@pytest.fixture
def make_job():
    """Build jobs; every one still running at the end of the test is stopped."""
    jobs = []

    def make(cfg=SHORT, model=None, **kwargs):
        job = TrainingJob(model or small_model(), TRAIN_X, VAL_X, cfg, **kwargs)
        jobs.append(job)
        return job

    yield make
    for job in jobs:
        job.stop()
    for job in jobs:
        job.wait(5)


def first_step_recorder(model, name: str, order: list):
    """Append `name` to `order` when the model takes its first training step."""
    def hook(module, args, output):
        if module.training and name not in order:
            order.append(name)
    model.register_forward_hook(hook)
    return model


# --- one job ----------------------------------------------------------------------------------


def test_job_runs_to_done_and_keeps_the_trained_model(make_job):
    job = make_job()
    before = job.snapshot()
    assert (before.status, before.position, before.epoch) == (QUEUED, None, 0)
    assert job.start() is job
    assert job.wait(30)
    view = job.snapshot()
    assert view.status == DONE and view.done and view.error is None
    assert view.finished.reason == "completed" and view.finished.epochs == 3
    assert view.epoch == 3 == len(view.train_losses) == len(view.val_losses) == len(view.val_mses)
    assert view.started.n_train == 64 and view.last_epoch.epoch == 3
    assert view.reconstructions.shape == (4, T, 1) and view.reconstructions_epoch == 3
    assert "Done (completed) after 3 epochs" in view.summary()
    weights = job.state_dict()
    assert weights.keys() == job.model.state_dict().keys()
    assert all(torch.equal(weights[k], v) for k, v in job.model.state_dict().items())
    with pytest.raises(RuntimeError, match="already started"):
        job.start()


def test_state_dict_refused_while_training(make_job):
    job = make_job(LONG).start()
    wait_until(lambda: job.snapshot().epoch >= 1)
    with pytest.raises(RuntimeError, match="still training"):
        job.state_dict()


def test_bad_settings_fail_in_the_callers_thread(make_job):
    with pytest.raises(ValueError, match="epochs"):
        make_job(TrainConfig(epochs=0))


def test_stop_ends_a_long_run_within_a_second(make_job):
    job = make_job(LONG).start()
    wait_until(lambda: job.snapshot().epoch >= 2)
    t0 = time.monotonic()
    job.stop()
    assert time.monotonic() - t0 < 0.1  # stop() itself never waits for training
    assert job.wait(1.0), "job still running 1 s after stop()"
    assert time.monotonic() - t0 < 1.0
    view = job.snapshot()
    assert view.finished.reason == "cancelled" and view.finished.epochs == view.epoch >= 2
    assert len(view.train_losses) == view.epoch  # the epochs before the stop are kept


def test_snapshots_are_consistent_and_immutable_while_running(make_job):
    job = make_job(replace(LONG, n_show=2, snapshot_every=3)).start()
    views = []
    while len(views) < 200 and (not views or views[-1].epoch < 12):
        views.append(job.snapshot())
        time.sleep(0.001)
    job.stop()
    job.wait(5)
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
    assert len(job.snapshot().train_losses) >= frozen_len == old.epoch  # later training: no effect
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


def test_an_exception_in_training_becomes_an_error_message(make_job, caplog):
    queue = TrainingQueue(slots=1)
    job = make_job(TrainConfig(epochs=5, batch_size=16),
                   model=Exploding(small_model(), at_step=6), queue=queue).start()
    after = make_job(queue=queue).start()
    assert job.wait(10)
    view = job.snapshot()
    assert view.status == DONE and view.finished is None
    assert view.error == "Training failed: RuntimeError: CUDA out of memory (simulated)"
    assert view.summary() == view.error
    assert view.epoch == 1  # the epoch before the failure is kept
    assert "training job" in caplog.text and "Traceback" in caplog.text
    assert after.wait(10) and after.snapshot().finished.reason == "completed"  # slot freed


# --- the queue --------------------------------------------------------------------------------


def test_default_slots_keep_threads_times_jobs_within_the_cores():
    import os

    cores = os.cpu_count() or 1
    assert TrainingQueue().slots == default_slots(1) == cores
    assert TrainingQueue(threads_per_job=2).slots == max(1, cores // 2)
    assert TrainingQueue(slots=3).slots == 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="slots"):
            TrainingQueue(slots=bad)


def test_queued_jobs_get_the_queues_thread_count(make_job):
    queue = TrainingQueue(slots=1, threads_per_job=1)
    assert make_job(queue=queue).cfg.threads == 1
    assert make_job(replace(LONG, threads=None), queue=queue).cfg.threads == 1


def test_second_job_waits_until_the_first_finishes(make_job):
    queue = TrainingQueue(slots=1)
    first = make_job(TrainConfig(epochs=200, batch_size=16), queue=queue).start()
    second = make_job(queue=queue).start()
    wait_until(lambda: first.snapshot().status == RUNNING)
    view = second.snapshot()
    assert (view.status, view.position, view.epoch) == (QUEUED, 1, 0)
    assert view.summary() == "Waiting for a free slot: number 1 in the queue."
    assert queue.counts() == (1, 1)
    assert first.wait(30)
    assert second.wait(30)
    assert second.snapshot().finished.reason == "completed"
    assert queue.counts() == (0, 0)


def test_stopping_the_running_job_admits_the_next(make_job):
    queue = TrainingQueue(slots=1)
    first = make_job(LONG, queue=queue).start()
    second = make_job(queue=queue).start()
    wait_until(lambda: first.snapshot().epoch >= 1)
    assert second.snapshot().status == QUEUED
    first.stop()
    assert second.wait(10)
    assert first.snapshot().finished.reason == "cancelled"
    assert second.snapshot().finished.reason == "completed"


def test_fifo_order_across_three_jobs(make_job):
    queue = TrainingQueue(slots=1)
    order: list[str] = []
    names = ["a", "b", "c"]
    jobs = [make_job(TrainConfig(epochs=60 if name == "a" else 4, batch_size=16), queue=queue,
                     model=first_step_recorder(small_model(), name, order))
            for name in names]
    for job in jobs:
        job.start()
    assert [j.snapshot().position for j in jobs[1:]] == [1, 2]
    for job in jobs:
        assert job.wait(30)
    assert order == names
    assert all(j.snapshot().finished.reason == "completed" for j in jobs)


def test_stopping_a_queued_job_removes_it_from_the_queue(make_job):
    queue = TrainingQueue(slots=1)
    order: list[str] = []
    running = make_job(LONG, queue=queue, model=first_step_recorder(small_model(), "a", order))
    dropped = make_job(queue=queue, model=first_step_recorder(small_model(), "b", order))
    last = make_job(queue=queue, model=first_step_recorder(small_model(), "c", order))
    for job in (running, dropped, last):
        job.start()
    wait_until(lambda: running.snapshot().epoch >= 1)  # it has trained
    assert last.snapshot().position == 2
    t0 = time.monotonic()
    dropped.stop()
    view = dropped.snapshot()  # immediately: no waiting on the thread
    assert view.status == DONE and view.position is None
    assert view.finished.reason == "cancelled" and view.finished.epochs == 0
    assert dropped.wait(1.0) and time.monotonic() - t0 < 1.0
    assert last.snapshot().position == 1 and queue.counts() == (1, 1)
    running.stop()
    assert last.wait(10)
    assert order == ["a", "c"]  # the stopped job never trained


def test_a_job_stopped_before_start_never_runs(make_job):
    queue = TrainingQueue(slots=1)
    job = make_job(queue=queue)
    job.stop()
    assert job.start().snapshot().finished.reason == "cancelled"
    assert job.wait(1) and queue.counts() == (0, 0)


def test_wait_first_epoch_returns_once_an_epoch_is_in(make_job):
    queue = TrainingQueue(slots=1)
    first = make_job(LONG, queue=queue).start()
    assert first.wait_first_epoch(30)
    assert first.snapshot().epoch >= 1 and len(first.snapshot().train_losses) >= 1
    second = make_job(queue=queue).start()  # queued behind a run of minutes
    t0 = time.monotonic()
    assert not second.wait_first_epoch(0.2)  # gives up after its timeout
    assert 0.2 <= time.monotonic() - t0 < 5 and second.snapshot().status == QUEUED
    second.stop()  # ended without an epoch: nothing more to wait for
    assert second.wait_first_epoch(0)
    first.stop()


def test_wait_first_epoch_returns_when_the_job_fails(make_job):
    job = make_job(model=Exploding(small_model(), at_step=1)).start()  # fails in epoch 1
    assert job.wait_first_epoch(30)
    assert job.snapshot().error is not None and job.snapshot().epoch == 0


def test_two_slots_train_two_jobs_at_once(make_job):
    queue = TrainingQueue(slots=2)
    jobs = [make_job(LONG, queue=queue).start() for _ in range(3)]
    wait_until(lambda: all(j.snapshot().epoch >= 1 for j in jobs[:2]))
    assert jobs[2].snapshot().position == 1 and queue.counts() == (2, 1)


def test_snapshot_is_safe_from_many_threads(make_job):
    queue = TrainingQueue(slots=1)
    jobs = [make_job(TrainConfig(epochs=5, batch_size=16), queue=queue).start()
            for _ in range(3)]
    problems = []

    def poll():
        while not all(j.snapshot().done for j in jobs):
            for j in jobs:
                v = j.snapshot()
                if len(v.train_losses) != v.epoch or (v.status == QUEUED) != (
                        v.position is not None):
                    problems.append(v)

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for p in pollers:
        p.start()
    for p in pollers:
        p.join(30)
    assert not problems
    assert all(j.snapshot().finished.reason == "completed" for j in jobs)


def test_default_queue_is_one_shared_object():
    found = []
    threads = [threading.Thread(target=lambda: found.append(default_queue())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(q is default_queue() for q in found)
    assert isinstance(default_queue(), TrainingQueue)


def test_a_job_whose_page_is_gone_stops_after_the_current_epoch():
    """The web app passes alive = 'is the browser session still connected?'."""
    calls = []

    def alive() -> bool:
        calls.append(1)
        return len(calls) < 2  # the page closes after the first epoch

    spec = replace(preset("repeatvector"), seq_len=8, units=4)
    data = np.random.default_rng(0).uniform(-1, 1, (32, 8, 1)).astype(np.float32)
    job = TrainingJob(build_model(spec, seed=0), data, data[:8],
                      TrainConfig(epochs=200, batch_size=8, n_show=0), alive=alive).start()
    assert job.wait(timeout=30)
    view = job.snapshot()
    assert view.finished.reason == "cancelled"
    assert view.epoch <= 3  # stopped at once, not after 200 epochs
