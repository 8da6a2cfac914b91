"""The Quiz page's widgets and state: the set (seed and level, in the URL), one question at a
time, the learner's prediction, Reveal, the running score and Next.

The questions come from `lstmae_demo.quiz`; this module only keeps where the learner is in a
set and what they got right, in the session, per set.
"""

from __future__ import annotations

import random

import streamlit as st

from .. import quiz
from ..chart_text import architecture_text
from ..plots import architecture_figure
from ..shapes.trace import trace
from . import pageurl
from .charts import chart

SEED_KEY, LEVEL_KEY = "quiz_seed", "quiz_level"
PROGRESS_KEY = "_quiz_progress"  # (seed, level) -> {"index": int, "results": {index: bool}}
DEFAULT_SEED = 1
LETTERS = tuple("ABCDEFGH")
LEVEL_WORDS = {"easy": "easy", "medium": "medium", "hard": "hard (type the counts)"}


def choose_set() -> tuple[int, str]:
    """The seed and level widgets, started from the URL (`quiz_seed`, `quiz_level`), and the
    "New set" button; returns the set chosen."""
    pageurl.from_url(SEED_KEY, pageurl.whole_number(0, quiz.MAX_SEED), DEFAULT_SEED, page="quiz")
    pageurl.from_url(LEVEL_KEY, pageurl.one_of(quiz.LEVELS), quiz.DEFAULT_LEVEL, page="quiz")
    level_col, seed_col, new_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    level = level_col.radio("Level", quiz.LEVELS, key=LEVEL_KEY, horizontal=True,
                            format_func=LEVEL_WORDS.get,
                            help="easy: shapes, codes and PyTorch counts, three choices; "
                                 "medium: both frameworks' counts and pitfalls, four choices; "
                                 "hard: larger and ReLU models, five choices, counts typed in")
    seed = seed_col.number_input("Question set (seed)", 0, quiz.MAX_SEED, step=1, key=SEED_KEY,
                                 help="the same set number and level give everyone the same "
                                      "questions: share this page's link with a class")
    new_col.button("New set", on_click=_new_set, key="quiz_new_set", width="stretch",
                   help="another set of questions at this level")
    pageurl.to_url(SEED_KEY, seed, DEFAULT_SEED)
    pageurl.to_url(LEVEL_KEY, level, quiz.DEFAULT_LEVEL)
    pageurl.show_notes()
    return int(seed), str(level)


def _new_set() -> None:
    st.session_state[SEED_KEY] = random.SystemRandom().randrange(quiz.MAX_SEED + 1)


def _progress(seed: int, level: str) -> dict:
    """Where the learner is in this set, and what they revealed (kept per set)."""
    every = st.session_state.setdefault(PROGRESS_KEY, {})
    return every.setdefault((seed, level), {"index": 0, "results": {}})


@st.cache_data(max_entries=256, show_spinner=False)
def _question(seed: int, level: str, index: int) -> quiz.Question:
    """One question (a pitfall question runs real code: kept for the next rerun)."""
    return quiz.question(seed, level, index)


def show_score(seed: int, level: str, where=st) -> None:
    """The running score of this set."""
    results = _progress(seed, level)["results"]
    right = sum(results.values())
    where.metric("Score", f"{right} / {len(results)}",
              help=f"right answers out of the questions revealed in this set of "
                   f"{quiz.SET_SIZE}")


def ask(seed: int, level: str) -> None:
    """The current question: prompt, the learner's prediction, Reveal, then the answer."""
    progress = _progress(seed, level)
    index = progress["index"]
    if index >= quiz.SET_SIZE:
        _finished(seed, level)
        return
    q = _question(seed, level, index)
    revealed = index in progress["results"]
    heading, score = st.columns([3, 1], vertical_alignment="bottom")
    heading.header(f"Question {index + 1} of {quiz.SET_SIZE}")
    show_score(seed, level, score)
    st.markdown(q.prompt)
    if q.code:
        st.code(q.code, language="python", line_numbers=True, wrap_lines=True)
    pick_key = _pick_key(seed, level, index)
    if q.entered:
        st.number_input("Your prediction", min_value=0, value=None, step=1, key=pick_key,
                        disabled=revealed, placeholder="a whole number")
    elif q.from_framework:  # a framework's messages: shown as text, picked by letter
        for letter, text in zip(LETTERS, q.choices, strict=False):
            st.text(f"{letter}.")
            st.code(text, language=None, wrap_lines=True)
        st.radio("Your prediction", LETTERS[: len(q.choices)], index=None, key=pick_key,
                 horizontal=True, disabled=revealed)
    else:
        st.radio("Your prediction", q.choices, index=None, key=pick_key, disabled=revealed)
    left, right, _ = st.columns([1, 1, 3])
    left.button("Reveal", type="primary", key=f"quiz_reveal_{index}", width="stretch",
                disabled=revealed or _prediction(q, st.session_state.get(pick_key)) is None,
                on_click=_judge, args=(seed, level, index))
    if not revealed:
        st.caption("Make your prediction, then press Reveal.")
        return
    right.button("Next question", key=f"quiz_next_{index}", width="stretch",
                 on_click=_next, args=(seed, level))
    _reveal(q, progress["results"][index])


def _pick_key(seed: int, level: str, index: int) -> str:
    return f"quiz_pick_{seed}_{level}_{index}"


def _prediction(q: quiz.Question, raw: object) -> object:
    """The learner's prediction: a number, a choice's text (from its letter), or None."""
    if raw is None or q.entered or not q.from_framework:
        return raw
    return q.choices[LETTERS.index(str(raw))]


def _judge(seed: int, level: str, index: int) -> None:
    """Reveal: score the prediction once."""
    q = _question(seed, level, index)
    prediction = _prediction(q, st.session_state.get(_pick_key(seed, level, index)))
    if prediction is not None:
        _progress(seed, level)["results"].setdefault(index, q.is_right(prediction))


def _next(seed: int, level: str) -> None:
    _progress(seed, level)["index"] += 1


def _reveal(q: quiz.Question, correct: bool) -> None:
    """Right or wrong, the answer (a framework's message as text), why, and the diagram."""
    if correct:
        st.success("Right.")
    else:
        st.error("Not quite. The answer:")
    if q.from_framework:
        st.code(q.answer, language=None, wrap_lines=True)
    elif not correct:
        st.text(q.answer)
    st.markdown(q.explanation)
    tr = trace(q.spec, q.batch)
    chart(architecture_figure(tr, highlight=q.highlight), architecture_text(tr),
          key=f"quiz_diagram_{q.index}", width="stretch", config={"displayModeBar": False})
    where = f"the dashed frame marks the {q.highlight}" if q.highlight else \
        f"the {q.spec.arch} architecture this pitfall belongs to, at its defaults"
    st.caption(f"{quiz.describe(q.spec)}: {where}. Blue decks: sequences; red bars: one "
               "vector (or state) per example; the thick arrow leaves the code.")


def _finished(seed: int, level: str) -> None:
    results = _progress(seed, level)["results"]
    show_score(seed, level)
    st.header("Set finished")
    st.markdown(f"You got **{sum(results.values())} of {len(results)}** right. Press "
                "*New set* for other questions, or start this set again.")
    st.button("Start this set again", key="quiz_again", on_click=_again, args=(seed, level))


def _again(seed: int, level: str) -> None:
    st.session_state[PROGRESS_KEY].pop((seed, level), None)
    for index in range(quiz.SET_SIZE):
        st.session_state.pop(_pick_key(seed, level, index), None)
