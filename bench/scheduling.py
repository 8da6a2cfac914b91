"""Scheduling: first-in-first-out against round-robin by epochs, for a class pressing Train.

N learners submit runs of the same size at once (the app's default model and data, a few
epochs, a different seed each so that none joins another) to a LocalRunner with the
machine's default slots. Per policy: seconds from the submit to each learner's first loss
point (first, median and last learner) and until every run is done. A last row per size
submits N identical runs (one configuration shared by the class), which join one run.

    python -m bench.scheduling [--quick]   # prints the table; about 1 minute on 2 cores

Times are taken by the runs' own threads (each learner's `alive` callback is called right
after each of the run's events), not by polling. The machine is shared: other processes'
load shows up in every figure, so the policies are measured in turns, repeat by repeat, and
the load is printed beside them.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from dataclasses import replace

from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.jobs import FIFO, ROUND_ROBIN, JobSpec, LocalRunner, default_slots

from .common import QUICK_SERIES, Section, fmt_s, median, section_main
from .procstats import busy_cpu_seconds

SIZES = (6, 10)  # learners pressing Train at once
EPOCHS = 10  # per run: the app's default model, few epochs (~1.4 s alone on this machine)
REPEATS = 2
SHARED = "one shared configuration"  # the row where every learner submits the same run


def _jobs(n: int, epochs: int, quick: bool, shared: bool) -> list[JobSpec]:
    """n runs of the app's default size; distinct seeds unless `shared`."""
    app = AppConfig(defaults())
    data = replace(app.sine, n_series=QUICK_SERIES) if quick else app.sine
    return [JobSpec(model=app.spec, data=data,
                    train=replace(app.train, epochs=epochs, seed=0 if shared else i))
            for i in range(n)]


def measure(policy: str, n: int, epochs: int = EPOCHS, quick: bool = False,
            shared: bool = False) -> dict:
    """Submit n runs at once under `policy`; seconds to each first loss point and to the end."""
    runner = LocalRunner(policy=policy, check_seconds=None)  # alive: only after a run's events
    firsts: list[float] = []
    lock = threading.Lock()

    def learner():
        calls = itertools.count(1)

        def alive() -> bool:  # the run's thread: after Started (1), after the first epoch (2)
            if next(calls) == 2:
                with lock:
                    firsts.append(time.perf_counter() - start)
            return True
        return alive

    start = time.perf_counter()
    handles = [runner.submit(job, alive=learner()) for job in _jobs(n, epochs, quick, shared)]
    for h in handles:
        h.wait(600)
    total = time.perf_counter() - start
    firsts.sort()
    return {"policy": policy, "learners": n, "epochs": epochs, "shared": shared,
            "first": firsts[0], "median": median(firsts), "last": firsts[-1], "total": total,
            "runs_trained": len({h.run_id for h in handles}), "slots": runner.slots}


def measure_all(quick: bool = False) -> list[dict]:
    """Every size under both policies, in turns per repeat (medians), plus the shared row."""
    sizes, epochs, repeats = ((3,), 2, 1) if quick else (SIZES, EPOCHS, REPEATS)
    measure(FIFO, 1, 1, quick)  # the process's one-time costs (allocator, first optimiser)
    rows = []
    for n in sizes:
        runs: dict[str, list[dict]] = {FIFO: [], ROUND_ROBIN: [], SHARED: []}
        t0, busy0 = time.perf_counter(), busy_cpu_seconds()
        for _ in range(repeats):
            for policy in (FIFO, ROUND_ROBIN):
                runs[policy].append(measure(policy, n, epochs, quick))
            runs[SHARED].append(measure(ROUND_ROBIN, n, epochs, quick, shared=True))
        load = (busy_cpu_seconds() - busy0) / (time.perf_counter() - t0)  # cores busy, average
        for name, results in runs.items():
            row = {k: median([r[k] for r in results])
                   for k in ("first", "median", "last", "total")}
            row.update(policy=name, learners=n, epochs=epochs, repeats=repeats, load=load,
                       load_average=os.getloadavg()[0],
                       runs_trained=results[0]["runs_trained"], slots=results[0]["slots"])
            rows.append(row)
    return rows


HEADER = ("learners", "policy", "runs trained", "first point: first learner", "median",
          "last learner", "all done", "cores busy", "load average (1 min)")


def _cells(row: dict) -> list[str]:
    return [str(row["learners"]), row["policy"], str(row["runs_trained"]), fmt_s(row["first"]),
            fmt_s(row["median"]), fmt_s(row["last"]), fmt_s(row["total"]),
            f"{row['load']:.2f} of {os.cpu_count()}", f"{row['load_average']:.1f}"]


def run(quick: bool = False) -> Section:
    """The benchmark section: the table, with what it measured."""
    rows = measure_all(quick)
    section = Section("6. Scheduling: FIFO against round-robin by epochs")
    section.add(f"N learners submit runs at once to a runner with {default_slots(1)} slots (one "
                f"torch thread each): the app's default model and data, {rows[0]['epochs']} "
                "epochs, a different seed each (no joining), except the last row of each size, "
                "where all submit the same run. Times from the submit, medians of "
                f"{rows[0]['repeats']} repeats taken in turns. The machine is shared: cores "
                "busy (all processes, averaged over each size's measurements) and the load "
                "average (runnable processes, ours included) at its end say how much.")
    section.table(HEADER, [_cells(r) for r in rows])
    section.data["rows"] = rows
    return section


def main(argv: list[str] | None = None) -> int:
    """Print the table (python -m bench.scheduling [--quick])."""
    return section_main("python -m bench.scheduling", __doc__,
                        "3 learners, 2 epochs, tiny data", run, argv)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
