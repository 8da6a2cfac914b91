"""This app's Streamlit server in a subprocess, started as scripts/run-app starts it.

Shared by the browser tests (tests/browser/conftest.py) and the benchmarks (bench/webapp.py),
so both measure and test the same server. Does not import streamlit: it only runs it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Debian's chromium as Playwright launches it here (its own browser download does not work).
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    # No network here but loopback: without these, chromium keeps dialing out and failing.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ServerError(RuntimeError):
    """The server exited or did not answer its health check in time; the message has its log."""


@dataclass(frozen=True)
class Server:
    """A running server: its process, base URL, seconds from spawn to healthy, and log file."""

    proc: subprocess.Popen
    url: str
    startup_seconds: float
    log_path: Path


def free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    """True when Streamlit's health endpoint under `url` answers 'ok'."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


def stop(proc: subprocess.Popen) -> None:
    """End the server's whole process group; kill it if it does not stop within 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def app_server(script: str = "app.py", *, log_path: Path | None = None,
               options: tuple[str, ...] = (), env: Mapping[str, str] | None = None,
               timeout: float = 60.0) -> Iterator[Server]:
    """Serve `script` as scripts/run-app does, on a free loopback port, one torch thread.

    It runs `python -m lstmae_demo.ui.serve` (Streamlit's `run`, the page registry settled
    first). `options` are extra `--section.key value` flags, `env` extra environment variables.
    Raises ServerError (with the log's tail) if the server is not healthy within `timeout` s.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_path or Path(tempfile.gettempdir()) / f"lstmae-server-{port}.log"
    cmd = [sys.executable, "-m", "lstmae_demo.ui.serve", script, "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           *options]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})}
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own group, so stop() ends all
    try:
        while not healthy(url):
            if proc.poll() is not None or time.perf_counter() - start > timeout:
                reason = (f"exited with code {proc.returncode}" if proc.poll() is not None
                          else f"not healthy after {timeout:g} s")
                raise ServerError(f"Streamlit server {reason}. Log ({log_path}):\n"
                                  + log_path.read_text(errors="replace")[-4000:])
            time.sleep(0.02)
        yield Server(proc, url, time.perf_counter() - start, log_path)
    finally:
        stop(proc)
