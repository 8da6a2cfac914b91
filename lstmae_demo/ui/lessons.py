"""The Lessons page: one step of `lessons.STEPS` at a time, its links, its question.

The step is in the URL (`lesson_step`, through pageurl), so "step 3" is a link. Each step's
own link is shown as text to copy, as a button that opens it in a new tab (a fresh session
reads the whole link, exactly as a student's browser does), and as a button that opens the
page here with the step's settings (this session's sidebar takes them, as a link would).
"""

from __future__ import annotations

import streamlit as st

from .. import lessons
from ..lessons import PAGE_VALUES, PARAM, STEPS, Question, Step
from ..settings import parse_params
from . import pageurl, registry
from .live import app_base
from .sidebar import choose

REVEALED_KEY = "_lesson_revealed"  # the step numbers whose answers this session has revealed


@st.cache_data(show_spinner=False, max_entries=len(STEPS))
def _question(number: int) -> Question:
    """Step `number`'s question (a trace, or a forward pass of a small model: once a process)."""
    return lessons.NUMBERS[number].ask()


def _move(by: int) -> None:
    st.session_state[PARAM] = min(max(st.session_state[PARAM] + by, 1), len(STEPS))


def open_here(step: Step) -> None:
    """Open the step's page in this session with exactly what its link holds: the sidebar's
    knobs (read as the sidebar reads a link) and the page's own values (the others at their
    defaults)."""
    params = lessons.step_params(step)
    values, _ = parse_params(params)  # step_params has checked every value
    choose(**values)
    # The page reads the link's values again; one the link does not set starts at default.
    pageurl.forget(step.page, PAGE_VALUES.get(step.page, ()))
    st.switch_page(registry.script(step.page), query_params=params)


def _navigation(number: int) -> int:
    left, middle, right = st.columns([1, 4, 1], vertical_alignment="bottom")
    left.button("Previous", key="lesson_previous", on_click=_move, args=(-1,),
                disabled=number == 1, icon=":material/arrow_back:", width="stretch")
    right.button("Next", key="lesson_next", on_click=_move, args=(1,),
                 disabled=number == len(STEPS), icon=":material/arrow_forward:",
                 width="stretch")
    chosen = middle.selectbox("Step", tuple(lessons.NUMBERS), key=PARAM,
                              format_func=lambda n: f"{n}. {lessons.NUMBERS[n].title}")
    pageurl.to_url(PARAM, chosen, 1)
    return chosen


def _links(number: int, step: Step) -> None:
    base = app_base()
    url = lessons.step_url(step, base)
    title = registry.TITLES[step.page]
    with st.container(border=True):
        st.markdown(f"**Open {title}** with this step's settings")
        if step.look_for:
            st.caption(f"Look for: {step.look_for}.")
        here, tab = st.columns(2)
        if here.button(f"Open {title} here", key=f"lesson_open_{number}",
                       icon=":material/open_in_browser:", type="primary", width="stretch",
                       help="your sidebar takes this step's settings"):
            open_here(step)
        tab.link_button(f"Open {title} in a new tab", url, icon=":material/open_in_new:",
                        width="stretch", help="exactly what a student's browser opens")
        st.caption("This step's link, to copy (the settings; the page opens with them):")
        st.code(url, language=None, wrap_lines=True)
        st.caption("This step of the lesson itself:")
        st.code(lessons.lesson_url(number, base), language=None, wrap_lines=True)


def _ask(number: int) -> None:
    question = _question(number)
    revealed = st.session_state.setdefault(REVEALED_KEY, set())
    key = f"lesson_answer_{number}"
    # The prediction is kept like the step while the learner visits the page a step opens
    # (Streamlit drops a widget's state when its page is not drawn).
    pageurl.restore(key)
    with st.container(border=True):
        st.subheader("Predict, then reveal")
        picked = st.radio(question.prompt, question.choices, index=None, key=key,
                          disabled=number in revealed)
        pageurl.keep(key, picked, None)
        if number not in revealed:
            if st.button("Reveal the answer", key=f"lesson_reveal_{number}",
                         icon=":material/visibility:"):
                revealed.add(number)
                st.rerun()
            return
        if picked is None:
            st.info(f"The answer: {question.answer}", icon=":material/lightbulb:")
        elif picked == question.answer:
            st.success(f"Right: {question.answer}", icon=":material/check_circle:")
        else:
            st.error(f"Not quite: the answer is {question.answer}", icon=":material/cancel:")
        st.markdown(question.explanation)
        if st.button("Hide the answer and try again", key=f"lesson_hide_{number}"):
            revealed.discard(number)
            pageurl.keep(key, None, None)
            st.session_state.pop(key, None)
            st.rerun()


def lesson_page() -> None:
    """Draw the Lessons page at the URL's (or the learner's) step."""
    st.title("Lessons")
    st.caption("Are the four LSTM autoencoders all valid, and what is the bottleneck in "
               f"each? {len(STEPS)} short steps: read, open the page, predict, then reveal.")
    pageurl.from_url(PARAM, pageurl.whole_number(1, len(STEPS)), 1, page="lessons")
    pageurl.show_notes()
    number = _navigation(st.session_state[PARAM])
    step = lessons.NUMBERS[number]
    st.header(f"Step {number} of {len(STEPS)}: {step.title}")
    st.markdown(step.text)
    _links(number, step)
    _ask(number)
