"""DaskRunner on a real two-worker Dask cluster: the same numbers as in-process, Stop, run ids
and identical runs across replicas, and a worker killed mid-run."""

import os
import time
from dataclasses import replace

import pytest
import torch

from lstmae_demo.data import SineConfig
from lstmae_demo.jobs import DONE, JobSpec, LocalRunner, Runner, RunNotFound
from lstmae_demo.jobs.dask_runner import _failure, select
from lstmae_demo.spec import ModelSpec
from lstmae_demo.training import TrainConfig

pytestmark = pytest.mark.cluster

T = 10
MODEL = ModelSpec(arch="repeatvector", seq_len=T, units=8)
DATA = SineConfig(n_series=64, n_val=8, seq_len=T, seed=3)
SHORT = TrainConfig(epochs=3, batch_size=16, threads=1)
LONG = TrainConfig(epochs=10_000, batch_size=16, threads=1)  # minutes if never stopped


def job(cfg=SHORT, seed=0):
    return JobSpec(model=MODEL, data=DATA, train=replace(cfg, seed=seed))


def local_result(spec):
    runner = LocalRunner(slots=1)
    handle = runner.submit(spec)
    assert handle.wait(60)
    return handle.snapshot(), handle.state_dict()


def test_the_dask_runner_offers_the_whole_runner_interface(runners):
    assert isinstance(runners[0], Runner)


def test_a_cluster_run_has_the_losses_and_weights_of_an_in_process_run(runners):
    spec = job(seed=11)
    handle = runners[0].submit(spec)
    assert handle.wait(60)
    view = handle.snapshot()
    expected, weights = local_result(spec)
    assert view.status == DONE and view.error is None
    assert view.finished.reason == "completed" and view.epoch == 3
    assert view.train_losses == expected.train_losses
    assert view.val_mses == expected.val_mses
    got = handle.state_dict()
    assert got.keys() == weights.keys()
    assert all(torch.equal(got[k], weights[k]) for k in got)


def test_another_replica_attaches_to_a_run_by_id_and_identical_runs_join(runners):
    first, second = runners
    handle = first.submit(job(seed=12))
    assert handle.wait_first_epoch(60)
    again = second.attach(handle.run_id)  # a replica that never saw the submit
    joined = second.submit(job(seed=12))
    assert joined.joined and joined.run_id == handle.run_id
    assert not second.submit(job(seed=13)).joined
    assert again.wait(60)
    assert again.snapshot().train_losses == handle.snapshot().train_losses
    model_here, model_there = first.model(handle.run_id), second.model(handle.run_id)
    assert all(torch.equal(a, b) for a, b in zip(model_here.state_dict().values(),
                                                  model_there.state_dict().values(),
                                                  strict=True))
    with pytest.raises(RunNotFound, match="not known to the training cluster"):
        second.attach("no-such-run")


def test_stop_from_another_replica_ends_the_run_before_its_next_epoch(runners):
    first, second = runners
    handle = first.submit(job(LONG, seed=14))
    assert handle.wait_first_epoch(60)
    at_stop = handle.snapshot().epoch
    assert first.counts() == (1, 0) and first.following() == 1  # what the pages' polls read
    started = time.perf_counter()
    second.stop(handle.run_id)
    assert handle.wait(30)  # a bound against hanging; the seconds are printed for the record
    print(f"stop took {time.perf_counter() - started:.2f} s")
    view = handle.snapshot()
    assert view.finished.reason == "cancelled"
    assert at_stop <= view.epoch <= at_stop + 1 < LONG.epochs
    assert first.counts() == (0, 0) and first.following() == 0
    again = first.submit(job(LONG, seed=14))  # a stopped run is never joined
    assert not again.joined and again.run_id != handle.run_id


def test_a_run_nobody_wants_any_more_stops(runners):
    first, second = runners
    handle = first.submit(job(LONG, seed=15))
    there = second.attach(handle.run_id)
    assert handle.wait_first_epoch(60)
    handle.stop()  # the first replica's learner lets go: the second's still wants it
    time.sleep(0.5)
    assert not handle.snapshot().done
    there.stop()
    assert handle.wait(30)
    assert handle.snapshot().finished.reason == "cancelled"


