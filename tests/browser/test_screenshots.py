"""Every page at phone, projector and desktop size, saved whole for a person to look at.

artifacts/screenshots/<size>/<page>.png: Home, the Architecture page of each architecture,
Train after a short run, Latent space of that run, Time steps, Anomalies on the bundled NAB
set after a short run, Compare after a short comparison, the Quiz with a question revealed.
Looks are judged by a person; the test fails only on what a machine can tell: a page without
its heading, its sidebar settings or its charts, an exception box, a dialog, a console error;
and on layout (layout_checks.py): an architecture diagram's (or its bottleneck meter's) labels
overlapping or cut off at any size (or the diagram wider than the page without its "scroll
sideways" hint), a title on more than two lines at 1280x720, a layer table that hides columns
at 1440x900, a phone with no hint where the settings are.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from browser_helpers import (
    SCREENSHOTS,
    sidebar_values,
    surface_problems,
    wait_for_page,
    wait_for_streamlit,
)
from layout_checks import (
    BOTTLENECK_METER,
    TITLE_MAX_LINES,
    diagram_hint_problem,
    diagram_label_problems,
    layer_table_fits,
    title_lines,
)
from playwright.sync_api import Page, expect

from lstmae_demo.settings import ARCHS

SIZES = {"phone": {"width": 390, "height": 844}, "projector": {"width": 1280, "height": 720},
         "desktop": {"width": 1440, "height": 900}}
SHORT_RUN = "epochs=3&n_series=16"
MAX_HEIGHT = 20_000  # px: a page longer than this is cut (and that would show)
SETTLE_S = 0.25  # charts redraw after the window grows; a picture is taken after this

# The main pane's content, and the sidebar's where it is on screen (a phone folds it away).
CONTENT_HEIGHT_JS = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const side = document.querySelector('[data-testid=stSidebarContent]');
  const sideShown = side && side.getBoundingClientRect().right > 1;
  return Math.max(main ? main.scrollHeight : 0, sideShown ? side.scrollHeight : 0);
}"""


def whole_page(page: Page, size: str, name: str) -> None:
    """Grow the window to the page's full height (Streamlit scrolls inside its own panes, so
    a full-page screenshot alone shows one screen), save it, and shrink the window back."""
    viewport = SIZES[size]
    height = min(MAX_HEIGHT, max(viewport["height"], page.evaluate(CONTENT_HEIGHT_JS)))
    page.set_viewport_size({"width": viewport["width"], "height": height})
    time.sleep(SETTLE_S)
    wait_for_streamlit(page)
    path = SCREENSHOTS / size / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)


def check_layout(page: Page, size: str, diagram: bool) -> None:
    """The page reads at this size: a diagram's labels apart and inside it, a short title at
    the projector's size, the whole layer table on a desktop, the phone's settings hint."""
    if diagram:
        problems = diagram_label_problems(page)
        assert not problems, f"{size}: " + "; ".join(problems)
        assert not diagram_hint_problem(page), f"{size}: {diagram_hint_problem(page)}"
        problems = diagram_label_problems(page, BOTTLENECK_METER)
        assert not problems, f"{size}, bottleneck meter: " + "; ".join(problems)
        if size == "desktop":
            assert layer_table_fits(page), "the layer table hides columns at 1440x900"
    if size == "projector":
        lines = title_lines(page)
        assert 1 <= lines <= TITLE_MAX_LINES, f"the title takes {lines} lines at 1280x720"
    hint = page.locator(".st-key-phone_hint")
    if size == "phone":
        expect(hint).to_be_visible()
    else:
        expect(hint).to_be_hidden()


def check_page(page: Page, heading: str, charts: bool, size: str = "",
               diagram: bool = False) -> None:
    """The page is the whole app: its heading, the sidebar's settings, its charts, no error;
    and its layout reads at this size (check_layout)."""
    expect(page.locator("[data-testid=stMain] h1").first).to_contain_text(heading)
    expect(page).to_have_title("LSTM Autoencoder Explorer")
    _, unreadable = sidebar_values(page)
    assert not unreadable, unreadable
    if charts:
        expect(page.get_by_test_id("stPlotlyChart").first.locator(".main-svg").first
               ).to_be_visible()
    assert not surface_problems(page), surface_problems(page)
    if size:
        check_layout(page, size, diagram)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_at_every_size(new_context, app_url: str, size: str) -> None:
    context, _ = new_context(viewport=SIZES[size])
    page = context.new_page()

    def visit(path: str, heading: str, name: str, charts: bool) -> None:
        page.goto(f"{app_url}/{path}")
        wait_for_page(page)
        check_page(page, heading, charts, size, diagram=path.startswith("architecture"))
        whole_page(page, size, name)

    visit("", "LSTM Autoencoder Explorer", "home", charts=False)
    for arch in ARCHS:
        visit(f"architecture?arch={arch}", arch, f"architecture-{arch}", charts=True)
    # The diagrams with brackets: every output read through attention above the boxes, the
    # input fed to EncDec-AD's conditional decoder below them (encdec_ad's default).
    visit("architecture?arch=embedding&reads=steps", "embedding", "architecture-embedding-steps",
          charts=True)
    page.goto(f"{app_url}/train?{SHORT_RUN}")
    wait_for_page(page)
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text(re.compile(r"Done: 3 epochs"))).to_be_visible(timeout=60_000)
    wait_for_streamlit(page)
    check_page(page, "Train", charts=True, size=size)
    whole_page(page, size, "train")
    # The Train page's URL names its run (?run=<id>): the Latent space page opened with it
    # shows that run's model (on a phone the sidebar's links are folded away).
    visit(f"latent?{urlsplit(page.url).query}", "Latent space", "latent", charts=True)
    visit(f"timesteps?{SHORT_RUN}", "Time steps", "timesteps", charts=True)
    page.goto(f"{app_url}/anomalies?{SHORT_RUN}&arch=encdec_ad&an_data=nab_jumpsup")
    wait_for_page(page)
    page.get_by_role("button", name="Train on normal series").click()
    expect(page.get_by_text("true positives")).to_be_visible(timeout=60_000)
    wait_for_streamlit(page)
    check_page(page, "Anomalies", charts=True, size=size)
    whole_page(page, size, "anomalies")
    visit("lessons?lesson_step=3", "Lessons", "lessons", charts=False)
    page.goto(f"{app_url}/compare?{SHORT_RUN}")
    wait_for_page(page)
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("What the numbers show")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Findings appear when every run has ended")).to_have_count(
        0, timeout=120_000)
    wait_for_streamlit(page)
    check_page(page, "Compare architectures", charts=True, size=size)
    whole_page(page, size, "compare")
    # The Quiz with its first question revealed (the diagram shows only then).
    page.goto(f"{app_url}/quiz?quiz_seed=17")
    wait_for_page(page)
    page.locator("[data-testid=stMain] [data-testid=stRadioOption]").last.click()
    wait_for_streamlit(page)
    page.get_by_role("button", name="Reveal").click()
    wait_for_streamlit(page)
    check_page(page, "Quiz", charts=True)
    whole_page(page, size, "quiz")
