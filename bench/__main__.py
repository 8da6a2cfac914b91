"""python -m bench [--quick] [--only 1,2,...] [--out PATH]: measure, then write RESULTS.md.

Sections: 0 reference, 1 tracing, 2 throughput, 3 time to target, 4 the app, 5 threads,
6 profile and optimisations. Run it alone: heavy work runs one thing at a time, threads set
on purpose, on a 2-core machine.
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

from .common import REPO, Section, machine  # noqa: E402

SECTIONS = ("0", "1", "2", "3", "4", "5", "6")


def _busy_cpu_seconds() -> float:
    """CPU seconds all processes on the machine have spent busy so far (from /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and its exited children (servers, CLI runs, browser)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and one repeat (< 60 s): checks the suite runs")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run (default: all)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report (default bench/RESULTS.md; "
                             "--quick: artifacts/bench-quick.md, which git ignores)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    out = args.out or (REPO / "artifacts" / "bench-quick.md" if args.quick
                       else REPO / "bench" / "RESULTS.md")

    import torch

    from lstmae_demo.training import tune_allocator

    torch.set_num_threads(1)
    # The trainer tunes glibc's malloc once per process; do it first so that every loop in
    # this process, ours and the references alike, runs under the same allocator settings
    # (section 6 measures the tuning itself, in fresh processes).
    tune_allocator()
    from . import report

    started = time.perf_counter()
    info = machine()
    sections: list[Section] = []
    reference = None
    for name in SECTIONS:
        if name not in chosen:
            continue
        t0 = time.perf_counter()
        print(f"[bench] section {name} ...", file=sys.stderr, flush=True)
        busy0, ours0 = _busy_cpu_seconds(), _own_cpu_seconds()
        section, value = report.run_section(name, args.quick, reference, sections)
        busy, ours = _busy_cpu_seconds() - busy0, _own_cpu_seconds() - ours0
        elapsed = time.perf_counter() - t0
        if busy == busy and elapsed > 0:
            section.add("", f"*Machine load during this section: {busy / elapsed:.2f} of "
                        f"{os.cpu_count()} cores busy on average, of which this suite's own "
                        f"processes (as far as they have exited) {ours / elapsed:.2f}.*")
        if name == "0":
            reference = value
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