def test_a_page_gone_past_the_grace_lets_go_of_its_run(runners):
    gone = []
    handle = runners[0].submit(job(LONG, seed=16), alive=lambda: not gone)
    assert handle.wait_first_epoch(60)
    gone.append(True)  # the tab is closed; the runner's learner check notices
    assert handle.wait(30)
    assert handle.snapshot().finished.reason == "cancelled"


def dying_replica(cluster):
    """A replica whose learner counts last 3 s unless renewed (every 0.2 s)."""
    from lstmae_demo.jobs.dask_runner import DaskRunner

    return DaskRunner(cluster.scheduler_address, grace_seconds=0.0, check_seconds=0.2,
                      wanted_ttl=3.0)


def die(replica):
    """The replica goes as kill -9 takes it: no more checks, no learner lets go; the
    scheduler sees its client disconnect."""
    replica._closed.set()  # its monitor thread ends after the check under way
    replica._monitor.join(5)
    assert not replica._monitor.is_alive()
    replica.client.close()


def test_a_dead_replicas_learners_expire_and_the_worker_stops_its_run(cluster, runners):
    """No live replica has a learner on the run (only a watcher): the worker training it
    reads the counts every epoch and stops the run once the dead replica's has expired."""
    from lstmae_demo.jobs.dask_runner import UNWANTED

    dying = dying_replica(cluster)
    handle = dying.submit(job(LONG, seed=41))
    try:
        assert handle.wait_first_epoch(60)
        watching = runners[0].attach(handle.run_id, watch_only=True)
        assert watching.snapshot().learners == 1
        die(dying)
        assert watching.wait(60)
        view = watching.snapshot()
        assert view.finished.reason == "cancelled" and view.finished.message == UNWANTED
        assert view.summary().endswith(UNWANTED)  # what a page's status line says
        assert 0 < view.epoch < LONG.epochs and view.learners == 0
    finally:
        runners[0].stop(handle.run_id)


def test_a_learner_who_reattaches_within_the_bound_keeps_a_dead_replicas_run(cluster,
                                                                            runners):
    from lstmae_demo.jobs.dask_runner import UNWANTED

    dying = dying_replica(cluster)
    handle = dying.submit(job(LONG, seed=42))
    try:
        assert handle.wait_first_epoch(60)
        die(dying)
        there = runners[1].attach(handle.run_id)  # the reload lands on another replica
        dead = runners[1].client.get_metadata(
            ["lstmae", "run", handle.run_id, "wanted", dying.replica])
        while time.time() <= dead["until"]:  # until the dead replica's count has expired
            time.sleep(0.1)
        expired_at = there.snapshot().epoch
        # The worker reads the counts after every epoch: three more, and it still trains.
        assert runners[1]._poll(handle.run_id, 60,
                                 lambda v: v.done or v.epoch >= expired_at + 3)
        view = there.snapshot()
        assert not view.done and view.learners == 1
        there.stop()  # the last learner lets go: the run stops, saying why
        assert there.wait(30)
        assert there.snapshot().finished.message == UNWANTED
    finally:
        runners[1].stop(handle.run_id)


def test_a_worker_killed_mid_run_is_retried_elsewhere_with_the_same_numbers(runners, cluster):
    runner = runners[0]
    spec = job(replace(SHORT, epochs=20), seed=17)
    handle = runner.submit(spec)
    assert handle.wait_first_epoch(60)
    assert not handle.snapshot().done
    victim = runner.client.get_metadata(["lstmae", "run", handle.run_id, "progress"])
    worker = __import__("pickle").loads(victim)["worker"]
    runner.client.run(os._exit, 1, workers=[worker], on_error="ignore")  # it dies at once
    killed = time.perf_counter()
    assert handle.wait(120)
    print(f"retried run done {time.perf_counter() - killed:.1f} s after the kill")
    view = handle.snapshot()
    assert view.error is None, view.error
    assert runner.attempts(handle.run_id) == 2
    assert view.restarts == 1  # the page says why its curve went back to epoch 1
    expected, _ = local_result(spec)
    assert view.train_losses == expected.train_losses


def test_a_worker_that_kept_dying_is_reported_in_words():
    from distributed import KilledWorker

    message = _failure(KilledWorker("lstmae-train-x", "tcp://127.0.0.1:1", 3), 3)
    assert "worker died" in message and "3 attempts" in message and "Train again" in message


