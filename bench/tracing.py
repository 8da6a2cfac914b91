"""Section 1: shape tracing latency per preset, at the app's defaults and its largest settings."""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from lstmae_demo.archs import build_model
from lstmae_demo.config import KNOB, AppConfig, defaults
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ARCHS, ModelSpec

from .common import Section, fmt_s, fmt_x, median, verdict

TARGET_DEFAULT, TARGET_LARGEST = 0.020, 0.100  # seconds


def largest(arch: str) -> tuple[ModelSpec, int]:
    """The spec and batch at the largest values the app's knobs allow (their `high` limits)."""
    values = dict(defaults(), arch=arch)
    for name in ("seq_len", "n_features", "units", "bins", "batch"):
        values[name] = int(KNOB[name].high)
    if arch == "embedding":
        values["n_features"] = 1
    app = AppConfig(values)
    return app.spec, app.batch


def _trace_seconds(spec, batch: int, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        trace(spec, batch)
    return (time.perf_counter() - start) / calls


def _forward_seconds(model, x) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        model(x)
    return time.perf_counter() - start


def run(quick: bool = False) -> Section:
    """Measure and describe tracing latency."""
    sec = Section("1. Shape tracing latency")
    repeats, calls = (3, 20) if quick else (15, 200)
    torch.set_num_threads(1)
    rows, worst = [], {"defaults": 0.0, "largest": 0.0}
    for arch in ARCHS:
        app = AppConfig(dict(defaults(), arch=arch))
        for label, (spec, batch), target in (("defaults", (app.spec, app.batch), TARGET_DEFAULT),
                                              ("largest", largest(arch), TARGET_LARGEST)):
            first = _trace_seconds(replace(spec, units=spec.units - 1), batch, 1)  # uncached
            model = build_model(spec, seed=0).eval()
            x = torch.rand(1, spec.seq_len, spec.n_features) * 2 - 1  # one series
            traced, forward = [], []
            for _ in range(repeats):  # interleaved with the reference
                traced.append(_trace_seconds(spec, batch, calls))
                forward.append(_forward_seconds(model, x))
            t, f = median(traced), median(forward)
            worst[label] = max(worst[label], t)
            shape = (f"T={spec.seq_len} F={spec.n_features} U={spec.units}"
                     + (f" bins={spec.bins}" if arch == "embedding" else "")
                     + f" batch={batch}")
            rows.append([arch, label, shape, fmt_s(t), fmt_s(first), fmt_x(t / f),
                         f"< {fmt_s(target)}", verdict(t < target)])
            sec.data[f"{arch}/{label}"] = {"trace": traced, "forward_1": forward, "first": first}
    big, big_batch = largest("embedding")
    sec.add(
        f"`trace(spec, batch)` (what the Architecture page calls on every knob change), median "
        f"of {repeats} repeats of {calls} calls each. *Largest* = every size knob at its "
        f"server limit (T={big.seq_len}, F={largest('repeatvector')[0].n_features} (1 for "
        f"embedding), U={big.units}, bins={big.bins}, batch {big_batch}). Reference, "
        "interleaved: one no-grad forward pass of the real model on ONE "
        "series (1 thread); the tracer computes shapes for any batch from the spec alone. "
        "*First call* = a spec not traced before in this process."
    )
    sec.table(["preset", "settings", "sizes", "median", "first call", "vs forward of 1 series",
               "target", ""], rows)
    sec.target("tracing, slowest preset, defaults", fmt_s(worst["defaults"]),
               f"< {fmt_s(TARGET_DEFAULT)}", worst["defaults"] < TARGET_DEFAULT)
    sec.target("tracing, slowest preset, largest settings", fmt_s(worst["largest"]),
               f"< {fmt_s(TARGET_LARGEST)}", worst["largest"] < TARGET_LARGEST)
    return sec
