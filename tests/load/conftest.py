"""A class on one server: real Chromium sessions against a fresh Streamlit server each.

Every test here gets the `load` marker (registered below) and the `browser` marker (it needs
Debian's chromium and a live server, so the fast subset `-m "not slow and not browser"` leaves
it out). The browser is pytest-playwright's, launched as tests/browser launches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.devserver import Server, ServerError, app_server

HERE = Path(__file__).resolve().parent
SERVER_START_TIMEOUT_S = 60


def pytest_configure(config: pytest.Config) -> None:
    """Register the `load` marker (the suite runs with --strict-markers)."""
    config.addinivalue_line(
        "markers", "load: a class of real browser sessions against one live server "
                   "(deselect with -m 'not load')")


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection sees the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a load test and a browser test."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.load)
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A new server process for this test alone, its log in the test's tmp_path."""
    try:
        with app_server(log_path=tmp_path / "server.log",
                        timeout=SERVER_START_TIMEOUT_S) as server:
            yield server
    except ServerError as err:
        pytest.fail(str(err), pytrace=False)
