"""Shared helpers: timing, medians, the machine, the bare reference loop and markdown tables."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .procstats import total_memory_bytes

REPO = Path(__file__).resolve().parents[1]
QUICK_SERIES = 16  # --quick trains on this many series: a step or two per epoch


@dataclass
class Section:
    """One part of RESULTS.md: a title, markdown text, and the raw numbers for results.json."""

    title: str
    lines: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    seconds: float = 0.0  # how long the section took to measure
    headline: list[list[str]] = field(default_factory=list)  # [what, figure, target, verdict]

    def target(self, what: str, figure: str, target: str, ok: bool | None) -> None:
        """Record a figure against its target for the summary at the top of RESULTS.md."""
        self.headline.append([what, figure, target, verdict(ok)])

    def add(self, *text: str) -> None:
        """Append paragraphs or table lines."""
        self.lines.extend(text)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Append a markdown table."""
        self.lines.append("")
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.lines.append("| " + " | ".join(str(c) for c in row) + " |")
        self.lines.append("")

    def markdown(self) -> str:
        return f"## {self.title}\n\n" + "\n".join(self.lines).strip() + "\n"


def median(values: Sequence[float]) -> float:
    """The median, or nan for no values."""
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> str:
    """'min-max' of the repeats, for a table cell."""
    return f"{min(values):.3g}-{max(values):.3g}" if values else "-"


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of fn takes (perf_counter)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(subjects: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run each subject `repeats` times, in turns (A B C A B C ...), so drift hits all alike.

    Each subject returns its own measurement (seconds, or a rate).
    """
    out: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(repeats):
        for name, fn in subjects.items():
            out[name].append(fn())
    return out


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over rounds of a[i] / b[i], for values measured back to back in `interleaved`.

    Steadier than median(a) / median(b) on a machine whose speed drifts between rounds.
    """
    return median([x / y for x, y in zip(a, b, strict=True)])


def fmt_rate(values: Sequence[float]) -> str:
    """'median (min-max)' of rates for a table cell, or '-' for none."""
    return f"{median(values):.0f} ({spread(values)})" if values else "-"


def thread_counts(quick: bool) -> tuple[int, ...]:
    """The torch thread counts a section compares: 1 and 2; --quick, which runs inside test
    suites, 1 only: two threads on cores that other processes keep busy run ~100x slower."""
    return (1,) if quick else (1, 2)


def fmt_s(seconds: float) -> str:
    """Seconds with a sensible unit."""
    if seconds != seconds:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_x(ratio: float) -> str:
    """A ratio as '1.23x'."""
    return "-" if ratio != ratio else f"{ratio:.2f}x"


def verdict(ok: bool | None) -> str:
    """met / NOT met / - for a target column."""
    return "-" if ok is None else ("met" if ok else "**NOT met**")


def machine() -> dict[str, str]:
    """What these numbers were measured on."""
    import numpy
    import torch

    cpu = platform.processor() or "?"
    try:  # psutil has no CPU model name: Linux's /proc/cpuinfo has
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = f"{total_memory_bytes() / 2**30:.1f} GB"
    except OSError:
        memory = "?"
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lstmae_demo", "app.py",
                                "pages"], cwd=REPO, capture_output=True, text=True,
                               check=False).stdout.strip()
        commit += " (+ uncommitted changes)" if dirty else ""
    except OSError:
        commit = "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "load average at start": load,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "os": platform.platform(),
        "commit": commit or "?",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(not set)"),
    }


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: the repo importable, Keras on torch, threads pinned."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("KERAS_BACKEND", "torch")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def first_optimizer_seconds() -> float | None:
    """How long this process's first torch optimiser takes to build beyond its second one.

    The first imports torch._dynamo (once per process). None if something in this process
    has imported it already, so the figure would not be the one-time cost.
    """
    import torch

    if "torch._dynamo" in sys.modules:
        return None
    param = [torch.zeros(1, requires_grad=True)]
    first = timed(lambda: torch.optim.Adam(param))
    return first - timed(lambda: torch.optim.Adam(param))


def cli_train_seconds(arch: str, epochs: int, threads: int = 1, together: int = 1,
                      timeout: float = 900) -> list[float]:
    """`together` runs of `python -m lstmae_demo train` started at once (the app's defaults for
    everything not given); each run's own `seconds` from its JSON."""
    import json

    cmd = [sys.executable, "-m", "lstmae_demo", "train", "--arch", arch, "--epochs",
           str(epochs), "--threads", str(threads), "--seed", "0", "--json"]
    procs = [subprocess.Popen(cmd, cwd=REPO, env=python_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(together)]
    seconds = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"CLI run failed ({proc.returncode}):\n{err[-3000:]}")
        seconds.append(float(json.loads(out)["seconds"]))
    return seconds


def section_main(prog: str, about: str, quick_help: str, run: Callable[[bool], Section],
                 argv: list[str] | None = None) -> int:
    """A section's own command line (python -m bench.<name> [--quick]): print its Markdown
    and how long it took."""
    parser = argparse.ArgumentParser(prog=prog, description=about.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(run(args.quick).markdown())
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0

