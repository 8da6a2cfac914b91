"""python -m bench.cluster [--runs N] [--epochs E]: training on a Dask cluster against
in-process, on this machine.

For 1 and 2 training slots: N distinct runs of the app's default model (sine data, E epochs
each) submitted at once, through LocalRunner (threads of this process, FIFO) and through a
DaskRunner on a LocalCluster of that many worker processes (one thread, one slot each).
Reports runs per minute, the first run's time to its first loss point, and the mean seconds
per run, so the cluster's overhead (shipping the spec, a worker building model and data,
progress through the scheduler) shows against the in-process runner. The cluster's start-up
(~10 s) is reported apart and not counted. Run it with nothing else busy: on a shared
machine the figures measure the neighbours too.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

os.environ.setdefault("OMP_NUM_THREADS", "1")

from lstmae_demo.config import AppConfig  # noqa: E402
from lstmae_demo.jobs import FIFO, JobSpec, LocalRunner  # noqa: E402
from lstmae_demo.settings import defaults  # noqa: E402


def jobs(n: int, epochs: int, offset: int) -> list[JobSpec]:
    """n distinct runs (seeds differ, so none joins another) of the app's default model."""
    config = AppConfig(defaults())
    train = replace(config.train, epochs=epochs, threads=1)
    return [JobSpec(model=config.spec, data=config.sine, train=replace(train, seed=offset + i))
            for i in range(n)]


def measure(runner, specs: list[JobSpec]) -> dict[str, float]:
    start = time.perf_counter()
    handles = [runner.submit(spec) for spec in specs]
    handles[0].wait_first_epoch(600)
    first = time.perf_counter() - start
    for handle in handles:
        handle.wait(1200)
        assert handle.snapshot().error is None, handle.snapshot().error
    total = time.perf_counter() - start
    return {"runs_per_min": 60 * len(specs) / total, "first_point_s": first,
            "seconds_per_run": total / len(specs)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    from distributed import LocalCluster

    from lstmae_demo.jobs.dask_runner import DaskRunner

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'backend':<10} {'slots':>5} {'runs/min':>9} {'first point s':>14} {'s/run':>7}")
    offset = 0
    for slots in (1, 2):
        offset += 1000
        local = measure(LocalRunner(slots=slots, policy=FIFO), jobs(args.runs, args.epochs,
                                                                     offset))
        t0 = time.perf_counter()
        with LocalCluster(n_workers=slots, threads_per_worker=1, resources={"train": 1},
                          dashboard_address=None, host="127.0.0.1") as cluster:
            runner = DaskRunner(cluster.scheduler_address, check_seconds=None)
            runner.client.run(__import__, "lstmae_demo.jobs.dask_runner")  # warm workers
            started = time.perf_counter() - t0
            dask = measure(runner, jobs(args.runs, args.epochs, offset + 500))
            runner.close()
        for name, row in (("in-process", local), ("dask", dask)):
            print(f"{name:<10} {slots:>5} {row['runs_per_min']:>9.1f} "
                  f"{row['first_point_s']:>14.2f} {row['seconds_per_run']:>7.2f}")
        print(f"(cluster of {slots} worker(s) started and warmed in {started:.1f} s)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
