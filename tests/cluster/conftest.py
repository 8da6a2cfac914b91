"""A real Dask cluster on loopback for the cluster tests: a scheduler and two worker
processes of one thread each, each offering one training slot (the RESOURCE)."""

import os

import pytest


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the worker processes
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  resources={"train": 1}, dashboard_address=None,
                                  host="127.0.0.1") as made:
        with distributed.Client(made, set_as_default=False) as client:  # both import torch
            client.run(__import__, "lstmae_demo.jobs.dask_runner")      # now, side by side
        yield made


@pytest.fixture
def runners(cluster):
    """Two DaskRunners on the cluster, as two app replicas would have; closed afterwards."""
    from lstmae_demo.jobs.dask_runner import DaskRunner

    made = [DaskRunner(cluster.scheduler_address, grace_seconds=0.0, check_seconds=0.2)
            for _ in range(2)]
    yield made
    for runner in made:
        for run_id in list(runner._runs):  # nothing a test started trains on after it
            runner.stop(run_id)
        runner.close()
