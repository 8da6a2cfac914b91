"""Section 5: thread settings for one user and for many, and the one-time costs of a process.

The app trains each run in a job thread of the server process, admitted by one shared
TrainingQueue(slots, threads_per_job); the trainer sets torch's thread count inside that
thread (in this torch build set_num_threads applies to the calling thread and to threads
created after it, so only the job thread's own call decides what the job uses).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import torch

from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import make_sine
from lstmae_demo.jobs import TrainingJob, TrainingQueue
from lstmae_demo.archs import build_model
from lstmae_demo.training import fit

from .common import Section, cli_train_seconds, fmt_x, interleaved, median, run_python, spread

SETTINGS = ((2, 1), (1, 2), (1, 1), (2, 2))  # (slots, threads per job)


def _one_user(repeats: int, quick: bool) -> list[list[object]]:
    """One job alone: seconds per epoch with 1 and with 2 torch threads, per preset."""
    rows = []
    for arch in ("repeatvector", "hidden_n"):
        app = AppConfig(dict(defaults(), arch=arch))
        data = make_sine(replace(app.sine, n_series=64) if quick else app.sine)
        cfg = replace(app.train, epochs=1 if quick else 3, n_show=0)

        def rate(threads: int, cfg=cfg, app=app, data=data) -> float:
            done = fit(build_model(app.spec, seed=0), data.train, data.val,
                       replace(cfg, threads=threads))
            return done.sequences_per_second

        r = interleaved({"1": lambda: rate(1), "2": lambda: rate(2)}, repeats)
        rows.append([arch, f"{median(r['1']):.0f} ({spread(r['1'])})",
                     f"{median(r['2']):.0f} ({spread(r['2'])})",
                     fmt_x(median(r["2"]) / median(r["1"]))])
    return rows


def _job_thread_rate(threads: int, quick: bool) -> float:
    """One job alone through a TrainingQueue (the app's path): its own thread, its own team."""
    app = AppConfig(dict(defaults(), epochs=1 if quick else 10))
    data = make_sine(replace(app.sine, n_series=64) if quick else app.sine)
    queue = TrainingQueue(slots=1, threads_per_job=threads)
    job = TrainingJob(build_model(app.spec, seed=0), data.train, data.val, app.train,
                      queue=queue).start()
    job.wait()
    return job.snapshot().finished.sequences_per_second


def _classroom(slots: int, threads: int, learners: int, epochs: int, quick: bool) -> dict:
    """`learners` press Train at once on the app's defaults; when does each see results?"""
    app = AppConfig(dict(defaults(), epochs=epochs))
    data = make_sine(replace(app.sine, n_series=64) if quick else app.sine)
    queue = TrainingQueue(slots=slots, threads_per_job=threads)
    start = time.perf_counter()
    jobs = [TrainingJob(build_model(app.spec, seed=i), data.train, data.val,
                        replace(app.train, seed=i), queue=queue, name=f"learner-{i}").start()
            for i in range(learners)]
    first_epoch: dict[int, float] = {}
    while not all(job.snapshot().done for job in jobs):
        now = time.perf_counter() - start
        for i, job in enumerate(jobs):
            if i not in first_epoch and job.snapshot().epoch >= 1:
                first_epoch[i] = now
        time.sleep(0.01)
    makespan = time.perf_counter() - start
    views = [job.snapshot() for job in jobs]
    assert all(v.finished is not None and v.finished.reason == "completed" for v in views)
    finish = [v.finished.seconds for v in views]  # each run's own time, queueing excluded
    return {"makespan": makespan, "first_epoch_median": statistics.median(first_epoch.values()),
            "first_epoch_worst": max(first_epoch.values()),
            "run_seconds_median": statistics.median(finish),
            "sequences_per_second": sum(len(data.train) * epochs for _ in jobs) / makespan}


def first_optimizer_seconds() -> float:
    """A fresh process: how long the first torch optimiser takes to build (imports dynamo)."""
    code = ("import time, torch\n"
            "p = [torch.zeros(1, requires_grad=True)]\n"
            "t = time.perf_counter(); torch.optim.Adam(p); a = time.perf_counter() - t\n"
            "t = time.perf_counter(); torch.optim.Adam(p); b = time.perf_counter() - t\n"
            "print(a, b)\n")
    first, second = map(float, run_python(code).split())
    return first - second


def run(quick: bool = False) -> Section:
    """Measure and describe thread settings."""
    sec = Section("5. Thread settings: one user and a classroom")
    repeats = 1 if quick else 3
    sec.add("**One user.** One training run alone at the app's defaults in this process's "
            "main thread, as the CLI trains (`fit(..., threads=N)`; sequences/s, median of "
            f"{repeats} interleaved repeats, min-max in brackets). Two threads only pay when "
            "nothing else wants the cores: an OpenMP team waits at every parallel region for "
            "its slowest thread, so one busy core stalls both.")
    rows = _one_user(repeats, quick)
    sec.table(["preset", "1 thread", "2 threads", "2 threads / 1 thread"], rows)
    sec.data["one_user"] = rows

    r = interleaved({"1": lambda: _job_thread_rate(1, quick),
                     "2": lambda: _job_thread_rate(2, quick)}, repeats)
    sec.data["job_thread"] = r
    sec.add("", "The same run as the app does it, in a job thread of its own through a "
            f"TrainingQueue(slots=1) (repeatvector, sequences/s): 1 thread "
            f"**{median(r['1']):.0f}** ({spread(r['1'])}), 2 threads **{median(r['2']):.0f}** "
            f"({spread(r['2'])}): **{fmt_x(median(r['2']) / median(r['1']))}**. A fresh thread "
            "gets a fresh OpenMP team, and for these small matrices the second thread mostly "
            "spins.")
    sec.target("app: 2 torch threads / 1 in a job thread (one user)",
               fmt_x(median(r["2"]) / median(r["1"])), "1 thread chosen",
               median(r["1"]) >= median(r["2"]))

    epochs = 2 if quick else 10
    rows, cli = [], {}
    for threads in (1,) if quick else (1, 2):  # two runs with 2 threads each: ~50x slower
        alone = [x for _ in range(1 if quick else 2)
                 for x in cli_train_seconds("repeatvector", epochs, threads)]
        both = [x for _ in range(1 if quick or threads == 2 else 2)
                for x in cli_train_seconds("repeatvector", epochs, threads, 2)]
        cli[threads] = {"alone": alone, "two at once": both}
        rows.append([threads, f"{median(alone):.2f} s", f"{median(both):.2f} s",
                     fmt_x(median(both) / median(alone))])
    sec.data["cli"] = cli
    sec.add("", f"**The CLI** (`python -m lstmae_demo train --arch repeatvector "
            f"--epochs {epochs} --threads N`, the app's data; each run's own seconds, "
            "medians): alone, and two started at once (a second learner, or the app, on the "
            "same machine):")
    sec.table(["--threads", "alone", "two at once", "slowdown"], rows)
    if 2 in cli:
        one_alone, two_alone = median(cli[1]["alone"]), median(cli[2]["alone"])
        one_both, two_both = median(cli[1]["two at once"]), median(cli[2]["two at once"])
        sec.target("CLI: run time with --threads 2 / with 1, alone (< 1: 2 is faster)",
                   fmt_x(two_alone / one_alone), "1 thread chosen", None)
        sec.target("CLI: run time with --threads 2 / with 1, two runs at once",
                   fmt_x(two_both / one_both), "1 thread chosen", None)

    learners = 3 if quick else 6
    epochs = 1 if quick else 5
    rows, data = [], {}
    for slots, threads in SETTINGS:
        results = [_classroom(slots, threads, learners, epochs, quick)
                   for _ in range(1 if quick or threads > 1 else 2)]  # threads > 1: slow
        r = {k: statistics.median(x[k] for x in results) for k in results[0]}
        data[f"slots={slots},threads={threads}"] = r
        rows.append([slots, threads, slots * threads, f"{r['makespan']:.1f} s",
                     f"{r['sequences_per_second']:.0f}", f"{r['first_epoch_median']:.1f} s",
                     f"{r['first_epoch_worst']:.1f} s", f"{r['run_seconds_median']:.2f} s"])
    base = data["slots=2,threads=1"]["sequences_per_second"]
    for row, key in zip(rows, data, strict=True):
        row.insert(5, fmt_x(data[key]["sequences_per_second"] / base))
    sec.add("", f"**A classroom.** {learners} learners press Train at the same moment "
            f"(app defaults, {epochs} epochs each, different seeds); every job goes through "
            "one TrainingQueue in this process, as in the app. Ratios against the app's "
            "setting (2 slots x 1 thread) measured in the same run; medians of "
            f"{1 if quick else 2} repeats (1 for the 2-thread settings, which are slow):")
    sec.table(["slots", "threads/job", "threads busy", "all done after", "sequences/s",
               "vs 2x1", "first epoch seen (median learner)", "first epoch seen (last learner)",
               "one run's own time (median)"], rows)
    sec.data["classroom"] = data
    t_first = first_optimizer_seconds()
    sec.data["first_optimizer_seconds"] = t_first
    sec.add(f"**One-time cost.** The first torch optimiser a process builds imports "
            f"torch._dynamo: **{t_first:.2f} s** (a fresh process, measured against its own "
            "second optimiser). The CLI pays it on every run; the app once per server "
            "process, in a background thread started by the first page view "
            "(`lstmae_demo/ui/warmup.py`), not in a learner's first epoch (section 4).")
    torch.set_num_threads(1)
    return sec
