"""AppTest: the Quiz page asks the core's questions for the URL's seed and level, reveals
right or wrong with the answer and the highlighted diagram, keeps a running score, moves on,
and turns a bad link value into a note."""

from __future__ import annotations

import json

from apptest_helpers import QUIZ, chart_specs, open_deep_link
from streamlit.testing.v1 import AppTest

from lstmae_demo import quiz


def at_quiz(page_params: dict[str, str]) -> AppTest:
    """The app opened on the Quiz with these page values in the URL (the first run is Home,
    whose sidebar keeps only the knobs, so the page's values are put back before switching,
    as a deep link's first run has them)."""
    return open_deep_link(QUIZ, page_values=page_params)


def pick(at: AppTest, index: int):
    return next(r for r in at.radio if r.key.startswith("quiz_pick_") and
                r.key.endswith(f"_{index}"))


def score(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Score")


def first_seed(level: str, kind: str, index: int = 0) -> int:
    """The first seed whose question `index` at `level` is of this kind."""
    return next(s for s in range(500) if quiz.question(s, level, index).kind == kind)


def test_a_link_opens_its_set_and_keeps_it_in_the_url() -> None:
    at = at_quiz({"quiz_seed": "7", "quiz_level": "easy"})
    assert at.number_input(key="quiz_seed").value == 7
    assert at.radio(key="quiz_level").value == "easy"
    q = quiz.question(7, "easy", 0)
    if q.from_framework:
        assert [c.value for c in at.code if c.value in q.choices] == list(q.choices)
    else:
        assert pick(at, 0).options == list(q.choices)
    params = dict(at.query_params)
    assert params["quiz_seed"] == "7" and params["quiz_level"] == "easy"
    assert not at.warning


def test_reveal_right_then_wrong_counts_the_score_and_highlights_the_layer() -> None:
    seed = first_seed("medium", "shape")
    at = at_quiz({"quiz_seed": str(seed)})
    q = quiz.question(seed, "medium", 0)
    assert score(at) == "0 / 0"
    assert at.button(key="quiz_reveal_0").disabled  # predict first
    pick(at, 0).set_value(q.answer).run()
    at.button(key="quiz_reveal_0").click().run()
    assert [s.value for s in at.success] == ["Right."]
    assert score(at) == "1 / 1"
    assert pick(at, 0).disabled  # no second guess after the reveal
    assert q.explanation in [m.value for m in at.markdown]
    diagram = chart_specs(at)[-1]
    frames = [s for s in diagram["layout"]["shapes"] if s.get("line", {}).get("dash") == "dash"]
    assert len(frames) == 1

    at.button(key="quiz_next_0").click().run()
    q1 = quiz.question(seed, "medium", 1)
    assert at.header[0].value == f"Question 2 of {quiz.SET_SIZE}"
    if q1.entered:
        return
    wrong = next(c for c in q1.choices if c != q1.answer)
    radio = pick(at, 1)
    radio.set_value(wrong if not q1.from_framework else
                    "ABCDE"[q1.choices.index(wrong)]).run()
    at.button(key="quiz_reveal_1").click().run()
    assert at.error and at.error[0].value.startswith("Not quite")
    assert score(at) == "1 / 2"
    at.button(key="quiz_reveal_1")  # still drawn, disabled: a second press cannot re-score
    assert at.button(key="quiz_reveal_1").disabled


def test_a_pitfall_question_shows_the_frameworks_message_as_text() -> None:
    seed = first_seed("medium", "pitfall")
    q = quiz.question(seed, "medium", 0)
    at = at_quiz({"quiz_seed": str(seed)})
    assert q.code.strip() in [c.value.strip() for c in at.code]  # the snippet as it ran
    assert pick(at, 0).options == list("ABCDE"[: len(q.choices)])
    letter = "ABCDE"[q.choices.index(q.answer)]
    pick(at, 0).set_value(letter).run()
    at.button(key="quiz_reveal_0").click().run()
    assert score(at) == "1 / 1"
    assert q.answer in [c.value for c in at.code]
    assert all(q.answer not in m.value for m in at.markdown)  # never rendered as Markdown


def test_hard_counts_are_typed_in() -> None:
    seed = first_seed("hard", "params")
    q = quiz.question(seed, "hard", 0)
    at = at_quiz({"quiz_seed": str(seed), "quiz_level": "hard"})
    box = next(n for n in at.number_input if n.key.startswith("quiz_pick_"))
    box.set_value(q.value + 1).run()
    at.button(key="quiz_reveal_0").click().run()
    assert score(at) == "0 / 1"
    assert q.answer in [t.value for t in at.text]  # the right count, shown after a miss


def test_bad_link_values_give_a_note_and_the_defaults() -> None:
    at = at_quiz({"quiz_seed": "[x](http://evil.example/a)", "quiz_level": "expert"})
    assert at.number_input(key="quiz_seed").value == 1
    assert at.radio(key="quiz_level").value == quiz.DEFAULT_LEVEL
    notes = [t.value for t in at.text]
    assert any(n.startswith("quiz_seed=") and "whole number" in n for n in notes), notes
    assert any(n.startswith("quiz_level='expert'") and "easy, medium, hard" in n for n in notes)
    assert all("evil.example" not in m.value for m in at.markdown)
    assert "quiz_seed" not in dict(at.query_params)


def test_new_set_changes_the_seed_in_the_url_and_starts_at_question_one() -> None:
    at = at_quiz({"quiz_seed": "7"})
    at.button(key="quiz_new_set").click().run()
    assert not at.exception
    seed = at.number_input(key="quiz_seed").value
    assert seed != 7  # a random seed in 0..1,000,000: 7 again once in a million
    assert dict(at.query_params).get("quiz_seed", "1") == str(seed)
    assert at.header[0].value == f"Question 1 of {quiz.SET_SIZE}"
    assert json.dumps(dict(at.query_params))  # plain strings only
