"""Process tuning for training: glibc's malloc thresholds and torch's thread count per run."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# glibc malloc: with its defaults every step's ~1-3 MB of LSTM workspace is handed back to the
# OS and faulted in again (20-50% of a step in page faults at batch 32: docs/bench-studies.md,
# "glibc's malloc settings"). Keep blocks up to 32 MB on the heap and trim only when 128 MB are
# free at its top.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt() parameter numbers from <malloc.h>
MALLOC_MMAP_THRESHOLD = 32 * 2**20
MALLOC_TRIM_THRESHOLD = 128 * 2**20


@functools.cache
def tune_allocator() -> bool:
    """Once per process: stop glibc's malloc returning training memory to the OS every step.

    Returns True if the settings took effect (Linux with glibc), False elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # glibc only: musl's mallopt is a stub  # noqa: B018
    except (OSError, AttributeError):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
                and libc.mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the body with `threads` torch intra-op threads (None: leave the count alone).

    The previous count is restored however the body ends. With torch's OpenMP backend the
    count belongs to the calling thread, so each job thread of a runner sets its own.
    """
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
