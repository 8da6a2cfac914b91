"""Compare of four at the defaults: what the Compare page's Train costs.

The Compare page submits one run per architecture (the app's defaults, each with its default
choices) to the shared runner at once; they share its slots round-robin by epochs. Measured
here: seconds from the submit to each run's first loss point (the first point of its curve)
and to its end, and until all four are done; then the same four runs one at a time, each alone
on the runner, and the ratio of the comparison's total to the four single runs' sum (on N
slots about 1/N when nothing else is busy: the comparison is four single runs sharing the
cores, not extra work).

    python -m bench.compare [--quick]   # prints the table; about 3-4 minutes on 2 cores

Times are taken by the runs' own threads (each run's `alive` callback is called right after
each of its events), not by polling, as in bench/scheduling.py.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass, field

from lstmae_demo.compare import plan
from lstmae_demo.config import AppConfig
from lstmae_demo.jobs import JobSpec, LocalRunner
from lstmae_demo.settings import ARCHS

from .common import QUICK_SERIES, Section, fmt_s, section_main
from .procstats import busy_cpu_seconds


@dataclass
class Clock:
    """When each run's first epoch came in and when it ended, from a common start."""

    start: float = field(default_factory=time.perf_counter)
    first: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def alive(self, name: str):
        """A run's `alive` callback: its second call comes right after its first epoch."""
        calls = itertools.count(1)

        def check() -> bool:
            if next(calls) == 2:
                with self.lock:
                    self.first[name] = time.perf_counter() - self.start
            return True
        return check


def jobs(quick: bool) -> dict[str, JobSpec]:
    """The four runs the Compare page submits at the app's defaults (--quick: tiny data, two
    epochs)."""
    config = AppConfig.default()
    if quick:
        config = config.with_values(n_series=QUICK_SERIES, epochs=2)
    return {e.arch: e.job for e in plan(config, ARCHS)}


def run_together(specs: dict[str, JobSpec]) -> dict:
    """All at once on one runner, as the Compare page does."""
    runner = LocalRunner(check_seconds=None)  # alive: only after a run's events
    clock = Clock()
    handles = {a: runner.submit(j, alive=clock.alive(a)) for a, j in specs.items()}
    done: dict[str, float] = {}

    def wait(arch: str) -> None:  # one waiter per run: each end is timed as it comes
        handles[arch].wait(3600)
        done[arch] = time.perf_counter() - clock.start

    waiters = [threading.Thread(target=wait, args=(a,)) for a in handles]
    for w in waiters:
        w.start()
    for w in waiters:
        w.join()
    return {"first": clock.first, "done": done, "total": max(done.values()),
            "slots": runner.slots}


def run_alone(arch: str, job: JobSpec) -> dict:
    """One run alone on a fresh runner."""
    runner = LocalRunner(check_seconds=None)
    clock = Clock()
    handle = runner.submit(job, alive=clock.alive(arch))
    handle.wait(3600)
    return {"first": clock.first[arch], "done": time.perf_counter() - clock.start}


def _busy() -> tuple[float, float]:
    """(CPU seconds every process on the machine has spent busy so far, now)."""
    return busy_cpu_seconds(), time.perf_counter()


def _cores(since: tuple[float, float]) -> float:
    """Cores busy on average (all processes, ours included) since `since`."""
    busy, start = since
    return (busy_cpu_seconds() - busy) / max(1e-9, time.perf_counter() - start)


def measure(quick: bool = False) -> dict:
    """The comparison, then the four runs alone; the ratio of totals, and how busy the
    machine was during each (a shared machine's other work shows in every figure)."""
    specs = jobs(quick)
    for arch, job in jobs(True).items():  # one-time costs of the process and of each model
        run_alone(arch, job)
    since = _busy()
    together = run_together(specs)
    together["cores_busy"] = _cores(since)
    since = _busy()
    alone = {arch: run_alone(arch, job) for arch, job in specs.items()}
    alone_busy = _cores(since)
    singles = sum(a["done"] for a in alone.values())
    first = next(iter(specs.values()))
    return {"together": together, "alone": alone, "alone_cores_busy": alone_busy,
            "singles_total": singles, "ratio": together["total"] / singles,
            "epochs": first.train.epochs, "n_series": first.data.n_series}


HEADER = ("architecture", "in the comparison: first point", "done", "alone: first point",
          "done")


def run(quick: bool = False) -> Section:
    """The benchmark section."""
    m = measure(quick)
    t, alone = m["together"], m["alone"]
    section = Section("7. Compare of four at the defaults")
    section.add(f"The Compare page's Train at the defaults: the four architectures, each with "
                f"its default choices, {m['n_series']} sine series, {m['epochs']} epochs, "
                f"submitted at once to a runner with {t['slots']} slots (one torch thread "
                "each), round-robin by epochs. Seconds from the submit to each run's first "
                "loss point and to its end; then each run alone on a fresh runner, one after "
                "another.")
    rows = [[arch, fmt_s(t["first"].get(arch, float("nan"))), fmt_s(t["done"][arch]),
             fmt_s(alone[arch]["first"]), fmt_s(alone[arch]["done"])] for arch in alone]
    rows.append(["all four", fmt_s(max(t["first"].values())), fmt_s(t["total"]), "",
                 f"{fmt_s(m['singles_total'])} (sum)"])
    section.table(HEADER, rows)
    cores = os.cpu_count()
    section.add(f"The comparison took **{m['ratio']:.2f}x** the four single runs' sum "
                f"({fmt_s(t['total'])} against {fmt_s(m['singles_total'])}); on {t['slots']} "
                f"slots about {1 / t['slots']:.2f}x is what sharing the cores gives when "
                f"nothing else runs. Cores busy (all processes, ours included): "
                f"{t['cores_busy']:.2f} of {cores} during the comparison, "
                f"{m['alone_cores_busy']:.2f} of {cores} during the single runs.")
    section.target("Compare of four: last first point", fmt_s(max(t["first"].values())),
                   "(measured)", None)
    section.target("Compare of four: all done / four single runs", f"{m['ratio']:.2f}x",
                   "(measured)", None)
    section.data = m
    return section


def main(argv: list[str] | None = None) -> int:
    """Print the section (python -m bench.compare [--quick])."""
    return section_main("python -m bench.compare", __doc__, "tiny data, two epochs", run, argv)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
