"""Section 6: the profile of a training run, and what each optimisation bought, re-measured."""

from __future__ import annotations

import json
from contextlib import contextmanager, nullcontext
from dataclasses import replace

from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import make_sine
from lstmae_demo.archs import build_model
from lstmae_demo.spec import ARCHS
from lstmae_demo.training import fit

from . import convergence
from .common import Section, fmt_x, interleaved, median, paired_ratio, run_python

# A fresh process trains one preset at the app's defaults; with ALLOCATOR=0 the trainer's
# glibc tuning is switched off first, so the two can be compared in the same suite run.
ALLOCATOR_CHILD = """
import json, resource, sys
from dataclasses import replace
import torch
import lstmae_demo.training as tr
from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import make_sine
from lstmae_demo.archs import build_model
arch, epochs, batch, tuned = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
if not tuned:
    tr.tune_allocator = lambda: False
torch.set_num_threads(1)
app = AppConfig(dict(defaults(), arch=arch, batch_size=batch))
data = make_sine(app.sine)
cfg = replace(app.train, epochs=1, threads=1, n_show=0)
tr.fit(build_model(app.spec, seed=0), data.train, data.val, cfg)  # warm-up (dynamo import)
before = resource.getrusage(resource.RUSAGE_SELF)
done = tr.fit(build_model(app.spec, seed=0), data.train, data.val, replace(cfg, epochs=epochs))
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"sps": done.sequences_per_second,
                  "faults": after.ru_minflt - before.ru_minflt,
                  "system_seconds": after.ru_stime - before.ru_stime}))
"""


def _allocator(arch: str, epochs: int, batch: int, tuned: bool) -> dict:
    code = (f"import sys; sys.argv = ['x', {arch!r}, '{epochs}', '{batch}', '{int(tuned)}']\n"
            + ALLOCATOR_CHILD)
    return json.loads(run_python(code).strip().splitlines()[-1])


def allocator_rows(quick: bool) -> list[list[object]]:
    """Our trainer with and without the glibc malloc tuning, alternated, per preset and batch."""
    rows = []
    epochs, repeats = (1, 1) if quick else (3, 2)
    cases = [("repeatvector", 16)] if quick else [
        (arch, batch) for arch in ("repeatvector", "hidden_n") for batch in (16, 32, 64)]
    for arch, batch in cases:
        on, off = [], []
        for _ in range(repeats):
            off.append(_allocator(arch, epochs, batch, tuned=False))
            on.append(_allocator(arch, epochs, batch, tuned=True))
        sps_on, sps_off = median([r["sps"] for r in on]), median([r["sps"] for r in off])
        rows.append([arch, batch, f"{sps_off:.0f}", f"{sps_on:.0f}", fmt_x(sps_on / sps_off),
                     f"{median([r['faults'] for r in off]):,.0f} -> "
                     f"{median([r['faults'] for r in on]):,.0f}",
                     f"{median([r['system_seconds'] for r in off]):.2f} s -> "
                     f"{median([r['system_seconds'] for r in on]):.2f} s"])
    return rows


@contextmanager
def torch_clipping():
    """The trainer with torch's clip_grad_norm_ instead of its own cheaper, identical one."""
    from torch import nn

    import lstmae_demo.training as trainer

    original = trainer._clip_gradients
    trainer._clip_gradients = lambda params, m: nn.utils.clip_grad_norm_(params, m).item()
    try:
        yield
    finally:
        trainer._clip_gradients = original


@contextmanager
def adam_kind(**kind):
    """The trainer with another implementation of Adam (foreach=False, fused=True, ...)."""
    import torch

    original = torch.optim.Adam

    class Other(original):
        def __init__(self, params, lr, **_):
            super().__init__(params, lr=lr, **kind)

    torch.optim.Adam = Other
    try:
        yield
    finally:
        torch.optim.Adam = original


def step_part_rows(quick: bool) -> list[list[object]]:
    """Microseconds per call of the optimiser step and the clipping, each implementation."""
    import time

    import torch
    from torch import nn

    import lstmae_demo.training as trainer

    torch.set_num_threads(1)
    calls = 200 if quick else 3000
    rows = []
    for arch in (["encdec_ad"] if quick else ARCHS):
        app = AppConfig(dict(defaults(), arch=arch))
        data = make_sine(replace(app.sine, n_series=64))
        model = build_model(app.spec, seed=0)
        params = [p for p in model.parameters() if p.requires_grad]
        xb = torch.from_numpy(data.train[: app.train.batch_size])
        model.loss(model(xb), xb).backward()

        def per_call(fn) -> float:
            for _ in range(20):
                fn()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            return (time.perf_counter() - start) / calls * 1e6

        opts = {kind: torch.optim.Adam(params, lr=1e-12, **kw) for kind, kw in
                (("per-tensor", {"foreach": False}), ("foreach", {"foreach": True}),
                 ("fused", {"fused": True}))}
        r = interleaved({**{k: (lambda o=o: per_call(o.step)) for k, o in opts.items()},
                         "torch clip": lambda p=params: per_call(
                             lambda: nn.utils.clip_grad_norm_(p, 1e9).item()),
                         "our clip": lambda p=params: per_call(
                             lambda: trainer._clip_gradients(p, 1e9))},
                        1 if quick else 5)
        rows.append([arch] + [f"{median(r[k]):.0f} µs" for k in
                              ("per-tensor", "foreach", "fused", "torch clip", "our clip")])
    return rows


