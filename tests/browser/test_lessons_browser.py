"""Lessons in a real browser: walk the steps, predict, reveal (the answer the core computes),
open a step's page here and check the sidebar shows the step's settings, and follow a step's
copied link in a new tab, which must open the same page with the same settings."""

from __future__ import annotations

from browser_helpers import (
    SCREENSHOTS,
    page_name,
    sidebar_values,
    state_problems,
    wait_for_page,
    wait_for_streamlit,
)
from playwright.sync_api import expect

from lstmae_demo.lessons import STEPS, config_of

STEP = next(i for i, s in enumerate(STEPS, 1) if s.page == "timesteps")  # "Why h_n?"


def test_walk_the_lesson_answer_reveal_and_follow_a_step_link(new_context, app_url) -> None:
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"{app_url}/lessons")
    wait_for_page(page)
    main = page.get_by_test_id("stMain")
    for number, step in enumerate(STEPS[:STEP], 1):  # Next, up to the Time steps step
        expect(main.locator("h2").first).to_have_text(
            f"Step {number} of {len(STEPS)}: {step.title}")
        if number < STEP:
            main.get_by_role("button", name="Next").click()
            wait_for_streamlit(page)
    step = STEPS[STEP - 1]
    assert f"lesson_step={STEP}" in page.url
    question = step.ask()
    wrong = next(c for c in question.choices if c != question.answer)
    main.get_by_text(wrong, exact=True).click()  # the learner's prediction
    wait_for_streamlit(page)
    main.get_by_role("button", name="Reveal the answer").click()
    expect(main.get_by_text(f"Not quite: the answer is {question.answer}")).to_be_visible()
    wait_for_streamlit(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lessons-revealed.png"), full_page=True)

    # The copied link, in a new tab: a fresh session that reads only the link.
    link = main.get_by_role("link", name="Open Time steps in a new tab")
    href = link.get_attribute("href")
    assert href and href.startswith(app_url) and link.get_attribute("target") == "_blank"
    assert href in (main.locator("[data-testid=stCode]").all_text_contents() or [""])[0]
    fresh = context.new_page()
    fresh.goto(href)
    wait_for_page(fresh)
    want = dict(config_of(step).values)
    shown, problems = state_problems(fresh, want)
    assert not problems, problems
    assert page_name(fresh.url) == "timesteps" and shown == want
    slider = fresh.get_by_test_id("stMain").locator("input[type=range]").first
    assert slider.input_value() == step.page_values["ts_step"]
    fresh.close()

    # The same step opened here, in this session: the sidebar takes the step's settings.
    main.get_by_role("button", name="Open Time steps here").click()
    wait_for_page(page)
    expect(page.get_by_test_id("stMain").locator("h1").first).to_have_text("Time steps")
    shown, problems = state_problems(page, want)
    assert not problems, problems
    assert sidebar_values(page)[0]["arch"] == step.settings["arch"]
    page.screenshot(path=str(SCREENSHOTS / "lessons-opened-timesteps.png"), full_page=True)