def test_an_unreachable_scheduler_falls_back_to_training_in_process():
    runner, note = select("tcp://127.0.0.1:9", timeout=1.0)
    assert isinstance(runner, LocalRunner)
    assert "tcp://127.0.0.1:9" in note and "could not be reached" in note
    local, none = select("")
    assert isinstance(local, LocalRunner) and none is None


def test_the_cli_trains_on_the_cluster_with_the_numbers_it_gets_in_process(cluster, tmp_path,
                                                                           capsys):
    import json

    from lstmae_demo.__main__ import main, run
    from lstmae_demo.weights import load

    argv = ["train", "--arch", "repeatvector", "--units", "8", "--seq-len", "10",
            "--n-series", "32", "--epochs", "2", "--json"]
    here = json.loads(run(argv))
    there = json.loads(run([*argv, "--scheduler", cluster.scheduler_address,
                            "--save", str(tmp_path / "m.safetensors")]))
    assert there["val_mse"] == here["val_mse"] and there["epochs"] == 2
    assert len(load(tmp_path / "m.safetensors").metadata["losses"]["val_mse"]) == 2
    # A CSV file on this machine reaches the workers as its bytes inside the run's JobSpec.
    csv = tmp_path / "series.csv"
    csv.write_text("value\n" + "\n".join(str(i % 7) for i in range(60)) + "\n")
    on_csv = [*argv, "--data", str(csv), "--stride", "5"]
    here = json.loads(run(on_csv))
    there = json.loads(run([*on_csv, "--scheduler", cluster.scheduler_address]))
    assert there["val_mse"] == here["val_mse"] and there["data"] == here["data"]
    capsys.readouterr()
    assert main([*argv, "--scheduler", cluster.scheduler_address, "--load",
                 str(tmp_path / "m.safetensors")]) == 2
    assert "the cluster's workers" in capsys.readouterr().err


def test_finished_runs_leave_the_cluster_after_their_lifetime_or_beyond_the_most_kept(cluster):
    """The cluster's store is bounded like LocalRunner's registry: a finished run nobody
    looked at for the lifetime, and the oldest beyond the most kept, are swept by any replica;
    a page that holds its handle keeps what it saw, a new link gets a message in words.
    (Every run here is looked at by a page right after it ends, as the app's polling does.)"""
    from lstmae_demo.jobs.dask_runner import PREFIX, DaskRunner, key_hash

    # The replicas' wall clock, moved by the test, far past every real time: the first sweep
    # clears what earlier tests left, and the workers' own (real) end times count as old.
    now = [time.time() + 1e6]
    made = [DaskRunner(cluster.scheduler_address, check_seconds=None, wall=lambda: now[0],
                       finished_ttl=60.0, max_finished=2) for _ in range(2)]
    first, second = made
    try:
        first.sweep()
        held = first.submit(job(seed=31))
        assert held.wait(60)
        seen = held.snapshot()  # a page looks at it: its lifetime starts now (1000)
        others = []
        for seed in (32, 33):
            now[0] += 1
            others.append(first.submit(job(seed=seed)))
            assert others[-1].wait(60)
            others[-1].snapshot()
        assert first.client.get_metadata([PREFIX, "ended"]).keys() >= {
            held.run_id, *(h.run_id for h in others)}
        now[0] += 1
        assert first.sweep() == [held.run_id]  # three kept, two at most: the oldest goes
        with pytest.raises(RunNotFound, match="kept 30 minutes after anyone last looked"):
            second.attach(held.run_id)
        assert first.snapshot(held.run_id) == seen  # the page holding it keeps its view
        assert first.client.get_metadata([PREFIX, "run", held.run_id], None) is None
        assert f"{PREFIX}-run-{held.run_id}" not in first.client.list_datasets()
        assert first.client.get_metadata([PREFIX, "by_key", key_hash(job(seed=31))],
                                         None) is None  # an identical submit starts anew

        now[0] += 30  # within the lifetime: nothing goes
        assert first.sweep() == []
        now[0] += 61  # past it for both that nobody looked at since
        assert sorted(second.sweep()) == sorted(h.run_id for h in others)
        assert all(first.client.get_metadata([PREFIX, "weights", h.run_id], None) is None
                   for h in others)
    finally:
        for runner in made:
            for run_id in list(runner._runs):
                runner.stop(run_id)
            runner.close()
