"""Real-browser harness: a live Streamlit server plus Debian's chromium driven by Playwright.

Fixtures:
- app_url: base URL of `streamlit run app.py`, started once per session on a free port.
- screenshot(page, name): save a full-page PNG under artifacts/screenshots/.
- wait_for_app(page): wait until Streamlit is connected and has finished running the script.
Every test under tests/browser/ gets the `browser` marker.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
HERE = Path(__file__).resolve().parent

SERVER_START_TIMEOUT_S = 60
APP_RUN_TIMEOUT_MS = 60_000

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


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection sees the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health_ok(url: str) -> bool:
    """True when Streamlit's health endpoint answers 'ok'."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's whole process group; kill it if it does not stop in 10 s."""
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


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port and yield its base URL."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"streamlit-server-{port}.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so _stop can end all of it
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _health_ok(f"{url}/_stcore/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                reason = (
                    f"exited with code {proc.returncode}"
                    if proc.poll() is not None
                    else f"not healthy after {SERVER_START_TIMEOUT_S} s"
                )
                pytest.fail(
                    f"Streamlit server {reason}. Log ({log_path}):\n"
                    + log_path.read_text(errors="replace"),
                    pytrace=False,
                )
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)


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


def save_screenshot(page, name: str) -> Path:
    """Save a full-page PNG of `page` as artifacts/screenshots/<name> and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_streamlit(page, timeout_ms: int = APP_RUN_TIMEOUT_MS) -> None:
    """Wait until the app is connected and its script has finished running."""
    app = "[data-testid='stApp']"
    page.wait_for_selector(app, timeout=timeout_ms)
    page.wait_for_selector(f"{app}[data-test-connection-state='CONNECTED']", timeout=timeout_ms)
    # 'initial' before the first run, 'running' during one, 'notRunning' once it is done.
    page.wait_for_selector(f"{app}[data-test-script-state='notRunning']", timeout=timeout_ms)
    page.locator("[data-testid='stStatusWidget']").filter(has_text="Running").first.wait_for(
        state="hidden", timeout=timeout_ms
    )


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """The save_screenshot helper, as a fixture: screenshot(page, "home.png")."""
    return save_screenshot


@pytest.fixture
def wait_for_app() -> Callable[..., None]:
    """The wait_for_streamlit helper, as a fixture: wait_for_app(page)."""
    return wait_for_streamlit
