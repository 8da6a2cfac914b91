"""The Quiz in a real browser: a teacher's link (?quiz_seed=7) opens the set the core makes
for that seed, a prediction is revealed as right or wrong with the highlighted diagram, and
the score follows; the README's picture of a revealed question is taken here."""

from __future__ import annotations

import re

from browser_helpers import SCREENSHOTS, wait_for_page, wait_for_streamlit
from playwright.sync_api import Page, expect
from test_screenshots import CONTENT_HEIGHT_JS

from lstmae_demo import quiz

LETTERS = "ABCDEFGH"


def choose(page: Page, q: quiz.Question, text: str) -> None:
    """Pick the choice `text` (by its letter when the choices are a framework's messages)."""
    label = LETTERS[q.choices.index(text)] if q.from_framework else text
    option = page.locator("[data-testid=stMain] [data-testid=stRadioOption]",
                          has_text=re.compile("^" + re.escape(label) + "$"))
    option.click()
    wait_for_streamlit(page)


def reveal(page: Page) -> None:
    page.get_by_role("button", name="Reveal").click()
    wait_for_streamlit(page)


def picture(page: Page, name: str) -> None:
    """The whole page (Streamlit scrolls inside its own pane, so the window is grown to the
    content's height first) as artifacts/screenshots/<name>."""
    viewport = page.viewport_size
    height = max(viewport["height"], page.evaluate(CONTENT_HEIGHT_JS))
    page.set_viewport_size({"width": viewport["width"], "height": height})
    wait_for_streamlit(page)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    page.set_viewport_size(viewport)


def score(page: Page):
    return page.locator("[data-testid=stMetric]", has_text="Score")


def test_a_teachers_link_answer_reveal_and_score(new_context, app_url) -> None:
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"{app_url}/quiz?quiz_seed=7")
    wait_for_page(page)
    expect(page.locator("[data-testid=stMain] h1").first).to_have_text("Quiz")
    expect(page.get_by_text(f"Question 1 of {quiz.SET_SIZE}")).to_be_visible()
    expect(score(page)).to_contain_text("0 / 0")
    q = quiz.question(7, quiz.DEFAULT_LEVEL, 0)
    expect(page.get_by_role("button", name="Reveal")).to_be_disabled()  # predict first
    choose(page, q, q.answer)
    reveal(page)
    expect(page.get_by_text("Right.", exact=True)).to_be_visible()
    expect(score(page)).to_contain_text("1 / 1")
    diagram = page.get_by_test_id("stPlotlyChart").last
    expect(diagram.locator(".main-svg").first).to_be_visible()
    if q.highlight:  # the layer asked about is named under the diagram
        expect(page.get_by_text(f"the dashed frame marks the {q.highlight}")).to_be_visible()
    assert "quiz_seed=7" in page.url
    picture(page, "quiz-revealed.png")

    page.get_by_role("button", name="Next question").click()
    wait_for_streamlit(page)
    expect(page.get_by_text(f"Question 2 of {quiz.SET_SIZE}")).to_be_visible()
    q1 = quiz.question(7, quiz.DEFAULT_LEVEL, 1)
    choose(page, q1, next(c for c in q1.choices if c != q1.answer))
    reveal(page)
    expect(page.get_by_text("Not quite. The answer:")).to_be_visible()
    expect(score(page)).to_contain_text("1 / 2")
    picture(page, "quiz-wrong.png")
