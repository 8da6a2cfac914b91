"""What the benchmark and the load tests measure of processes and the machine, through psutil.

One home for each measurement (bench/__main__.py, bench/scheduling.py, bench/compare.py,
bench/webapp.py, bench/load.py and tests/load use these), so they all count the same way.
Memory is in MB of 2**20 bytes, CPU time in seconds of user + system time.
"""

from __future__ import annotations

import psutil

MB = 2**20
# The fields of the machine's CPU time that are work: everything but idle and iowait (on
# Linux, /proc/stat's first line; guest time is already inside user and nice).
BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq", "steal")


def busy_cpu_seconds() -> float:
    """CPU seconds every process on the machine has spent busy so far (NaN: unreadable)."""
    try:
        times = psutil.cpu_times()
    except OSError:
        return float("nan")
    # Fields a platform does not have (irq, softirq and steal are Linux's) count as zero.
    return sum(getattr(times, name, 0.0) for name in BUSY_FIELDS)


def total_memory_bytes() -> int:
    """The machine's physical memory."""
    return psutil.virtual_memory().total


def rss_mb(pid: int) -> float:
    """The process's own resident memory, in MB (raises psutil.NoSuchProcess once it is gone)."""
    return psutil.Process(pid).memory_info().rss / MB


def tree_rss_mb(pid: int) -> float:
    """Resident memory of the process and every process below it, in MB; processes that
    are gone count nothing (0.0 when `pid` itself is)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / MB


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far (0.0 once it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def thread_cpu_seconds(pids: list[int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each thread of these processes, keyed
    "pid/tid"; processes that are gone are left out."""
    out = {}
    for pid in pids:
        try:
            threads = psutil.Process(pid).threads()
        except psutil.NoSuchProcess:
            continue
        for t in threads:
            out[f"{pid}/{t.id}"] = t.user_time + t.system_time
    return out


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, their children, ...); empty once it is gone."""
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def thread_ids(pid: int) -> set[int]:
    """The ids of the process's threads now (raises psutil.NoSuchProcess once it is gone)."""
    return {t.id for t in psutil.Process(pid).threads()}


def thread_count(pid: int) -> int:
    """How many threads the process has now (raises psutil.NoSuchProcess once it is gone)."""
    return psutil.Process(pid).num_threads()


def pids_named(fragment: str) -> list[int]:
    """Every process on the machine whose name contains `fragment`."""
    return [p.pid for p in psutil.process_iter(["name"]) if fragment in (p.info["name"] or "")]
