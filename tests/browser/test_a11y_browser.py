"""Accessibility in the real browser: axe-core (through axe-playwright-python) on every page
finds no serious or critical violation and no skipped heading level; every chart has its text alternative beside it and
its text at >= 4.5:1; the Train button is a few key presses from page load, with a visible
focus ring on the way.

Pages come from browser_helpers.PAGES, so a page added there is checked here too.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_helpers import PAGES, SCREENSHOTS, save_screenshot, wait_for_page, wait_for_streamlit
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lstmae_demo.plots import MIN_TEXT_CONTRAST, contrast_ratio
from lstmae_demo.ui.charts import PREFIX

BLOCKING = ("serious", "critical")
# Moderate rules held to as strictly: a screen reader user moves by headings, and a level
# skipped (an h1 then an h3) hides where a section belongs.
ALSO_BLOCKING = ("heading-order",)
# A phone, where code and tables are narrower than their content, and a desktop.
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
SHORT_RUN = "epochs=3&n_series=16"
# (axe rule, the element's selector as axe names it) -> why it cannot be fixed from the app,
# with the evidence. Only that rule on that element is let through; anything else fails.
EXCLUDED: dict[tuple[str, str], str] = {}
# Key presses from page load to the Train button: Tab to Streamlit's "Skip to main content"
# link, Enter, then one Tab to the first control of the main pane, which is Train (without the
# skip link: ~29 Tabs through the navigation and the sidebar's settings).
MAX_KEYS_TO_TRAIN = 3
MAX_TABS = 60  # a walk that has not found Train after this many Tabs has lost its way

_axe = Axe()


def blocking_violations(page: Page, where: str) -> list[str]:
    """axe-core's serious and critical violations and ALSO_BLOCKING rules, minus EXCLUDED."""
    result = _axe.run(page, options={"resultTypes": ["violations"]})
    found = []
    for violation in result.response["violations"]:
        if violation["impact"] not in BLOCKING and violation["id"] not in ALSO_BLOCKING:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            if (violation["id"], target) in EXCLUDED:
                continue
            found.append(f"{where}: {violation['id']} ({violation['impact']}) at {target}: "
                         f"{node.get('failureSummary', '')[:300]} | {node['html'][:200]}")
    return found


# Every chart, whether it sits in a chart() container with a caption after it; and every text
# the charts draw, with its colour (tspan colours are a label's coloured part).
CHARTS_JS = """(prefix) => [...document.querySelectorAll('[data-testid=stPlotlyChart]')].map(c => {
  const box = c.closest(`[class*="st-key-${prefix}"]`);
  const caption = box && box.querySelector('[data-testid=stCaptionContainer]');
  const after = caption && (c.compareDocumentPosition(caption)
                            & Node.DOCUMENT_POSITION_FOLLOWING);
  return {key: box ? [...box.classList].find(k => k.startsWith('st-key-')) : null,
          text: caption && after ? caption.innerText.trim() : '',
          visible: c.checkVisibility()};
})"""
SVG_TEXT_JS = """() => {
  const out = [];
  for (const t of document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg text, '
                                           + '[data-testid=stPlotlyChart] .main-svg tspan')) {
    const words = t.textContent.trim();
    if (!words || /^[█■●◆▲◀□\\s]+$/.test(words) || !t.checkVisibility()) continue;
    const style = getComputedStyle(t);
    if (parseFloat(style.fillOpacity) === 0 || parseFloat(style.opacity) === 0) continue;
    out.push([words.slice(0, 40), style.fill]);
  }
  return out;
}"""


def chart_problems(page: Page, where: str) -> list[str]:
    """Charts without their text alternative, and chart text below 4.5:1 on white."""
    problems = []
    # While a live page reruns, Streamlit may show a chart a moment before the caption drawn
    # after it: give it a few seconds to settle; a text that is really missing stays missing.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(f"() => ({CHARTS_JS})({PREFIX!r}).every("
                               "c => c.key !== null && c.text.length >= 30)", timeout=10_000)
    for chart in page.evaluate(CHARTS_JS, PREFIX):
        if chart["key"] is None:
            problems.append(f"{where}: a chart not drawn through ui.charts.chart")
        elif len(chart["text"]) < 30:
            problems.append(f"{where}: {chart['key']} has no text alternative after it "
                            f"({chart['text']!r})")
    for words, fill in page.evaluate(SVG_TEXT_JS):
        if fill.startswith("rgb") and contrast_ratio(fill) < MIN_TEXT_CONTRAST:
            problems.append(f"{where}: chart text {words!r} in {fill} "
                            f"({contrast_ratio(fill):.2f}:1)")
    return problems


def _charts_drawn(page: Page) -> None:
    """Wait until every chart on the page has drawn its SVG."""
    page.wait_for_function("""() => [...document.querySelectorAll(
        '[data-testid=stPlotlyChart]')].every(c => !c.checkVisibility()
        || c.querySelector('.main-svg'))""")


