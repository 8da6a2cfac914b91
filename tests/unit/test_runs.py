"""Runs by id in the runner's registry: found again from any page, joined when identical,
ended only when no attached learner wants them, and kept within a stated lifetime."""

import gc
import re
import shutil
import threading
from dataclasses import replace

import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.data import SineConfig
from lstmae_demo.jobs import (
    DONE,
    FIFO,
    FINISHED_TTL_S,
    QUEUED,
    RUNNING,
    JobSpec,
    LocalRunner,
    RunNotFound,
    key,
    run_key,
)
from lstmae_demo.jobs import local as local_runner
from lstmae_demo.spec import ModelSpec
from lstmae_demo.training import TrainConfig

T = 10
MODEL = ModelSpec(arch="repeatvector", seq_len=T, units=8)
DATA = SineConfig(n_series=64, n_val=8, seq_len=T, seed=3)
SHORT = TrainConfig(epochs=3, batch_size=16)
LONG = TrainConfig(epochs=10_000, batch_size=16)  # minutes if never stopped


def job(cfg: TrainConfig = SHORT, seed: int = 0, **model) -> JobSpec:
    return JobSpec(model=replace(MODEL, **model), data=DATA, train=replace(cfg, seed=seed))


class Clock:
    """A clock the test moves by hand: lifetimes and grace periods without waiting."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Learner:
    """An `alive` callback the test controls: it counts the run thread's calls (one after
    each of the run's events) and says "gone" once `there` is False."""

    def __init__(self):
        self.there, self.calls = True, 0
        self.called = threading.Condition()

    def __call__(self) -> bool:
        with self.called:
            self.calls += 1
            self.called.notify_all()
        return self.there

    def wait_calls(self, n: int, timeout: float = 60) -> bool:
        """Block until the run's thread has asked at least `n` times in all."""
        with self.called:
            return self.called.wait_for(lambda: self.calls >= n, timeout)


@pytest.fixture
def make():
    """Makes runners; every run still going at the end of the test is stopped."""
    made: list[LocalRunner] = []

    def runner(**kwargs) -> LocalRunner:
        kwargs.setdefault("slots", 1)
        made.append(LocalRunner(**kwargs))
        return made[-1]

    yield runner
    for r in made:
        for run_id in list(r._runs):
            r.stop(run_id)
        for run_id in list(r._runs):
            r.wait(run_id, 30)


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- runs by id -------------------------------------------------------------------------------


