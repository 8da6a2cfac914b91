"""Settings shared by every test: Keras on torch, one torch thread per test process, and the
browser that tests/browser and tests/load launch."""

import contextlib
import os
import shutil

import pytest

from bench.devserver import CHROMIUM_ARGS

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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's chromium (Playwright's own browser download does not work here)."""
    executable = shutil.which("chromium")
    if executable is None:
        message = "Debian's chromium is not on PATH (bash scripts/test installs it with apt)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }
