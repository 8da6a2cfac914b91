"""Section 2: training throughput of our trainer vs a bare loop, the ECG way and Keras fit."""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig, defaults
from lstmae_demo.data import SineConfig, make_sine
from lstmae_demo.spec import ARCHS, preset
from lstmae_demo.training import TrainConfig, fit

from .common import (
    QUICK_SERIES,
    Section,
    fmt_x,
    interleaved,
    median,
    paired_ratio,
    spread,
    thread_counts,
    verdict,
)
from .loops import bare_rate, keras_fit, keras_model, one_per_step_loop

# The reference workload: 256 sine series x 64 steps, 32 units, batch 32, 3 epochs (a
# model and batch larger than the app's defaults, so the loop's overhead is measured on real work).
WORKLOAD = dict(n_series=256, seq_len=64, units=32, batch_size=32, epochs=3, lr=0.01)


def _workload(quick: bool) -> dict:
    return dict(WORKLOAD, n_series=QUICK_SERIES, epochs=1) if quick else dict(WORKLOAD)


def _rates(w: dict, threads: int, repeats: int, with_keras: bool) -> dict[str, list[float]]:
    """Sequences per second of each way of training the repeatvector model on the workload."""
    spec = replace(preset("repeatvector"), seq_len=w["seq_len"], units=w["units"])
    data = make_sine(SineConfig(n_series=w["n_series"], n_val=64, seq_len=w["seq_len"]))
    x = torch.from_numpy(data.train)
    n, epochs, bs, lr = len(x), w["epochs"], w["batch_size"], w["lr"]
    one_x = x[: max(8, n // 4)] if n > 64 else x  # the slow way: a quarter of the data is plenty
    cfg = TrainConfig(epochs=epochs, batch_size=bs, lr=lr, threads=threads, n_show=0)
    torch.set_num_threads(threads)  # the bare loops and Keras run in this thread

    last = {}

    def ours() -> float:
        last["ours"] = fit(build_model(spec, seed=0), data.train, data.val, cfg)
        return last["ours"].sequences_per_second

    def ours_wall() -> float:
        start = time.perf_counter()
        fit(build_model(spec, seed=0), data.train, data.val, cfg)
        return n * epochs / (time.perf_counter() - start)

    def bare() -> float:
        return bare_rate(spec, x, epochs, bs, lr)

    def one_per_step() -> float:
        model = build_model(spec, seed=0)
        start = time.perf_counter()
        one_per_step_loop(model, one_x, 1, lr)
        return len(one_x) / (time.perf_counter() - start)

    subjects = {"ours": ours, "ours (wall, with validation)": ours_wall, "bare": bare,
                "one sequence per step": one_per_step}
    if with_keras:
        model = keras_model(spec, lr)
        keras_fit(model, data.train, 1, bs)  # warm-up: Keras builds its train function once

        def keras() -> float:
            start = time.perf_counter()
            keras_fit(model, data.train, epochs, bs)
            return n * epochs / (time.perf_counter() - start)

        subjects["Keras fit"] = keras
    bare()  # warm-up: the first optimiser of a process imports torch._dynamo (~1 s)
    return interleaved(subjects, repeats)


def _per_preset(repeats: int, quick: bool) -> list[list[object]]:
    """Ours vs the bare loop on every preset at the app's default settings, 1 thread."""
    rows = []
    torch.set_num_threads(1)
    for arch in ARCHS:
        app = AppConfig(dict(defaults(), arch=arch))
        sine = replace(app.sine, n_series=QUICK_SERIES) if quick else app.sine
        data = make_sine(sine)
        x = torch.from_numpy(data.train)
        epochs = 1 if quick else 3
        cfg = replace(app.train, epochs=epochs, threads=1, n_show=0)

        def ours(cfg=cfg, spec=app.spec, data=data) -> float:
            return fit(build_model(spec, seed=0), data.train, data.val, cfg).sequences_per_second

        def ours_noclip(cfg=cfg, spec=app.spec, data=data) -> float:
            return fit(build_model(spec, seed=0), data.train, data.val,
                       replace(cfg, clip_norm=None)).sequences_per_second

        def bare(spec=app.spec, x=x, cfg=cfg) -> float:
            return bare_rate(spec, x, cfg.epochs, cfg.batch_size, cfg.lr)

        r = interleaved({"ours": ours, "ours, no clipping": ours_noclip, "bare": bare}, repeats)
        ratio = paired_ratio(r["ours"], r["bare"])
        rows.append([arch, f"{median(r['bare']):.0f}", f"{median(r['ours']):.0f}",
                     fmt_x(ratio), fmt_x(paired_ratio(r["ours, no clipping"], r["bare"])),
                     verdict(ratio >= 0.9)])
    return rows


def run(quick: bool = False) -> Section:
    """Measure and describe throughput."""
    sec = Section("2. Training throughput")
    w = _workload(quick)
    repeats = 1 if quick else 5
    sec.add(
        f"Workload (the reference): the `repeatvector` model, {w['n_series']} sine series x "
        f"{w['seq_len']} steps, {w['units']} units, batch {w['batch_size']}, {w['epochs']} "
        f"epoch(s), Adam lr {w['lr']}. Rates are training sequences per second, median of "
        f"{repeats} interleaved repeats (min-max in brackets); every ratio is the median of "
        "the rounds' ratios against the bare loop measured in the same round. *ours* = "
        "`lstmae_demo.training.fit` (its own clock: optimiser steps only, gradient clipping on "
        "as in the app); *ours (wall)* also pays the per-epoch validation the bare loop "
        "skips. *one sequence per step* = the ECG "
        "tutorial's batch size 1 (timed on a quarter of the data). *Keras fit* = Keras 3 "
        "`model.fit` of the same model (our codegen's Keras source) on the torch backend, "
        "after one warm-up epoch. All run in this one process, so the bare loop shares the "
        "process-wide malloc tuning our trainer applies (its own effect is in "
        "docs/bench-studies.md): the ratio to the bare loop is our loop's own overhead."
    )
    rows, data = [], {}
    counts = thread_counts(quick)
    for threads in sorted(counts, reverse=True):
        rates = _rates(w, threads, repeats, with_keras=True)
        data[f"threads={threads}"] = rates
        for name, values in rates.items():
            rows.append([threads, name, f"{median(values):.0f} ({spread(values)})",
                         fmt_x(paired_ratio(values, rates["bare"]))])
    sec.table(["threads", "loop", "sequences/s", "vs bare loop"], rows)
    most = max(counts)  # the targets are judged with all the machine's threads
    threads_text = f"{most} thread" + ("s" if most > 1 else "")
    two = data[f"threads={most}"]
    # Ratios of rates measured in the same rounds: ours2 is "ours" in units of the bare loop.
    ours2, bare2 = paired_ratio(two["ours"], two["bare"]), 1.0
    keras2 = (paired_ratio(two["Keras fit"], two["bare"]) if "Keras fit" in two
              else float("nan"))
    one2 = paired_ratio(two["one sequence per step"], two["bare"])
    one_vs_two = (median(data["threads=1"]["ours"]) / median(data["threads=2"]["ours"])
                  if "threads=2" in data else float("nan"))
    sec.data["workload"] = data
    sec.data["targets"] = {"ours/bare": ours2 / bare2, "ours/keras": ours2 / keras2,
                           "ours/one_per_step": ours2 / one2}
    sec.add(
        f"Targets ({threads_text}): ours / bare = **{ours2 / bare2:.2f}x** (target >= 0.9x: "
        f"{verdict(ours2 / bare2 >= 0.9)}); ours / Keras fit = **{ours2 / keras2:.2f}x** "
        f"(target > 1: {verdict(ours2 > keras2)}); ours / one-sequence-per-step = "
        f"**{ours2 / one2:.1f}x** (target: far ahead: {verdict(ours2 / one2 >= 3)}). "
        f"One thread vs two for ours: **{fmt_x(one_vs_two)}** the throughput."
    )
    sec.target(f"our trainer / bare loop (issue workload, {threads_text})", fmt_x(ours2 / bare2),
               ">= 0.9x", ours2 / bare2 >= 0.9)
    sec.target("our trainer / Keras 3 fit", fmt_x(ours2 / keras2), "> 1x", ours2 > keras2)
    sec.target("our trainer / one sequence per step (ECG way)", fmt_x(ours2 / one2),
               "far ahead (>= 3x)", ours2 / one2 >= 3)
    per_preset_repeats = 1 if quick else 7
    rows = _per_preset(per_preset_repeats, quick)
    sec.add("", "Ours vs the bare loop on every preset at the app's default settings "
            f"(1 thread, as the app trains; sequences/s, medians of {per_preset_repeats} "
            "rounds; ratios: the median of the rounds' ratios):")
    sec.table(["preset", "bare", "ours", "ours / bare", "ours without clipping / bare",
               "target >= 0.9x"], rows)
    sec.data["per_preset"] = rows
    worst = min(rows, key=lambda r: float(r[3].rstrip("x")))
    sec.target("our trainer / bare loop, worst preset at app defaults (1 thread)",
               f"{worst[3]} ({worst[0]})", ">= 0.9x", float(worst[3].rstrip("x")) >= 0.9)
    return sec
