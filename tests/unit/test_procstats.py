"""bench/procstats.py measures real processes: a child that allocates, a thread, a busy loop."""

import os
import subprocess
import sys
import threading
import time

import psutil
import pytest

from bench import procstats

ALLOC_MB = 50
# Waits for a line, then holds ALLOC_MB of touched memory (b"x" * n writes every page, so
# all of it is resident) until the next line.
ALLOCATOR = f"""
import sys
sys.stdin.readline()
held = b"x" * ({ALLOC_MB} * 2**20)
print("allocated", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def allocator():
    child = subprocess.Popen([sys.executable, "-c", ALLOCATOR], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    yield child
    child.kill()
    child.wait()


def test_rss_counts_a_childs_allocation_in_its_own_and_in_its_parents_tree(allocator):
    me = os.getpid()
    assert allocator.pid in procstats.descendants(me)
    child_before, tree_before = procstats.rss_mb(allocator.pid), procstats.tree_rss_mb(me)
    own_before = procstats.rss_mb(me)
    allocator.stdin.write("go\n")
    allocator.stdin.flush()
    assert allocator.stdout.readline().strip() == "allocated"
    assert procstats.rss_mb(allocator.pid) - child_before >= ALLOC_MB - 10
    assert procstats.tree_rss_mb(me) - tree_before >= ALLOC_MB - 10
    # rss_mb is the process's own memory: the child's allocation is not in ours
    assert procstats.rss_mb(me) - own_before < ALLOC_MB - 10
    allocator.stdin.write("exit\n")
    allocator.stdin.flush()
    allocator.wait()
    assert allocator.pid not in procstats.descendants(me)


def test_a_process_that_is_gone(allocator):
    pid = allocator.pid
    allocator.kill()
    allocator.wait()
    assert procstats.cpu_seconds(pid) == 0.0
    assert procstats.tree_rss_mb(pid) == 0.0
    assert procstats.descendants(pid) == set()
    assert procstats.thread_cpu_seconds([pid]) == {}
    with pytest.raises(psutil.NoSuchProcess):
        procstats.rss_mb(pid)
    with pytest.raises(psutil.NoSuchProcess):
        procstats.thread_ids(pid)


def test_thread_ids_hold_a_started_threads_native_id():
    started, stop = threading.Event(), threading.Event()
    native: list[int] = []

    def run():
        native.append(threading.get_native_id())
        started.set()
        stop.wait()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert started.wait(30)
        me = os.getpid()
        ids = procstats.thread_ids(me)
        assert all(isinstance(i, int) for i in ids)
        assert {threading.get_native_id(), native[0]} <= ids
        assert procstats.thread_count(me) >= 2
        assert f"{me}/{native[0]}" in procstats.thread_cpu_seconds([me])
    finally:
        stop.set()
        thread.join()


def test_busy_cpu_seconds_grow_with_a_busy_loop():
    machine0, own0 = procstats.busy_cpu_seconds(), procstats.cpu_seconds(os.getpid())
    end = time.process_time() + 0.5  # this process's CPU time, not the wall clock
    while time.process_time() < end:
        pass
    # the kernel counts in ticks (1/100 s here), so allow a little less than the 0.5 s spent
    assert procstats.busy_cpu_seconds() - machine0 >= 0.3
    assert procstats.cpu_seconds(os.getpid()) - own0 >= 0.3


def test_pids_named_finds_this_python():
    me = psutil.Process()
    assert os.getpid() in procstats.pids_named(me.name())
    assert os.getpid() not in procstats.pids_named("no process has this name")


def test_total_memory_is_the_kernels_memtotal():
    with open("/proc/meminfo") as f:
        memtotal_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    assert procstats.total_memory_bytes() == memtotal_kb * 1024
