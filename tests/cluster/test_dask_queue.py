"""A run waiting for a worker on the Dask cluster shows its place in the line, as in-process:
on a cluster of one worker (one training slot), made here as conftest makes its two."""

import os
from dataclasses import replace

import pytest

from lstmae_demo.data import SineConfig
from lstmae_demo.jobs import QUEUED, RUNNING, JobSpec
from lstmae_demo.spec import ModelSpec
from lstmae_demo.training import TrainConfig

pytestmark = pytest.mark.cluster

T = 10
LONG = TrainConfig(epochs=10_000, batch_size=16, threads=1)  # minutes if never stopped


def job(seed):
    return JobSpec(model=ModelSpec(arch="repeatvector", seq_len=T, units=8),
                   data=SineConfig(n_series=64, n_val=8, seq_len=T, seed=3),
                   train=replace(LONG, seed=seed))


@pytest.fixture(scope="module")
def one_slot():
    distributed = pytest.importorskip("distributed")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  resources={"train": 1}, dashboard_address=None,
                                  host="127.0.0.1") as made:
        yield made


def test_runs_waiting_for_the_one_worker_show_their_place_in_line(one_slot):
    from lstmae_demo.jobs.dask_runner import DaskRunner

    runner = DaskRunner(one_slot.scheduler_address, grace_seconds=0.0, check_seconds=0.2)
    other = DaskRunner(one_slot.scheduler_address, check_seconds=0.2)  # another replica
    handles = []
    try:
        assert runner.slots == 1
        handles.append(runner.submit(job(1)))
        assert handles[0].wait_first_epoch(120)  # it holds the slot, training
        handles += [runner.submit(job(2)), other.submit(job(3))]
        views = [h.snapshot() for h in handles]
        assert [v.status for v in views] == [RUNNING, QUEUED, QUEUED]
        assert [v.position for v in views] == [None, 1, 2]
        assert "number 2 in the queue" in views[2].summary()
        assert runner.snapshot(handles[2].run_id).position == 2  # the same from any replica

        handles[0].stop()  # the second takes the slot; the third is next
        assert handles[1].wait_first_epoch(120)
        assert runner._poll(handles[2].run_id, 60, lambda v: v.position == 1 or v.done)
        view = handles[2].snapshot()
        assert view.status == QUEUED and view.position == 1
        assert handles[1].snapshot().position is None
    finally:
        for handle in handles:
            handle.runner.stop(handle.run_id)
        runner.close()
        other.close()
