"""The Lessons page: each step with its links and its question, reveal, next/previous, the step
in the URL (a bad one named as text), and each step's link opening its page with exactly the
step's settings in the sidebar, by the link and by the page's own "open here" button."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from apptest_helpers import HOME, LESSONS, config_values, open_deep_link, page_text, sampled
from streamlit.testing.v1 import AppTest

from lstmae_demo.lessons import STEPS, Step, config_of, lesson_url, step_url

TARGET = {"home": HOME}  # a page's script, where it is not pages/<page>/page.py


def at_lessons(params: dict[str, str] | None = None) -> AppTest:
    """The app opened on Lessons with these URL values (the first run is Home, as in every
    AppTest; its sidebar keeps only the knobs, so the page's own values are put back before
    switching, as a deep link's first run has them)."""
    return open_deep_link(LESSONS, page_values=params)


def target(step: Step) -> str:
    return TARGET.get(step.page, f"pages/{step.page}/page.py")


def at_link(url: str, page: str) -> AppTest:
    """The app opened from a link, as a new browser session does: its knobs are in the first
    run's URL; the page's own values go back in before switching to its page."""
    query = dict(parse_qsl(urlsplit(url).query))
    return open_deep_link(page, query, query)


def heading(at: AppTest) -> str:
    return at.header[0].value


@pytest.mark.parametrize("number", sampled(range(1, len(STEPS) + 1)))
def test_each_step_shows_its_text_its_links_and_its_question(number: int) -> None:
    step, at = STEPS[number - 1], at_lessons({"lesson_step": str(number)})
    assert heading(at) == f"Step {number} of {len(STEPS)}: {step.title}"
    codes = [c.value for c in at.code]
    assert step_url(step) in codes and lesson_url(number) in codes
    assert at.selectbox(key="lesson_step").value == number
    question = step.ask()
    radio = at.radio(key=f"lesson_answer_{number}")
    assert radio.label == question.prompt and list(radio.options) == list(question.choices)
    assert question.explanation.split("\n")[0] not in page_text(at)  # not before the reveal
    assert dict(at.query_params).get("lesson_step") == (None if number == 1 else str(number))


def test_reveal_says_right_or_wrong_and_shows_the_computed_explanation() -> None:
    at = at_lessons({"lesson_step": "2"})
    question = STEPS[1].ask()
    wrong = next(c for c in question.choices if c != question.answer)
    at.radio(key="lesson_answer_2").set_value(wrong).run()
    at.button(key="lesson_reveal_2").click().run()
    assert [e.value for e in at.error] == [f"Not quite: the answer is {question.answer}"]
    assert question.explanation.split("\n")[0] in page_text(at)
    at.button(key="lesson_hide_2").click().run()
    assert not at.error and at.radio(key="lesson_answer_2").value is None
    at.radio(key="lesson_answer_2").set_value(question.answer).run()
    at.button(key="lesson_reveal_2").click().run()
    assert [e.value for e in at.success] == [f"Right: {question.answer}"]


def test_reveal_without_a_prediction_just_gives_the_answer() -> None:
    at = at_lessons()
    at.button(key="lesson_reveal_1").click().run()
    assert [e.value for e in at.info] == [f"The answer: {STEPS[0].ask().answer}"]


def test_next_and_previous_move_the_step_and_the_url() -> None:
    at = at_lessons()
    assert at.button(key="lesson_previous").disabled
    at.button(key="lesson_next").click().run()
    assert heading(at).startswith("Step 2 ") and at.query_params["lesson_step"] == "2"
    at.button(key="lesson_next").click().run()
    at.button(key="lesson_previous").click().run()
    assert heading(at).startswith("Step 2 ")
    at.selectbox(key="lesson_step").set_value(len(STEPS)).run()
    assert at.button(key="lesson_next").disabled and heading(at).startswith(f"Step {len(STEPS)} ")
    at.button(key="lesson_previous").click().run()
    assert at.query_params["lesson_step"] == str(len(STEPS) - 1)


@pytest.mark.parametrize("raw", [str(len(STEPS) + 1), "0", "two", "[x](http://evil.example)"])
def test_a_bad_step_in_the_link_is_named_as_text_and_step_one_shown(raw: str) -> None:
    at = at_lessons({"lesson_step": raw})
    assert heading(at).startswith("Step 1 ")
    notes = [t.value for t in at.text]
    assert any(n.startswith("lesson_step=") and f"from 1 to {len(STEPS)}" in n
               for n in notes), notes
    assert "evil.example" not in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("step", sampled(STEPS, [s.title for s in STEPS]))
def test_each_step_link_opens_its_page_with_the_step_settings(step: Step) -> None:
    at = at_link(step_url(step), target(step))
    assert config_values(at) == dict(config_of(step).values)
    for name, value in config_of(step).values.items():  # the sidebar's widgets show them
        assert at.session_state[name] == value, name
    for name, value in step.page_values.items():
        assert str(at.session_state[name]) == value, name
    if step.page == "timesteps":
        assert at.slider(key="ts_step").value == int(step.page_values["ts_step"])
    assert at.session_state["_url_notes"] == []  # nothing in the link was refused
    assert "in the link was not used" not in page_text(at)


@pytest.mark.slow
def test_open_here_gives_this_session_the_step_settings_even_after_changes() -> None:
    """The in-app button does what the link does, though this session's sidebar has other
    values and the Time steps page was already visited at another step."""
    step = next(s for s in STEPS if s.page == "timesteps")
    number = STEPS.index(step) + 1
    at = at_lessons()
    at.switch_page("pages/timesteps/page.py").run()
    at.slider(key="ts_step").set_value(3).run()
    at.number_input(key="ts_series").set_value(4).run()
    at.number_input(key="units").set_value(8).run()
    at.query_params["lesson_step"] = str(number)
    at.switch_page(LESSONS).run()
    at.selectbox(key="lesson_step").set_value(number).run()
    answer = step.ask().answer
    at.radio(key=f"lesson_answer_{number}").set_value(answer).run()
    at.button(key=f"lesson_reveal_{number}").click().run()
    at.button(key=f"lesson_open_{number}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Time steps"
    assert config_values(at) == dict(config_of(step).values)
    assert at.slider(key="ts_step").value == int(step.page_values["ts_step"])
    assert at.number_input(key="ts_series").value == 1  # the link does not set it: default
    assert at.radio(key="ts_model").value == step.page_values["ts_model"]
    # Back on Lessons (as through the sidebar): the same step, its prediction and its answer.
    at.switch_page(LESSONS).run()
    assert heading(at).startswith(f"Step {number} ")
    assert at.radio(key=f"lesson_answer_{number}").value == answer
    assert [e.value for e in at.success] == [f"Right: {answer}"]
