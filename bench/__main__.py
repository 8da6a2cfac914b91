"""python -m bench [--quick] [--only 0,1,...] [--out PATH]: measure, then write the report.

Sections: 0 reference run, 1 shape tracing latency, 2 training throughput (vs a bare loop,
Keras fit and one sequence per step), 3 time to a good reconstruction per preset, 4 the app
in a real server and browser, 5 thread settings, 6 scheduling (FIFO against round-robin by
epochs, and one shared configuration), 7 Compare of four at the defaults. The full run takes
about 10 minutes on 2 cores: run it with nothing else busy. --quick runs every section at tiny
sizes in well under a minute, to check that the suite works (the test suite runs it); its
figures mean nothing.
"""

from __future__ import annotations

import os

# Before anything imports keras: its backend is chosen at import time.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from .common import REPO, Section, first_optimizer_seconds, machine  # noqa: E402
from .procstats import busy_cpu_seconds  # noqa: E402

SECTIONS = ("0", "1", "2", "3", "4", "5", "6", "7")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and its exited children (servers, CLI runs, browser)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def warm_up() -> dict:
    """One-time costs of this process, paid before any section measures anything.

    Times the first optimiser (it imports torch._dynamo), then trains one tiny run: the
    trainer tunes glibc's malloc once per process at its first run, so every loop here, ours
    and the references alike, runs under the same allocator settings.
    """
    import torch

    from lstmae_demo.archs import build_model
    from lstmae_demo.data import SineConfig, make_sine
    from lstmae_demo.spec import preset
    from lstmae_demo.training import TrainConfig, fit

    torch.set_num_threads(1)
    first = first_optimizer_seconds()
    data = make_sine(SineConfig(n_series=16, n_val=4))
    fit(build_model(preset("repeatvector"), seed=0), data.train, data.val,
        TrainConfig(epochs=1, n_show=0, threads=1))
    return {"first_optimizer": first}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="every section at tiny sizes, one repeat, one torch thread "
                             "(well under a minute): checks the suite runs")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run (default: all)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report, plus the raw numbers beside it as "
                             ".json (default bench/RESULTS.md; --quick: "
                             "artifacts/bench-quick.md, which git ignores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections and write the report."""
    parser = _parser()
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    out = args.out or (REPO / "artifacts" / "bench-quick.md" if args.quick
                       else REPO / "bench" / "RESULTS.md")
    from . import report

    started = time.perf_counter()
    context = warm_up()
    info = machine()
    sections: list[Section] = []
    for name in SECTIONS:
        if name not in chosen:
            continue
        t0 = time.perf_counter()
        print(f"[bench] section {name} ...", file=sys.stderr, flush=True)
        busy0, ours0 = busy_cpu_seconds(), _own_cpu_seconds()
        section, value = report.run_section(name, args.quick, context)
        busy, ours = busy_cpu_seconds() - busy0, _own_cpu_seconds() - ours0
        elapsed = time.perf_counter() - t0
        if busy == busy and elapsed > 0:
            section.add("", f"*Machine load during this section: {busy / elapsed:.2f} of "
                        f"{os.cpu_count()} cores busy on average, of which this suite's own "
                        f"processes (as far as they have exited) {ours / elapsed:.2f}.*")
        if name == "0":
            context["reference"] = value
        section.seconds = time.perf_counter() - t0
        print(f"[bench] section {name} done in {section.seconds:.1f} s", file=sys.stderr,
              flush=True)
        sections.append(section)
    total = time.perf_counter() - started
    text = report.render(info, sections, total, args.quick, argv or sys.argv[1:])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(
        {"machine": info, "seconds": total, "quick": args.quick,
         "sections": {s.title: s.data for s in sections}}, indent=1, default=str))
    print(f"[bench] wrote {out} in {total:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