def hot_loop_rows(quick: bool) -> list[list[object]]:
    """Throughput of the shipped trainer, each hot-loop change undone, and the bare loop."""
    import torch

    from .loops import bare_rate

    torch.set_num_threads(1)
    rows = []
    for arch in (["encdec_ad"] if quick else ARCHS):
        app = AppConfig(dict(defaults(), arch=arch))
        data = make_sine(replace(app.sine, n_series=64) if quick else app.sine)
        cfg = replace(app.train, epochs=1 if quick else 3, threads=1, n_show=0)
        x = torch.from_numpy(data.train)

        def ours(context=nullcontext, app=app, data=data, cfg=cfg) -> float:
            with context():
                return fit(build_model(app.spec, seed=0), data.train, data.val,
                           cfg).sequences_per_second

        def bare(app=app, x=x, cfg=cfg) -> float:
            return bare_rate(app.spec, x, cfg.epochs, cfg.batch_size, cfg.lr)

        r = interleaved({"ours": ours, "torch clipping": lambda: ours(torch_clipping),
                         "per-tensor Adam": lambda: ours(lambda: adam_kind(foreach=False)),
                         "bare": bare}, 1 if quick else 5)
        rows.append([arch, f"{median(r['bare']):.0f}"]
                    + [fmt_x(paired_ratio(r[k], r["bare"])) for k in
                       ("per-tensor Adam", "torch clipping", "ours")])
    return rows


def profile_text(quick: bool) -> str:
    """pyinstrument's view of a training run at the app's defaults (after a warm-up run)."""
    from pyinstrument import Profiler

    app = AppConfig(defaults())
    data = make_sine(replace(app.sine, n_series=64) if quick else app.sine)
    cfg = replace(app.train, epochs=1 if quick else 10, threads=1)
    fit(build_model(app.spec, seed=0), data.train, data.val, replace(cfg, epochs=1))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    fit(build_model(app.spec, seed=0), data.train, data.val, cfg)
    profiler.stop()
    return profiler.output_text(unicode=False, color=False, show_all=False)


@contextmanager
def constant_lr():
    """The trainer without its end-of-run learning-rate decay."""
    import lstmae_demo.training as trainer

    original = trainer.lr_factor
    trainer.lr_factor = lambda step, total: 1.0
    try:
        yield
    finally:
        trainer.lr_factor = original


def ablation_rows(quick: bool) -> list[list[object]]:
    """Each new default reverted on its own: does the run still get there, and how fast?"""
    d = defaults()
    o = convergence.OLD_DEFAULTS
    changes = [("all new defaults", {}, nullcontext),
               (f"lr {o['lr']} instead of {d['lr']}", {"lr": o["lr"]}, nullcontext),
               (f"batch {o['batch_size']} instead of {d['batch_size']}",
                {"batch_size": o["batch_size"]}, nullcontext),
               (f"noise {o['noise']:g} instead of {d['noise']:g}", {"noise": o["noise"]},
                nullcontext),
               ("constant lr (no decay over the last 30%)", {}, constant_lr),
               (f"{o['epochs']} epochs instead of {d['epochs']}", {"epochs": o["epochs"]},
                nullcontext),
               ("fused Adam instead of foreach (same maths, other rounding)", {},
                lambda: adam_kind(fused=True))]
    seeds = [0] if quick else [0, 1, 2]
    archs = ["repeatvector"] if quick else ["repeatvector", "hidden_n", "encdec_ad"]
    rows = []
    for label, change, context in changes:
        row = [label]
        for arch in archs:
            runs = []
            for seed in seeds:
                values = dict(d, arch=arch, seed=seed, **change)
                if quick:
                    values.update(epochs=1, n_series=64)
                with context():
                    runs.append(convergence.run_to_target(values))
            reached = [r["t_target"] for r in runs]
            worst = None if None in reached else max(reached)
            row.append(f"{sum(r is not None for r in reached)}/{len(runs)}, slowest "
                       f"{convergence._cell(worst)}; final "
                       + "/".join(f"{r['final_mse']:.3f}" for r in runs)
                       + f"; late max {max(r['tail_max'] for r in runs):.3f}")
        rows.append(row)
    return rows, archs, seeds


