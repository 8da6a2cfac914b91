"""The Compare page in a real browser: the curves grow live and overlaid, the table and the grid
come from the runs, the choice lives in the URL, and a bad link is shown as plain text."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from browser_helpers import state_problems, surface_problems, wait_for_page, wait_for_streamlit
from playwright.sync_api import Page, expect

SMALL = "epochs=12&n_series=64&seq_len=16&units=8&seed=401"

# The number of points of each trace of the chart whose x axis is titled `title`.
POINTS_JS = """(title) => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const t = gd.layout && gd.layout.xaxis && gd.layout.xaxis.title;
    if (t && t.text && t.text.startsWith(title)) return gd.data.map(d => (d.y || []).length);
  }
  return null;
}"""


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_comparison_trains_live_and_shows_its_numbers(new_context, app_url: str) -> None:
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"{app_url}/compare?{SMALL}&compare=repeatvector,encdec_ad")
    wait_for_page(page)
    assert query(page)["compare"] == ["repeatvector,encdec_ad"]
    page.get_by_role("button", name="Train").click()
    # Live: both curves on the epoch chart, then every epoch of both once they are done.
    page.wait_for_function(f"() => {{ const n = ({POINTS_JS})('epoch'); "
                           "return n && n.length === 2 && n[0] > 0 && n[1] > 0; }",
                           timeout=120_000, polling=200)
    page.wait_for_function(f"() => {{ const n = ({POINTS_JS})('epoch'); "
                           "return n && n[0] === 12 && n[1] === 12; }",
                           timeout=180_000, polling=500)
    expect(page.get_by_text("Findings appear when every run has ended")).to_have_count(
        0, timeout=60_000)
    wait_for_streamlit(page)
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    page.get_by_role("tab", name="by seconds").click()
    assert page.evaluate(POINTS_JS, "seconds") == [12, 12]
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    expect(page.get_by_text("The same validation series, reconstructed by each")).to_be_visible()
    _, problems = state_problems(page, None)
    assert not problems, problems


def test_the_choice_is_in_the_url_and_a_bad_one_is_shown_as_text(new_context,
                                                                 app_url: str) -> None:
    context, _ = new_context()
    page = context.new_page()
    bad = "**bold**,![img](https://example.com/x.png)"
    page.goto(f"{app_url}/compare?{SMALL}&compare={bad}")
    wait_for_page(page)
    note = page.get_by_test_id("stText").filter(has_text="is not one of them")
    expect(note).to_have_count(1)
    assert "**bold**" in note.text_content()  # the link's value, literally
    assert page.locator("[data-testid=stMain] img").count() == 0
    assert "compare" not in query(page)  # all four: the default stays out of the URL
    page.get_by_role("button", name="hidden_n").click()  # leave hidden_n out
    wait_for_streamlit(page)
    page.wait_for_function("() => location.search.includes('compare=')", timeout=20_000)
    assert query(page)["compare"] == ["repeatvector,embedding,encdec_ad"]
    expect(note).to_have_count(0)  # the learner chose: the link's note is gone
    page.reload()  # the URL alone brings the choice back
    wait_for_page(page)
    assert query(page)["compare"] == ["repeatvector,embedding,encdec_ad"]
    assert not surface_problems(page), surface_problems(page)
