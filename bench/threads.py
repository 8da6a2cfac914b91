"""Section 5: thread settings for one learner and for a classroom, and a process's one-time cost.

The app trains each run in a thread of its own in the server process, at most `slots` runs at
once, each with `threads` torch threads; the trainer sets torch's thread count inside the run's
thread (in this torch build set_num_threads applies to the calling thread and to threads
created after it, so only the run's own thread decides what the run uses). Here a semaphore
of `slots` permits admits the runs, in arrival order as the app's job queue does: what is
measured is the setting, slots x threads, not the queue's code.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import torch

from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import make_sine
from lstmae_demo.training import Epoch, Finished, fit, train

from .common import (
    QUICK_SERIES,
    Section,
    cli_train_seconds,
    fmt_rate,
    fmt_s,
    fmt_x,
    interleaved,
    median,
    thread_counts,
)

SETTINGS = ((2, 1), (1, 2), (1, 1), (2, 2))  # (slots, threads per job)


def _sine(app: AppConfig, quick: bool):
    """The app's training data, or a sliver of it for --quick."""
    return make_sine(replace(app.sine, n_series=QUICK_SERIES) if quick else app.sine)


def _one_user(repeats: int, quick: bool) -> list[list[object]]:
    """One run alone in this thread: sequences per second with 1 and 2 torch threads, per preset."""
    rows = []
    for arch in ("repeatvector", "hidden_n"):
        app = AppConfig(dict(defaults(), arch=arch))
        data = _sine(app, quick)
        cfg = replace(app.train, epochs=1 if quick else 3, n_show=0)

        def rate(threads: int, cfg=cfg, app=app, data=data) -> float:
            done = fit(build_model(app.spec, seed=0), data.train, data.val,
                       replace(cfg, threads=threads))
            return done.sequences_per_second

        r = interleaved({str(t): (lambda t=t: rate(t)) for t in thread_counts(quick)},
                        repeats)
        one, two = r["1"], r.get("2", [])
        rows.append([arch, fmt_rate(one), fmt_rate(two), fmt_x(median(two) / median(one))])
    return rows


def _in_thread(fn: Callable[[], float]) -> float:
    """Run fn in a fresh thread, as the app runs a training job; return its result."""
    result: list[float] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            result.append(fn())
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(err)

    worker = threading.Thread(target=body, name="bench-job")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return result[0]


def _job_thread_rate(threads: int, quick: bool) -> float:
    """One run alone in a thread of its own (the app's way): sequences per second."""
    app = AppConfig(dict(defaults(), epochs=1 if quick else 10))
    data = _sine(app, quick)
    model = build_model(app.spec, seed=0)
    cfg = replace(app.train, threads=threads)
    return _in_thread(lambda: fit(model, data.train, data.val, cfg).sequences_per_second)