def run(quick: bool = False, new_defaults: list[dict] | None = None) -> Section:
    """Profile, then re-measure each optimisation against its 'before'."""
    sec = Section("6. Profile and what each optimisation bought")
    sec.add("**Profile** (pyinstrument, the app's default preset and settings, after a warm-up "
            "run): almost all the time is inside PyTorch's native LSTM forward and backward; "
            "the trainer's own Python (shuffling, clipping, .item(), events) and Adam are "
            "too small to see, and validation is a few percent. So there was little to win "
            "in the loop's code (two small wins below), much in what the native code waits "
            "for (memory, at batch 32 and up) and most in how many steps a run needs (the "
            "defaults).")
    sec.add("", "<details><summary>pyinstrument output</summary>", "", "```",
            profile_text(quick).strip(), "```", "", "</details>")

    rows = hot_loop_rows(quick)
    sec.add("", "**Optimisations 1-2: the trainer's hot loop.** Throughput against the bare loop "
            "(`bench/loops.py`: per-tensor Adam, no clipping) at the app's defaults, 1 thread, "
            "medians of the ratios of interleaved rounds: the trainer with each change undone, "
            "then as shipped. *foreach Adam* batches the optimiser's per-tensor arithmetic (same "
            "numbers); *cheaper clipping* computes the same total norm with torch's public "
            "pieces and skips the multiply when torch's factor is >= 1 (same numbers, bit for "
            "bit).")
    sec.table(["preset", "bare loop, sequences/s", "ours with per-tensor Adam / bare",
               "ours with torch's clip_grad_norm_ / bare", "ours as shipped / bare"], rows)
    sec.data["hot_loop"] = rows
    rows = step_part_rows(quick)
    sec.add("", "End to end these two are worth a few percent each, about this machine's noise "
            "between repeats; timed on their own (microseconds per call at the default batch, "
            "medians of interleaved repeats; the clipping for a step whose norm needs no "
            "clipping, the common case once training settles):")
    sec.table(["preset", "Adam, per-tensor (torch's default on CPU)", "Adam, foreach (ours)",
               "Adam, fused (rejected)", "torch clip_grad_norm_", "our clipping"], rows)
    sec.data["step_parts"] = rows

    rows = allocator_rows(quick)
    sec.add("", "**Optimisation 3: glibc malloc tuning** (`lstmae_demo.training.tune_allocator`, "
            "once per process). Profiling the old default (batch 32) showed 20-50% of a step "
            "in page faults: glibc handed each step's freed LSTM workspace back to the OS and "
            "faulted it in again on the next step. At the new default batch 16 glibc's own "
            "dynamic thresholds happen to avoid that, so the tuning now guards the larger "
            "batches (the issue's workload, a learner who raises the batch size). Measured in "
            "fresh processes, alternated, tuning off vs on (sequences/s, 1 thread):")
    sec.table(["preset", "batch", "off", "on", "speed-up", "minor page faults",
               "system CPU time"], rows)
    sec.data["allocator"] = rows

    old = convergence.old_defaults(quick)
    sec.data["old_defaults"] = old
    new = {r["arch"]: r for r in (new_defaults or []) if r["seed"] == 0}
    rows = []
    for r in old:
        n = new.get(r["arch"])
        rows.append([r["arch"],
                     convergence._cell(r["t_target"]) + f" (final {r['final_mse']:.3f})",
                     "-" if n is None else convergence._cell(n["t_target"])
                     + f" (final {n['final_mse']:.4f})"])
    o = convergence.OLD_DEFAULTS
    sec.add("", "**Optimisation 4: the defaults.** Time to validation MSE < 0.01 (seed 0) at "
            f"the old defaults ({o['units']} units, lr {o['lr']}, batch {o['batch_size']}, "
            f"{o['epochs']} epochs, noise {o['noise']:g}, encdec_ad decoder "
            f"{convergence.OLD_DECODER}) and at the new ones (section 3), with the final "
            "validation MSE of the app's default run:")
    sec.table(["preset", "old defaults", "new defaults"], rows)

    rows, archs, seeds = ablation_rows(quick)
    sec.add("", "**Which new default matters.** Each change reverted on its own, the others "
            f"kept (seeds {', '.join(map(str, seeds))}): how many runs reached validation "
            "MSE < 0.01, the slowest time to it, each run's final validation MSE at the end "
            "of its epochs, and the worst validation MSE over the last 20% of any run's "
            "epochs (*late max*: is the model still jittering at the end?):")
    sec.table(["defaults", *archs], rows)
    sec.data["ablation"] = rows
    return sec
