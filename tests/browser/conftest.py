"""Real-browser harness: a live Streamlit server plus Debian's chromium driven by Playwright.

Fixtures:
- app_url: base URL of `streamlit run app.py`, started once per session on a free port.
- screenshot(page, name): save a full-page PNG under artifacts/screenshots/.
- wait_for_app(page): wait until Streamlit is connected and has finished running the script.
Every test under tests/browser/ gets the `browser` marker.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.devserver import CHROMIUM_ARGS, ServerError, app_server

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
HERE = Path(__file__).resolve().parent

SERVER_START_TIMEOUT_S = 60
APP_RUN_TIMEOUT_MS = 60_000


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection sees the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port and yield its base URL."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with app_server(log_path=ARTIFACTS / "streamlit-server.log",
                        timeout=SERVER_START_TIMEOUT_S) as server:
            yield server.url
    except ServerError as err:
        pytest.fail(str(err), pytrace=False)


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
