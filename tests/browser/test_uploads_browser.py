"""The data choice and the files a learner brings, in a real browser: the bundled series by
link, a CSV upload (good, then bad) through the sidebar's file input, the weights download of a
finished run and its upload back (good, then bad). Screenshots at a desktop and a phone size.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import save_screenshot, sidebar_values, state_problems, wait_for_page
from playwright.sync_api import Page, expect

from lstmae_demo.config import AppConfig
from lstmae_demo.weights import load as load_weights

DATA = Path(__file__).resolve().parents[1] / "data"
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(SIZES))
def sized(request, new_context) -> tuple[str, Page]:
    context, _ = new_context(viewport=SIZES[request.param])
    return request.param, context.new_page()


def open_sidebar_data(page: Page) -> None:
    """Open the sidebar (a phone shows it collapsed) and its Data section."""
    sidebar = page.get_by_test_id("stSidebar")
    if not sidebar.is_visible() or sidebar.bounding_box()["x"] < 0:
        page.get_by_test_id("stExpandSidebarButton").click()
    data = sidebar.locator("details", has=page.locator("summary", has_text="Data")).first
    if data.get_attribute("open") is None:
        data.locator("summary").click()


def train_page(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_page(page)


def test_nab_by_link_trains_on_its_windows(sized, app_url) -> None:
    size, page = sized
    train_page(page, f"{app_url}/train?data=nab_jumpsup&epochs=3&seed=401")
    values, problems = sidebar_values(page)
    assert not problems and values["data"] == "nab_jumpsup"
    n = AppConfig(values).train_windows()
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(f"{n} windows of 50 steps cut every 25 rows")
    expect(main).to_contain_text("Numenta Anomaly Benchmark")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Done: 3 epochs"))).to_be_visible(timeout=120_000)
    wait_for_page(page)
    assert not state_problems(page, None)[1]
    save_screenshot(page, f"data/train-nab-{size}")
    page.get_by_text(re.compile("Reconstructions after epoch 3")).scroll_into_view_if_needed()
    save_screenshot(page, f"data/train-nab-reconstructions-{size}")


def test_a_csv_upload_becomes_the_data_and_a_bad_one_changes_nothing(sized, app_url) -> None:
    size, page = sized
    train_page(page, f"{app_url}/train?units=12")
    open_sidebar_data(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.locator("input[type=file]").set_input_files(str(DATA / "bad_csv" / "good.csv"))
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("cut every 25 rows from your CSV file (300 rows, 2 columns",
                                 timeout=30_000)
    wait_for_page(page)
    values, _ = sidebar_values(page)
    assert values["data"] == "csv" and values["n_features"] == 2 and values["units"] == 12
    expect(main).to_contain_text("good.csv: 300 rows; text columns left out: time")
    save_screenshot(page, f"data/train-csv-{size}")
    open_sidebar_data(page)
    sidebar.locator("input[type=file]").set_input_files(str(DATA / "bad_csv" / "nan_value.csv"))
    expect(sidebar).to_contain_text("That file was not used; your settings are unchanged.",
                                    timeout=30_000)
    expect(sidebar).to_contain_text("nan_value.csv: row 22, column 1 (\"a\"): 'nan' is not a "
                                    "finite number")
    wait_for_page(page)
    assert sidebar_values(page)[0] == values  # nothing the learner set is lost
    expect(main).to_contain_text("good.csv: 300 rows")  # and the file in use is kept
    sidebar.get_by_text("That file was not used").scroll_into_view_if_needed()
    save_screenshot(page, f"data/train-csv-refused-{size}")


def test_weights_download_and_upload_back(new_context, app_url, tmp_path) -> None:
    context, _ = new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    train_page(page, f"{app_url}/train?epochs=2&units=10&seed=402")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Done: 2 epochs"))).to_be_visible(timeout=120_000)
    wait_for_page(page)
    with page.expect_download(timeout=90_000) as download:  # a busy CI machine is slow
        page.get_by_role("button", name="Weights (.safetensors)").click()
    path = tmp_path / "run.safetensors"
    download.value.save_as(path)
    spec, _, metadata = load_weights(path)
    assert spec.units == 10 and len(metadata["losses"]["train"]) == 2
    wait_for_page(page)

    # A fresh session (another learner) loads it: the sidebar shows the file's model.
    other = new_context(viewport=SIZES["desktop"])[0].new_page()
    train_page(other, f"{app_url}/train")
    other.get_by_test_id("stMain").locator("summary", has_text="Load a saved model").click()
    other.get_by_test_id("stMain").locator("input[type=file]").set_input_files(str(path))
    expect(other.get_by_text("A saved model was loaded.")).to_be_visible(timeout=30_000)
    wait_for_page(other)
    assert sidebar_values(other)[0]["units"] == 10
    expect(other.get_by_text(re.compile("A model loaded from a file: trained elsewhere for 2 "
                                        r"epoch\(s\)"))).to_be_visible()
    expect(other.get_by_role("button", name="Continue training this model")).to_be_enabled()
    save_screenshot(other, "data/train-weights-loaded-desktop")
    other.get_by_text("Reconstructions by the loaded model").scroll_into_view_if_needed()
    save_screenshot(other, "data/train-weights-loaded-reconstructions-desktop")
    other.get_by_role("button", name="Continue training this model").scroll_into_view_if_needed()
    save_screenshot(other, "data/train-weights-continue-desktop")
    other.set_viewport_size(SIZES["phone"])
    wait_for_page(other)
    save_screenshot(other, "data/train-weights-loaded-phone")
    other.set_viewport_size(SIZES["desktop"])

    before = sidebar_values(other)[0]
    other.get_by_test_id("stMain").locator("input[type=file]").set_input_files(
        str(DATA / "bad_weights" / "pickle_runs_code.pkl"))
    expect(other.get_by_text("That model was not loaded; the current model and settings are "
                             "kept.")).to_be_visible(timeout=30_000)
    expect(other.get_by_test_id("stMain")).to_contain_text(
        "loading a pickle can run any code it contains")
    wait_for_page(other)
    assert sidebar_values(other)[0] == before
    save_screenshot(other, "data/train-weights-refused-desktop")
