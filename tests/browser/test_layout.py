"""The presentation view (?present=1) for a projector at 1280x720: the sidebar folded away,
the page links at the top, larger text, the verdict and the whole diagram on one screen, kept
across pages and switched off from the sidebar; a bad value in the link gives a note.

Saves artifacts/screenshots/presentation/<page>.png for a person to look at.
"""

from __future__ import annotations

import re

from browser_helpers import SCREENSHOTS, wait_for_page, wait_for_streamlit
from layout_checks import DIAGRAM, TITLE_MAX_LINES, diagram_label_problems, title_lines
from playwright.sync_api import Page, expect

PROJECTOR = {"width": 1280, "height": 720}
FONT_SIZE_JS = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"


FOLDED_JS = """() => {
  const side = document.querySelector('[data-testid=stSidebar]');
  return !side || side.getBoundingClientRect().right <= 1;
}"""


def sidebar_folded(page: Page) -> bool:
    """Whether the sidebar is off screen (its settings a click away)."""
    return page.evaluate(FOLDED_JS)


def bottom_of(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().bottom")


def shoot(page: Page, name: str) -> None:
    path = SCREENSHOTS / "presentation" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))  # one screen: what the class sees


def test_presentation_view_survives_pages_and_switches_off(new_context, app_url: str) -> None:
    context, _ = new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.goto(f"{app_url}/architecture?arch=hidden_n")
    wait_for_page(page)
    normal_font = page.evaluate(FONT_SIZE_JS)
    assert not sidebar_folded(page)

    # The switch turns it on and puts it in the URL.
    page.get_by_test_id("stSidebar").get_by_text("Presentation view").click()
    wait_for_streamlit(page)
    expect(page).to_have_url(re.compile(r"[?&]present=1"))
    expect(page.get_by_test_id("stTopNav")).to_be_visible()
    page.wait_for_function(FOLDED_JS)  # it slides away
    assert page.evaluate(FONT_SIZE_JS) > normal_font  # larger text

    # One screen: the verdict and the whole diagram above the fold, its labels apart.
    assert not diagram_label_problems(page), diagram_label_problems(page)
    verdict = page.get_by_text("Verdict.")
    expect(verdict).to_be_in_viewport()
    assert bottom_of(page, DIAGRAM) <= PROJECTOR["height"], "the diagram runs below the fold"
    assert title_lines(page) <= TITLE_MAX_LINES
    shoot(page, "architecture")

    # The page links at the top keep it, like every other setting in the URL.
    page.get_by_test_id("stTopNav").get_by_text("Train", exact=True).click()
    wait_for_page(page)
    expect(page.locator("[data-testid=stMain] h1")).to_contain_text("Train")
    expect(page).to_have_url(re.compile(r"/train\?(.*&)?present=1"))
    assert sidebar_folded(page)
    assert "arch=hidden_n" in page.url  # the sidebar's settings came along too
    shoot(page, "train")

    # Off again, from the sidebar: its links come back, the URL loses the flag.
    page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_test_id("stSidebar").get_by_text("Presentation view").click()
    wait_for_streamlit(page)
    expect(page).not_to_have_url(re.compile(r"present="))
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    expect(page.get_by_test_id("stTopNav")).to_have_count(0)
    assert page.evaluate(FONT_SIZE_JS) == normal_font


def test_presentation_link_opens_it_and_a_bad_value_says_why(new_context,
                                                             app_url: str) -> None:
    context, _ = new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.goto(f"{app_url}/architecture?arch=embedding&present=1")
    wait_for_page(page)
    expect(page.get_by_test_id("stTopNav")).to_be_visible()
    assert sidebar_folded(page)
    assert not diagram_label_problems(page), diagram_label_problems(page)

    page.goto(f"{app_url}/architecture?present=**yes**")
    wait_for_page(page)
    expect(page.get_by_text("A value in the link was not used:")).to_be_visible()
    # Shown as text: the link's asterisks stay asterisks, never bold.
    expect(page.get_by_text("present='**yes**' in the link was not used: must be 1")).to_be_visible()
    expect(page.get_by_test_id("stTopNav")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"present="))
