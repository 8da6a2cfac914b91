"""A shared link to a page, opened first on a freshly started server, gets the whole app.

Streamlit's old multipage mode (active until app.py's first st.navigation call) can answer the
first visitor of a fresh server with a lone page, or with a "Page not found" dialog; only a
fresh server shows it, so every page gets its own server here, and the link is its very first
request.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from browser_helpers import (
    ARTIFACTS,
    PAGES,
    SERVER_START_TIMEOUT_S,
    save_screenshot,
    sidebar_values,
    state_problems,
    wait_for_page,
)

from bench.devserver import Server, ServerError, app_server

UNITS = 48


def start_servers(stack: ExitStack, count: int) -> list[Server]:
    """`count` fresh servers, started side by side (each start is mostly waiting)."""
    def start(i: int) -> Server:
        return stack.enter_context(app_server(log_path=ARTIFACTS / f"deep-link-server-{i}.log",
                                              timeout=SERVER_START_TIMEOUT_S))

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(start, range(count)))


def test_a_deep_link_to_a_fresh_server_gets_the_whole_app(new_context) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with ExitStack() as stack:
        try:
            servers = start_servers(stack, len(PAGES))
        except ServerError as err:
            pytest.fail(str(err), pytrace=False)
        opened = []
        for server, (title, path, _) in zip(servers, PAGES, strict=True):
            context, watch = new_context(origin=server.url)
            page = context.new_page()
            # Only start loading: the four servers run their first script side by side.
            page.goto(f"{server.url}/{path}?units={UNITS}", wait_until="commit")
            opened.append((title, path, page, watch))
        failures = []
        for title, path, page, watch in opened:
            failures += [f"/{path}?units={UNITS}: {p}" for p in check_page(page, title, path)]
            save_screenshot(page, f"deep-link/{path or 'home'}")
            page.context.close()  # before its server stops, which it would report
            failures += [f"/{path}?units={UNITS}: console: {e}" for e in watch.errors]
            watch.errors.clear()  # reported here, with the page they belong to
    assert not failures, "\n".join(failures)


def check_page(page, title: str, path: str) -> list[str]:
    """What is missing from a page that should be the full app at units=48."""
    wait_for_page(page)
    problems = []
    nav = [t.strip() for t in page.get_by_test_id("stSidebarNavLink").all_text_contents()]
    nav_titles = [t for t, _, _ in PAGES]
    if [next((n for n in nav_titles if t.endswith(n)), t) for t in nav] != nav_titles:
        problems.append(f"sidebar navigation shows {nav}, expected the pages {nav_titles}")
    if not page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first.is_visible():
        problems.append(f"no visible navigation link to {title}")
    values, unreadable = sidebar_values(page)
    if values.get("units") != UNITS:
        problems.append(f"Units shows {values.get('units')!r}, the link says {UNITS}"
                        + (f" ({unreadable})" if unreadable else ""))
    h1 = page.locator("[data-testid=stMain] h1").first
    heading = h1.text_content() if h1.count() else None
    want = next(h for t, _, h in PAGES if t == title) or values.get("arch", "repeatvector")
    if not heading or want not in heading:
        problems.append(f"the page's heading is {heading!r}, expected it to contain {want!r}")
    _, more = state_problems(page, None)  # exception box, dialogs, URL vs sidebar, the model
    return problems + more
