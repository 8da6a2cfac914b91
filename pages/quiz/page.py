"""Quiz: predict a shape, a count, the code or an error, then reveal the answer and why."""

import streamlit as st

from lstmae_demo.ui import quiz
from lstmae_demo.ui.sidebar import show_url_notes

show_url_notes()
st.title("Quiz")
st.caption("Predict, then reveal. Every question is about a random valid configuration of one "
           "of the four architectures (not the sidebar's), and every answer comes from the "
           "shape tracer, the parameter counts or the pitfall code run for real. The same set "
           "number and level give the same questions: share this page's link with a class.")
seed, level = quiz.choose_set()
quiz.ask(seed, level)