def check(page: Page, where: str, least_charts: int = 0, pictures: bool = False
          ) -> list[str]:
    """Everything wrong on the page as it is now; with `pictures`, each chart and its text
    saved as artifacts/screenshots/a11y/chart-<key>.png for a person to look at."""
    wait_for_streamlit(page)
    _charts_drawn(page)
    problems = blocking_violations(page, where) + chart_problems(page, where)
    charts = page.locator(f"[class*='st-key-{PREFIX}']")
    if charts.count() < least_charts:
        problems.append(f"{where}: {charts.count()} charts, expected at least {least_charts}")
    for i in range(charts.count() if pictures else 0):
        box = charts.nth(i)
        if box.is_visible():
            key = next(c for c in (box.get_attribute("class") or "").split()
                       if c.startswith("st-key-")).removeprefix("st-key-")
            box.screenshot(path=str(SCREENSHOTS / "a11y" / f"{key}.png"))
    return problems


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_passes_axe_and_every_chart_has_its_text(new_context, app_url: str,
                                                            size: str) -> None:
    context, _ = new_context(viewport=SIZES[size])
    page = context.new_page()
    problems = []
    charts = 0
    for title, path, _ in PAGES:
        page.goto(f"{app_url}/{path}")
        wait_for_page(page)
        problems += check(page, f"{title} ({size})", pictures=size == "desktop")
        charts += page.get_by_test_id("stPlotlyChart").count()
        save_screenshot(page, f"a11y/{size}-{path or 'home'}.png")
    assert charts >= 5, f"only {charts} charts on the pages as they open: nothing was checked"
    assert not problems, "\n".join(problems)


def test_trained_pages_pass_axe_and_every_chart_has_its_text(new_context,
                                                              app_url: str) -> None:
    """The charts that need a trained model: Train's curves, Latent space, Time steps of the
    trained model, Anomalies after its run, Compare after its runs."""
    context, _ = new_context()
    page = context.new_page()
    problems = []
    page.goto(f"{app_url}/train?{SHORT_RUN}")
    wait_for_page(page)
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text(re.compile(r"Done: 3 epochs"))).to_be_visible(timeout=60_000)
    problems += check(page, "Train, trained", 2, pictures=True)
    run = urlsplit(page.url).query
    for path, name, least in (("latent", "Latent space", 4), ("timesteps", "Time steps", 3)):
        page.goto(f"{app_url}/{path}?{run}")
        wait_for_page(page)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
        problems += check(page, f"{name}, trained", least, pictures=True)
    page.goto(f"{app_url}/anomalies?{SHORT_RUN}&arch=encdec_ad&an_data=nab_jumpsup")
    wait_for_page(page)
    page.get_by_role("button", name="Train on normal series").click()
    expect(page.get_by_text("true positives")).to_be_visible(timeout=60_000)
    problems += check(page, "Anomalies, trained", 3, pictures=True)
    page.goto(f"{app_url}/compare?{SHORT_RUN}")
    wait_for_page(page)
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("Findings appear when every run has ended")).to_have_count(
        0, timeout=120_000)
    expect(page.get_by_text("What the numbers show")).to_be_visible()
    problems += check(page, "Compare, trained", 2, pictures=True)
    assert not problems, "\n".join(problems)


FOCUSED_JS = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  const style = getComputedStyle(a);
  return {text: (a.innerText || a.getAttribute('aria-label') || '').trim().slice(0, 60),
          tag: a.tagName, train: !!a.closest('.st-key-train_button'),
          ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          ringColour: style.outlineColor,
          shown: a.checkVisibility() && a.getBoundingClientRect().width > 1};
}"""


def test_train_is_a_few_keys_from_page_load_with_a_focus_ring_on_the_way(
        new_context, app_url: str) -> None:
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"{app_url}/train")
    wait_for_page(page)
    keys, path = 0, []
    focused = None
    while keys < MAX_TABS:
        page.keyboard.press("Tab")
        keys += 1
        focused = page.evaluate(FOCUSED_JS)
        path.append(focused and focused["text"])
        if focused and focused["text"] == "Skip to main content":
            assert focused["shown"], "the skip link is not shown when it has focus"
            assert focused["ring"], f"no focus ring on the skip link: {focused}"
            save_screenshot(page, "a11y/focus-skip-link.png")
            page.keyboard.press("Enter")
            keys += 1
            path.append("Enter")
        if focused and focused["train"]:
            break
    assert focused and focused["train"], f"Train never got focus; the Tab path: {path}"
    assert focused["ring"], f"no visible focus ring on Train: {focused}"
    assert contrast_ratio(focused["ringColour"]) >= 3, focused  # WCAG 1.4.11, non-text
    save_screenshot(page, "a11y/focus-train.png")
    assert keys <= MAX_KEYS_TO_TRAIN, f"{keys} key presses to Train: {path}"


def test_every_focusable_control_in_the_sidebar_shows_a_ring(new_context, app_url: str) -> None:
    """Tab through the page's first stops (navigation, the sidebar's settings) and look at
    each: a keyboard user must see where they are."""
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"{app_url}/architecture")
    wait_for_page(page)
    missing = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused and focused["shown"] and not focused["ring"]:
            missing.append(f"{focused['tag']} {focused['text']!r}")
    page.keyboard.press("Shift+Tab")
    save_screenshot(page, "a11y/focus-sidebar.png")
    assert not missing, f"focused without a visible ring: {missing}"
    assert (SCREENSHOTS / "a11y" / "focus-sidebar.png").exists()
