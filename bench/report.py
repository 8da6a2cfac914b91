"""Run one section by name, and render RESULTS.md."""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from lstmae_demo.archs import build_model
from lstmae_demo.data import SineConfig, make_sine
from lstmae_demo.spec import preset

from .common import Section, fmt_s, median, spread
from .loops import bare_loop
from .throughput import WORKLOAD


def reference(quick: bool) -> tuple[Section, float]:
    """Section 0: the suite's reference run, one epoch of the bare loop on the workload."""
    sec = Section("0. The reference run")
    torch.set_num_threads(1)
    w = WORKLOAD
    spec = replace(preset("repeatvector"), seq_len=w["seq_len"], units=w["units"])
    x = torch.from_numpy(make_sine(SineConfig(n_series=w["n_series"], n_val=0,
                                              seq_len=w["seq_len"])).train)
    bare_loop(build_model(spec, seed=0), x, 1, w["batch_size"], w["lr"])  # warm-up
    times = []
    for _ in range(3 if quick else 7):
        model = build_model(spec, seed=0)
        start = time.perf_counter()
        bare_loop(model, x, 1, w["batch_size"], w["lr"])
        times.append(time.perf_counter() - start)
    ref = median(times)
    sec.add(f"One epoch of the bare PyTorch loop (`bench/loops.py`) on the reference workload "
            f"({w['n_series']} sine series x {w['seq_len']} steps, `repeatvector`, "
            f"{w['units']} units, batch {w['batch_size']}, 1 thread): **{fmt_s(ref)}** "
            f"(median of {len(times)}, range {spread(times)} s). Absolute times below can be "
            "divided by it to compare machines.")
    sec.data = {"epoch_seconds": times}
    return sec, ref


def run_section(name: str, quick: bool, context: dict) -> tuple[Section, object]:
    """Run section `name`; returns the section and any value later sections need.

    `context` holds what earlier steps measured: "reference" (section 0's epoch seconds) and
    "first_optimizer" (see common.first_optimizer_seconds).
    """
    if name == "0":
        return reference(quick)
    if name == "1":
        from . import tracing
        return tracing.run(quick), None
    if name == "2":
        from . import throughput
        return throughput.run(quick), None
    if name == "3":
        from . import convergence
        return convergence.run(quick, context.get("reference")), None
    if name == "4":
        from . import webapp
        return webapp.run(quick), None
    if name == "6":
        from . import scheduling
        return scheduling.run(quick), None
    if name == "7":
        from . import compare
        return compare.run(quick), None
    from . import threads
    return threads.run(quick, context.get("first_optimizer")), None


def render(info: dict, sections: list[Section], total: float, quick: bool,
           argv: list[str]) -> str:
    """The whole RESULTS.md."""
    lines = ["# Benchmark results", ""]
    if quick:
        lines += ["**This is a --quick smoke run: tiny sizes, one repeat, one torch thread. "
                  "The figures mean "
                  "nothing; run `python -m bench` for the real ones.**", ""]
    command = "python -m bench" + ("" if not argv else " " + " ".join(argv))
    lines += [f"Written by `{command}` from the repository root in **{total:.0f} s**. "
              "Medians over repeats; every speed is also a ratio against a reference run "
              "measured in the same process and the same suite run, because this shared "
              "machine is noisy. Nothing here is asserted in CI. One-off studies (the "
              "optimisations' ablations, a profile, the server's warm-up) are not re-run "
              "here: docs/bench-studies.md has them with the commit they were measured at.", "",
              "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += [""]
    heads = [row for s in sections for row in s.headline]
    if heads:
        lines += ["## Targets at a glance", "", "| what | measured | target | |",
                  "|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in heads]
        lines += [""]
    for s in sections:
        lines += [s.markdown(), f"*(section measured in {s.seconds:.0f} s)*", ""]
    return "\n".join(lines).rstrip() + "\n"
