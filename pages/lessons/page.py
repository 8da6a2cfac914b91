"""Lessons: a guided path through the app's question, a step at a time, each with its link."""

from lstmae_demo.ui.lessons import lesson_page
from lstmae_demo.ui.sidebar import show_url_notes

show_url_notes()
lesson_page()