def test_run_ids_are_url_safe_and_unguessable(make):
    runner = make()
    ids = {runner.submit(job(seed=s)).run_id for s in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{12}", i) for i in ids)  # 72 random bits each


def test_a_reload_or_another_device_finds_the_run_and_its_model_by_id(make):
    runner = make()
    run_id = runner.submit(job()).run_id  # the page that started it is gone with its handle
    gc.collect()
    again = runner.attach(run_id)  # a reload: a new page with only the id (from the URL)
    assert again.run_id == run_id and not again.joined and again.job.train.seed == 0
    assert again.wait(60)
    view = runner.get(run_id).snapshot()  # a second device
    assert view.run_id == run_id and view.finished.reason == "completed" and view.epoch == 3
    weights = runner.get(run_id).state_dict()
    fresh = make().submit(job())
    assert fresh.wait(60) and same_weights(weights, fresh.state_dict())
    assert not runner.get(run_id).model().training


def test_an_unknown_id_gives_a_short_clear_error(make):
    runner = make()
    for bad in ("nosuchrun123", "x" * 10_000, "![i](http://host/t.png)", None, 42):
        with pytest.raises(RunNotFound) as found:
            runner.snapshot(bad)
        message = str(found.value)
        assert "is not known here: check the link, or train again." in message
        assert len(message) < 120 and not message.startswith("'")  # not KeyError's quoting
        assert isinstance(found.value, KeyError)
    for call in (runner.attach, runner.get, runner.wait, runner.state_dict, runner.model):
        with pytest.raises(RunNotFound):
            call("nosuchrun123")


def test_a_finished_run_expires_its_lifetime_after_the_last_look(make):
    clock = Clock()
    runner = make(clock=clock)
    run_id = runner.submit(job()).run_id
    assert runner.wait(run_id, 60)
    gc.collect()
    for _ in range(3):  # every look (a poll) starts its lifetime again
        clock.now += FINISHED_TTL_S - 1
        assert runner.snapshot(run_id).done
    clock.now += FINISHED_TTL_S + 1
    runner.submit(job(seed=1))  # any submit tidies the registry
    with pytest.raises(RunNotFound, match="has expired: finished runs are kept 30 minutes "
                                          "after they were last looked at"):
        runner.snapshot(run_id)


def test_an_expired_run_is_gone_even_before_anything_tidies_up(make):
    clock = Clock()
    runner = make(clock=clock)
    run_id = runner.submit(job()).run_id
    assert runner.wait(run_id, 60)
    gc.collect()
    clock.now += FINISHED_TTL_S + 1
    with pytest.raises(RunNotFound, match="has expired"):
        runner.attach(run_id)


def test_a_queued_or_running_run_never_expires(make):
    clock = Clock()
    runner = make(clock=clock, policy=FIFO)
    running = runner.submit(job(LONG)).run_id
    queued = runner.submit(job(seed=1)).run_id
    assert runner.wait_first_epoch(running, 60)
    gc.collect()
    clock.now += 10 * FINISHED_TTL_S
    runner.submit(job(seed=2))
    assert runner.snapshot(running).status == RUNNING
    assert runner.snapshot(queued).status == QUEUED


def test_a_held_handle_keeps_its_run_beyond_the_registrys_lifetime(make):
    clock = Clock()
    runner = make(clock=clock)
    handle = runner.submit(job())  # the page that started it is still open
    assert handle.wait(60)
    clock.now += FINISHED_TTL_S + 1
    runner.submit(job(seed=1))
    assert handle.snapshot().finished.reason == "completed"
    assert runner.attach(handle.run_id).snapshot().done  # a reload still finds it


def test_the_least_recently_looked_at_finished_run_goes_first_beyond_the_count(make,
                                                                                monkeypatch):
    monkeypatch.setattr(local_runner, "MAX_FINISHED_RUNS", 2)
    clock = Clock()
    runner = make(clock=clock)
    ids = []
    for seed in range(2):
        ids.append(runner.submit(job(seed=seed)).run_id)
        assert runner.wait(ids[-1], 60)
        clock.now += 1
    runner.snapshot(ids[0])  # the first is looked at again: the second is now the oldest look
    clock.now += 1
    ids.append(runner.submit(job(seed=2)).run_id)
    assert runner.wait(ids[-1], 60)  # its end tidies the registry: three finished, two kept
    gc.collect()
    runner.submit(job(seed=3))
    with pytest.raises(RunNotFound, match="keeps at most 2 finished runs"):
        runner.snapshot(ids[1])
    assert runner.snapshot(ids[0]).done and runner.snapshot(ids[2]).done


def test_finished_runs_are_bounded_by_the_bytes_of_their_weights(make, monkeypatch):
    one = sum(t.numel() * t.element_size() for t in build_model(MODEL).state_dict().values())
    monkeypatch.setattr(local_runner, "MAX_FINISHED_BYTES", one + one // 2)  # room for one
    clock = Clock()
    runner = make(clock=clock)
    first = runner.submit(job(seed=0)).run_id
    assert runner.wait(first, 60)
    clock.now += 1
    second = runner.submit(job(seed=1)).run_id
    assert runner.wait(second, 60)
    gc.collect()
    runner.submit(job(seed=2, units=4))
    with pytest.raises(RunNotFound, match="no longer kept"):
        runner.snapshot(first)
    assert runner.snapshot(second).done


# --- identical runs are computed once ---------------------------------------------------------


def test_an_identical_submit_joins_the_running_run(make):
    runner = make()
    first = runner.submit(job(LONG))
    assert first.wait_first_epoch(60)
    second = runner.submit(job(LONG))
    assert second.joined and not first.joined and second.run_id == first.run_id
    assert runner.counts() == (1, 0)  # one run trains; nothing new was queued
    view = second.snapshot()
    assert view.learners == 2 and view.status == RUNNING and view.epoch >= 1


def test_a_joined_run_is_bit_identical_to_a_fresh_run_of_the_same_spec(make):
    shared = make()
    first = shared.submit(job(replace(SHORT, epochs=6)))
    joined = shared.submit(job(replace(SHORT, epochs=6)))
    assert joined.joined and joined.wait(60)
    fresh = make().submit(job(replace(SHORT, epochs=6)))  # another runner: trained again
    assert not fresh.joined and fresh.wait(60)
    a, b = joined.snapshot(), fresh.snapshot()
    assert a.epoch == b.epoch == 6
    assert a.train_losses == b.train_losses and a.val_losses == b.val_losses
    assert a.val_mses == b.val_mses
    assert same_weights(joined.state_dict(), fresh.state_dict())
    late = shared.submit(job(replace(SHORT, epochs=6)))  # after it finished: done at once
    assert late.joined and late.run_id == first.run_id and late.snapshot().done
    assert same_weights(late.state_dict(), fresh.state_dict())


def test_specs_that_build_the_same_model_share_a_run(make):
    runner = make()
    first = runner.submit(job(LONG))
    ignored = runner.submit(job(LONG, bins=8, reads="state"))  # repeatvector uses neither
    assert ignored.joined and ignored.run_id == first.run_id
    assert run_key(ignored.job) == run_key(first.job)


@pytest.mark.parametrize("other", [
    job(LONG, seed=1),
    job(replace(LONG, lr=0.01)),
    job(replace(LONG, batch_size=8)),
    job(LONG, units=9),
    JobSpec(model=MODEL, data=replace(DATA, seed=4), train=LONG),
    job(replace(LONG, epochs=9_999)),
    job(replace(LONG, n_show=2)),
])
def test_different_settings_train_separately(make, other):
    runner = make(slots=2)
    first = runner.submit(job(LONG))
    second = runner.submit(other)
    assert not second.joined and second.run_id != first.run_id
    assert runner.counts() == (2, 0)
    assert run_key(second.job) != run_key(first.job)


def test_a_stopped_run_is_never_joined(make):
    runner = make()
    first = runner.submit(job(LONG))
    assert first.wait_first_epoch(60)
    first.stop()
    assert first.wait(30) and first.snapshot().finished.reason == "cancelled"
    again = runner.submit(job(LONG))
    assert not again.joined and again.run_id != first.run_id
    assert again.wait_first_epoch(60) and again.snapshot().status == RUNNING
    assert runner.submit(job(LONG)).joined  # the new run is the one to join now


def test_a_failed_run_is_never_joined(make, monkeypatch):
    real = local_runner.build_model

    def broken(spec, seed):
        monkeypatch.setattr(local_runner, "build_model", real)  # only the first build fails
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr(local_runner, "build_model", broken)
    runner = make()
    failed = runner.submit(job())
    assert failed.wait(60) and "out of memory" in failed.snapshot().error
    again = runner.submit(job())
    assert not again.joined and again.wait(60)
    assert again.snapshot().finished.reason == "completed"


def test_a_diverged_run_is_joined_because_the_same_settings_diverge_again(make):
    runner = make()
    spec = job(replace(SHORT, lr=10.0, clip_norm=None), activation="relu")
    first = runner.submit(spec)
    assert first.wait(60) and first.snapshot().finished.reason == "diverged"
    assert runner.submit(spec).joined
    fresh = make().submit(spec)
    assert fresh.wait(60)
    assert fresh.snapshot().finished.message == first.snapshot().finished.message


def test_the_code_version_follows_the_training_code_only(tmp_path, monkeypatch):
    for part in key.TRAINING_CODE:
        source = key.PACKAGE / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    (tmp_path / "plots.py").write_text("# drawing only\n")
    monkeypatch.setattr(key, "PACKAGE", tmp_path)
    versions = []
    try:
        for change in (None, "plots.py", "training/loop.py", "data/files/nab_labels.json"):
            if change:
                with open(tmp_path / change, "a") as f:
                    f.write("\n")
            key.code_version.cache_clear()
            versions.append(key.code_version())
    finally:
        key.code_version.cache_clear()
    assert versions[0] == versions[1]  # a page's code does not change any run's numbers
    assert len({versions[1], versions[2], versions[3]}) == 3  # the trainer's and data's do


# --- several learners, one run ----------------------------------------------------------------


def test_one_learners_stop_lets_go_and_the_run_goes_on_for_the_others(make):
    runner = make()
    a = runner.submit(job(LONG))
    b_alive = Learner()
    b = runner.submit(job(LONG), alive=b_alive)
    assert b.joined and b_alive.wait_calls(1)
    a.stop()
    view = b.snapshot()
    assert view.learners == 1 and not view.done
    seen = b_alive.calls
    assert b_alive.wait_calls(seen + 3)  # three more events: it kept training
    b.stop()
    assert b.wait(30)
    view = b.snapshot()
    assert view.finished.reason == "cancelled" and view.learners == 0 and view.epoch >= 2


def test_a_watcher_neither_keeps_the_run_going_nor_can_end_it(make):
    runner = make()
    learner = runner.submit(job(LONG))
    watcher = runner.attach(learner.run_id, watch_only=True)
    reader = runner.get(learner.run_id)
    assert watcher.watch_only and reader.watch_only and reader.who is None
    assert learner.wait_first_epoch(60)
    view = learner.snapshot()
    assert (view.learners, view.watchers) == (1, 1)
    watcher.stop()  # stops watching only
    reader.stop()  # holds no attachment: nothing to let go
    assert (learner.snapshot().learners, learner.snapshot().watchers) == (1, 0)
    assert not learner.snapshot().done
    runner.attach(learner.run_id, watch_only=True)
    learner.stop()  # the last learner lets go: a watcher does not keep it going
    assert learner.wait(30) and learner.snapshot().finished.reason == "cancelled"


def test_a_learner_whose_page_is_gone_lets_go_and_the_others_keep_it(make):
    runner = make(grace_seconds=0.0)
    gone, staying = Learner(), Learner()
    first = runner.submit(job(LONG), alive=gone)
    assert gone.wait_calls(1)
    runner.submit(job(LONG), alive=staying)
    gone.there = False
    seen = staying.calls
    assert staying.wait_calls(seen + 3)
    view = first.snapshot()
    assert view.learners == 1 and not view.done
    staying.there = False
    assert first.wait(30) and first.snapshot().finished.reason == "cancelled"


def test_a_reload_within_the_grace_period_keeps_the_run_going(make):
    clock = Clock()
    runner = make(clock=clock, grace_seconds=10.0)
    old_page = Learner()
    run = runner.submit(job(LONG), alive=old_page)
    assert old_page.wait_calls(2)
    old_page.there = False  # the tab reloads: its old session is gone ...
    calls = old_page.calls
    assert old_page.wait_calls(calls + 3)  # ... and has said so (the last call before these
    # three may have read `there` before it changed; the thread records each answer before
    # it asks again)
    assert run.snapshot().learners == 1 and not run.snapshot().done  # within its grace
    new_page = Learner()
    runner.attach(run.run_id, alive=new_page)  # the reloaded page, with ?run= in its URL
    assert new_page.wait_calls(1)
    clock.now += 11  # the old page's grace is over
    calls = new_page.calls
    assert new_page.wait_calls(calls + 2)
    view = run.snapshot()
    assert view.learners == 1 and not view.done  # the old one let go; the new one keeps it
    new_page.there = False
    calls = new_page.calls
    assert new_page.wait_calls(calls + 3)  # its "gone" is recorded (the grace starts) ...
    assert not run.snapshot().done
    clock.now += 11  # ... and is over
    assert run.wait(30) and run.snapshot().finished.reason == "cancelled"


def test_a_waiting_run_nobody_wants_leaves_the_line(make):
    runner = make(grace_seconds=0.0, check_seconds=0.01, policy=FIFO)
    running = runner.submit(job(LONG))
    assert running.wait_first_epoch(60)
    closed = Learner()
    closed.there = False  # the tab closed while its run waited
    queued = runner.submit(job(seed=1), alive=closed)
    behind = runner.submit(job(seed=2))
    assert queued.wait(60)
    view = queued.snapshot()
    assert view.status == DONE and view.finished.message == "Stopped before it started."
    assert behind.snapshot().position == 1 and running.snapshot().status == RUNNING


def test_attach_and_stop_from_many_threads_end_the_run_only_when_all_let_go(make):
    runner = make()
    owner = runner.submit(job(LONG))
    assert owner.wait_first_epoch(60)
    start = threading.Barrier(16)
    handles = []

    def learner() -> None:
        start.wait(30)
        handle = (runner.submit(job(LONG)) if len(handles) % 2 else
                  runner.attach(owner.run_id))
        handles.append(handle)
        runner.attach(owner.run_id, watch_only=True).stop()
        handle.stop()

    threads = [threading.Thread(target=learner) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(handles) == 16 and all(h.run_id == owner.run_id for h in handles)
    view = owner.snapshot()
    assert (view.learners, view.watchers) == (1, 0) and not view.done  # the owner still wants it
    owner.stop()
    owner.stop()  # letting go twice is harmless
    assert owner.wait(30) and owner.snapshot().finished.reason == "cancelled"


def test_a_bundled_data_set_keys_a_run_as_well_as_sine_data():
    from lstmae_demo.data.bundled import BundledConfig

    bundled = JobSpec(model=replace(MODEL, seq_len=50), data=BundledConfig(seq_len=50),
                      train=SHORT)
    assert run_key(bundled) == run_key(replace(bundled, data=BundledConfig(seq_len=50)))
    assert run_key(bundled) != run_key(replace(bundled, data=BundledConfig(seq_len=50,
                                                                           stride=5)))
    assert run_key(bundled) != run_key(replace(bundled, data=replace(DATA, seq_len=50)))
