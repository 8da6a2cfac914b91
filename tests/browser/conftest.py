"""Real-browser harness: a live Streamlit server plus Debian's chromium driven by Playwright.

Fixtures:
- app_url: base URL of `streamlit run app.py`, started once per session on a free port.
- new_context(viewport=..., origin=...): a fresh browser context whose console errors and
  uncaught page errors fail the test (sandbox noise aside: browser_helpers.sandbox_noise), as
  does any request to a host other than the local server (a classroom may be offline).
- screenshot(page, name): save a full-page PNG under artifacts/screenshots/.
- wait_for_app(page): wait until Streamlit is connected and has finished running the script.
Every test under tests/browser/ gets the `browser` marker.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_helpers import (
    ARTIFACTS,
    SERVER_START_TIMEOUT_S,
    ConsoleWatch,
    save_screenshot,
    wait_for_streamlit,
    watch_console,
)
from playwright.sync_api import Browser, BrowserContext, expect

from bench.devserver import ServerError, app_server

HERE = Path(__file__).resolve().parent

DESKTOP = {"width": 1440, "height": 900}
ACTION_TIMEOUT_MS = 30_000
# Playwright's 5 s for an expectation is short on a 2-core machine shared by several test runs
# (a chart drawn after a page's run took longer there); these are limits, never durations.
expect.set_options(timeout=20_000)
# What a learner copies code from: the page's code boxes have a copy button.
PERMISSIONS = ["clipboard-read", "clipboard-write"]


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


@pytest.fixture
def new_context(browser: Browser, request: pytest.FixtureRequest):
    """A factory of fresh browser contexts (no cookies, no Streamlit session carried over).

    Each one's console errors and page errors are collected; any that is not sandbox noise
    fails the test when it ends.
    """
    made: list[tuple[BrowserContext, ConsoleWatch]] = []

    def make(viewport: dict | None = None, origin: str | None = None
             ) -> tuple[BrowserContext, ConsoleWatch]:
        context = browser.new_context(viewport=viewport or DESKTOP, permissions=PERMISSIONS)
        context.set_default_timeout(ACTION_TIMEOUT_MS)  # a lost element fails, never hangs
        watch = watch_console(context, origin or request.getfixturevalue("app_url"))
        made.append((context, watch))
        return context, watch

    yield make
    for context, _ in made:
        context.close()
    errors = [e for _, watch in made for e in watch.errors]
    if errors:
        pytest.fail("browser console errors:\n" + "\n".join(f"- {e}" for e in errors),
                    pytrace=False)


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """The save_screenshot helper, as a fixture: screenshot(page, "home.png")."""
    return save_screenshot


@pytest.fixture
def wait_for_app() -> Callable[..., None]:
    """The wait_for_streamlit helper, as a fixture: wait_for_app(page)."""
    return wait_for_streamlit