def _classroom(slots: int, threads: int, learners: int, epochs: int, quick: bool) -> dict:
    """`learners` press Train at once on the app's defaults; when does each see results?"""
    app = AppConfig(dict(defaults(), epochs=epochs))
    data = _sine(app, quick)
    gate = threading.Semaphore(slots)  # wakes its waiters in the order they started waiting
    first_epoch: dict[int, float] = {}
    finished: dict[int, Finished] = {}
    errors: list[BaseException] = []

    def learner(i: int, model: torch.nn.Module, start: float) -> None:
        cfg = replace(app.train, seed=i, threads=threads)
        try:
            with gate:
                for event in train(model, data.train, data.val, cfg):
                    if isinstance(event, Epoch) and event.epoch == 1:
                        first_epoch[i] = time.perf_counter() - start
                    elif isinstance(event, Finished):
                        finished[i] = event
        except BaseException as err:  # noqa: BLE001 - re-raised below, in the main thread
            errors.append(err)

    models = [build_model(app.spec, seed=i) for i in range(learners)]  # built on submission
    start = time.perf_counter()
    workers = [threading.Thread(target=learner, args=(i, m, start), name=f"learner-{i}")
               for i, m in enumerate(models)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    makespan = time.perf_counter() - start
    if errors:
        raise errors[0]
    if sorted(finished) != list(range(learners)) or any(
            f.reason != "completed" for f in finished.values()):
        raise RuntimeError(f"a classroom run did not complete: {finished}")
    own = [f.seconds for f in finished.values()]  # each run's own time, waiting excluded
    return {"makespan": makespan, "first_epoch_median": statistics.median(first_epoch.values()),
            "first_epoch_worst": max(first_epoch.values()),
            "run_seconds_median": statistics.median(own),
            "sequences_per_second": len(data.train) * epochs * learners / makespan}


def run(quick: bool = False, first_optimizer: float | None = None) -> Section:
    """Measure and describe thread settings; `first_optimizer`: see common.py."""
    sec = Section("5. Thread settings: one user and a classroom")
    repeats = 1 if quick else 3
    sec.add("**One user.** One training run alone at the app's defaults in this process's "
            "main thread, as the CLI trains (`fit(..., threads=N)`; sequences/s, median of "
            f"{repeats} interleaved repeats, min-max in brackets). Two threads only pay when "
            "nothing else wants the cores: an OpenMP team waits at every parallel region for "
            "its slowest thread, so one busy core stalls both."
            + (" --quick: 1 thread only." if quick else ""))
    rows = _one_user(repeats, quick)
    sec.table(["preset", "1 thread", "2 threads", "2 threads / 1 thread"], rows)
    sec.data["one_user"] = rows

    r = interleaved({str(t): (lambda t=t: _job_thread_rate(t, quick))
                     for t in thread_counts(quick)}, repeats)
    r.setdefault("2", [])
    sec.data["job_thread"] = r
    sec.add("", "The same run as the app does it, in a thread of its own "
            f"(repeatvector, sequences/s): 1 thread "
            f"**{fmt_rate(r['1'])}**, 2 threads **{fmt_rate(r['2'])}**: "
            f"**{fmt_x(median(r['2']) / median(r['1']))}**. A fresh thread "
            "gets a fresh OpenMP team, and for these small matrices the second thread mostly "
            "spins.")
    sec.target("app: 2 torch threads / 1 in a job thread (one user)",
               fmt_x(median(r["2"]) / median(r["1"])), "1 thread chosen",
               None if quick else median(r["1"]) >= median(r["2"]))

    epochs = 1 if quick else 10
    rows, cli = [], {}
    for threads in thread_counts(quick):
        alone = [x for _ in range(1 if quick else 2)
                 for x in cli_train_seconds("repeatvector", epochs, threads)]
        # --quick: one CLI process only (each one pays for importing torch and dynamo).
        both = [] if quick else [x for _ in range(1 if threads == 2 else 2)
                                 for x in cli_train_seconds("repeatvector", epochs, threads, 2)]
        cli[threads] = {"alone": alone, "two at once": both}
        rows.append([threads, fmt_s(median(alone)), fmt_s(median(both)),
                     fmt_x(median(both) / median(alone))])
    sec.data["cli"] = cli
    sec.add("", f"**The CLI** (`python -m lstmae_demo train --arch repeatvector "
            f"--epochs {epochs} --threads N`, the app's data; each run's own seconds, "
            "medians): alone, and two started at once (a second learner, or the app, on the "
            "same machine)" + ("; --quick: one run alone, 1 thread" if quick else "") + ":")
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
    for slots, threads in [s for s in SETTINGS if s[1] in thread_counts(quick)]:
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
            f"(app defaults, {epochs} epochs each, different seeds); each run trains in a "
            "thread of its own in this process, at most *slots* at once, admitted in arrival "
            "order, as in the app. Ratios against the app's "
            "setting (2 slots x 1 thread) measured in the same run; medians of "
            f"{1 if quick else 2} repeats (1 for the 2-thread settings, which are slow)"
            + ("; --quick: the 1-thread settings only" if quick else "") + ":")
    sec.table(["slots", "threads/job", "threads busy", "all done after", "sequences/s",
               "vs 2x1", "first epoch seen (median learner)", "first epoch seen (last learner)",
               "one run's own time (median)"], rows)
    sec.data["classroom"] = data
    sec.data["first_optimizer_seconds"] = first_optimizer
    figure = ("not measured (something in this process had imported it already)"
              if first_optimizer is None else f"**{first_optimizer:.2f} s**")
    sec.add(f"**One-time cost.** The first torch optimiser a process builds imports "
            f"torch._dynamo: {figure} (this process's first optimiser, built before anything "
            "else here trained, against its second). The CLI pays it on every run; the app "
            "once per server process, in a background thread started by the first page view "
            "(`lstmae_demo/ui/warmup.py`), not in a learner's first epoch (section 4).")
    torch.set_num_threads(1)
    return sec
