"""Settings shared by every test: Keras on torch, one torch thread per test process."""

import contextlib
import os

# Must happen before anything imports keras: its backend is chosen at import time.
os.environ["KERAS_BACKEND"] = "torch"


def pytest_configure(config):
    """Give torch one intra-op and one inter-op thread (2 cores, possibly 2 xdist workers)."""
    try:
        import torch
    except ImportError:  # a session without torch still collects and runs what it can
        return
    torch.set_num_threads(1)
    # set_num_interop_threads may be called once only, before any inter-op work starts.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
