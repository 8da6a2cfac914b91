"""The Anomalies page in a real browser: trained on the bundled NAB series, the threshold slider
moves the test counts, and every control of the page clicked once (as test_click_everything
does for the whole app, here with a finished run so the page's result part is there to click).
"""

from __future__ import annotations

from browser_helpers import (
    metrics,
    number_of,
    runs,
    wait_for_page,
    wait_for_rerun,
    wait_for_streamlit,
)
from playwright.sync_api import expect
from test_click_everything import Clicker

NAB = "arch=encdec_ad&epochs=3&seq_len=24&units=8&an_data=nab_jumpsup"


def counts(page) -> dict[str, int | None]:
    return {label: number_of(value) for _, label, value in metrics(page)
            if label in ("true positives", "false positives", "false negatives",
                         "true negatives")}


def test_the_slider_moves_the_counts_on_the_labelled_nab_file(new_context, app_url) -> None:
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"{app_url}/anomalies?{NAB}&seed=301")
    wait_for_page(page)
    page.get_by_role("button", name="Train on normal series").click()
    expect(page.get_by_text("true positives")).to_be_visible(timeout=60_000)
    wait_for_streamlit(page)
    before = counts(page)
    assert all(v is not None for v in before.values()) and len(before) == 4
    # NAB's file in windows of 24 rows laid end to end: every step is counted once.
    rows = 4032 // 24 * 24
    assert sum(before.values()) == rows
    assert "an_data=nab_jumpsup" in page.url
    slider = page.locator("[data-testid=stMain] input[type=range]").last  # log10 tau
    slider.focus()
    before_runs = runs(page)  # installs the run counter
    page.keyboard.press("Home")  # the lowest tau: every step flagged
    assert wait_for_rerun(page, before_runs, required=True), "the slider started no rerun"
    expect(page.get_by_text("false negatives")).to_be_visible()
    after = counts(page)
    assert after["false negatives"] == 0 and after["true negatives"] == 0
    assert sum(after.values()) == rows


def test_every_control_of_the_anomalies_page(new_context, app_url) -> None:
    context, watch = new_context()
    clicker = Clicker(context.new_page(), app_url, watch)
    clicker.open(f"{app_url}/anomalies?{NAB}&seed=302")
    clicker.page.get_by_role("button", name="Train on normal series").click()
    expect(clicker.page.get_by_text("true positives")).to_be_visible(timeout=60_000)
    wait_for_streamlit(clicker.page)
    clicker.click_page()
    print(clicker.report())
    assert any("Back to the validation" in k for k in clicker.clicked), clicker.report()
    assert any("radio · sine series" in k for k in clicker.clicked), clicker.report()
    assert not clicker.problems, clicker.report()
