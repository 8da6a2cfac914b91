"""The app loads in a real browser and shows its title."""

from playwright.sync_api import Page, expect


def test_home_page_shows_title(page: Page, app_url, wait_for_app, screenshot):
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="LSTM Autoencoder Explorer")).to_be_visible()
    expect(page).to_have_title("LSTM Autoencoder Explorer")
    screenshot(page, "home.png")
