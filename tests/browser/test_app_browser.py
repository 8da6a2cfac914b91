"""A new user in a real browser: a knob change, a live run, Stop, a shared URL, a bad link.

(Every page opening at every size is test_screenshots.py; every control, test_click_everything.)
"""

from __future__ import annotations

import re
import time

import pytest
from browser_helpers import layer_line, state_problems, wait_for_page
from playwright.sync_api import Page, expect

from lstmae_demo.settings import defaults

VIEWPORT = {"width": 1400, "height": 2400}  # tall: Streamlit scrolls inside the page


@pytest.fixture
def page(new_context) -> Page:
    """A fresh browser context per test (its console errors fail the test)."""
    context, _ = new_context(viewport=VIEWPORT)
    return context.new_page()


def open_page(page: Page, url: str, wait_for_app) -> None:
    page.goto(url)
    wait_for_page(page)  # the app's run is over and every sidebar widget is drawn


def plot_points(page: Page, y_title: str) -> list[int]:
    """The number of points of each trace of the Plotly chart whose y-axis title starts with
    `y_title` (the loss axis names its loss: "loss: MSE")."""
    return page.evaluate(
        """(title) => {
            for (const gd of document.querySelectorAll('.js-plotly-plot')) {
                const t = gd.layout && gd.layout.yaxis && gd.layout.yaxis.title;
                if (t && t.text && t.text.startsWith(title)) return gd.data.map(d => (d.y || []).length);
            }
            return null;
        }""",
        y_title,
    )


def wait_until(predicate, timeout: float, interval: float = 0.25):
    """Poll `predicate` until it returns something truthy; return it (or the last value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def test_knob_change_updates_the_shapes(page: Page, app_url: str, wait_for_app,
                                        screenshot) -> None:
    open_page(page, f"{app_url}/architecture", wait_for_app)
    base = defaults()
    expect(page.get_by_text(layer_line(base, "encoder LSTM"))).to_be_visible()
    units = page.get_by_role("spinbutton", name="Units (U)")
    units.fill("48")
    units.press("Enter")
    expect(page.get_by_text(layer_line(base | {"units": 48}, "encoder LSTM"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"units=48"))
    page.get_by_role("combobox", name=re.compile("Architecture")).click()
    page.get_by_role("option", name=re.compile("^hidden_n")).click()
    wide = base | {"units": 48, "arch": "hidden_n"}
    expect(page.get_by_text(layer_line(wide, "encoder LSTM 2"))).to_be_visible()
    wait_for_app(page)
    screenshot(page, "architecture-hidden_n-units48")


def test_a_short_run_grows_curves_and_draws_reconstructions(page: Page, app_url: str,
                                                             wait_for_app, screenshot) -> None:
    open_page(page, f"{app_url}/train?epochs=12&n_series=128", wait_for_app)
    page.get_by_role("button", name="Train").click()
    first = wait_until(lambda: (plot_points(page, "loss") or [0])[0] >= 1, timeout=20)
    assert first, "no loss point appeared"
    grown = wait_until(lambda: (plot_points(page, "loss") or [0])[0] >= 4, timeout=30)
    assert grown, f"the curve did not grow: {plot_points(page, 'loss')}"
    # This short run ends within the first poll, so the page is rerunning; while Streamlit
    # reruns, the previous run's chart stays on screen (stale) for a few frames beside the new
    # one. Judge the page once it has settled: exactly one reconstruction chart.
    wait_for_app(page)
    titles = page.get_by_text(re.compile(r"Reconstructions after epoch \d+"))
    expect(titles).to_have_count(1)
    expect(titles).to_be_visible()
    screenshot(page, "train-running")
    expect(page.get_by_text(re.compile(r"Done: 12 epochs"))).to_be_visible(timeout=60_000)
    assert plot_points(page, "loss") == [12, 12]
    expect(page.get_by_role("button", name="Weights (.safetensors)")).to_be_enabled()
    screenshot(page, "train-done")


def test_stop_takes_effect_and_keeps_the_curves(page: Page, app_url: str,
                                                wait_for_app, screenshot) -> None:
    open_page(page, f"{app_url}/train?epochs=300&n_series=256", wait_for_app)
    page.get_by_role("button", name="Train").click()
    assert wait_until(lambda: (plot_points(page, "loss") or [0])[0] >= 2, timeout=30)
    page.get_by_role("button", name="Stop").click()
    stopped = page.get_by_text(re.compile(r"Stopped after \d+ epoch"))
    expect(stopped).to_be_visible(timeout=5_000)
    kept = plot_points(page, "loss")[0]
    assert kept >= 2
    time.sleep(2)
    assert plot_points(page, "loss")[0] == kept  # nothing trains on after Stop
    screenshot(page, "train-stopped")


def test_a_shared_url_opens_the_same_state(new_context, page: Page, app_url: str,
                                           wait_for_app) -> None:
    open_page(page, f"{app_url}/architecture", wait_for_app)
    page.get_by_role("combobox", name=re.compile("Architecture")).click()
    page.get_by_role("option", name=re.compile("^encdec_ad")).click()
    wait_for_app(page)
    units = page.get_by_role("spinbutton", name="Units (U)")
    units.fill("20")
    units.press("Enter")
    expect(page).to_have_url(re.compile(r"units=20"))
    wait_for_app(page)
    shared = page.url

    other, _ = new_context(viewport=VIEWPORT)
    fresh = other.new_page()
    open_page(fresh, shared, wait_for_app)
    expect(fresh.get_by_role("heading", level=1).first).to_contain_text("encdec_ad")
    expect(fresh.get_by_role("spinbutton", name="Units (U)")).to_have_value("20")
    wait_for_page(fresh)
    shared_values = defaults() | {"arch": "encdec_ad", "units": 20}
    expect(fresh.get_by_text(layer_line(shared_values, "decoder LSTM"))).to_be_visible()
    _, problems = state_problems(fresh, shared_values)
    assert not problems, problems


def test_bad_url_values_fall_back_with_a_note(page: Page, app_url: str, wait_for_app,
                                              screenshot) -> None:
    open_page(page, f"{app_url}/architecture?units=99999&arch=gru", wait_for_app)
    expect(page.get_by_text("Some values in the link were not valid")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Units (U)")).to_have_value("32")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "bad-url-note")
    page.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_text("Some values in the link were not valid")).to_have_count(0)
    wait_for_app(page)
    expect(page.get_by_role("spinbutton", name="Units (U)")).to_have_value("32")
    assert "units=" not in page.url and "arch=" not in page.url, page.url


def test_a_time_steps_link_opens_at_its_step_and_keeps_it(page: Page, app_url: str,
                                                          wait_for_app, screenshot) -> None:
    """A teacher's "look at step 12 of series 3" link, opened as a deep link."""
    open_page(page, f"{app_url}/timesteps?units=8&seq_len=30&ts_step=12&ts_series=3",
              wait_for_app)
    slider = page.get_by_role("slider", name="Time step t")
    expect(slider).to_have_value("12")
    expect(page.get_by_role("spinbutton", name="Validation series")).to_have_value("3")
    expect(page).to_have_url(re.compile(r"ts_step=12"))
    expect(page).to_have_url(re.compile(r"units=8"))
    slider.focus()
    page.keyboard.press("ArrowLeft")  # step 11
    expect(page).to_have_url(re.compile(r"ts_step=11"))
    wait_for_app(page)
    screenshot(page, "timesteps-link-step11")
