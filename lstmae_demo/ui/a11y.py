"""Accessibility the theme does not give: a visible focus ring on every focusable element,
and captions (and their links) dark enough to read. Injected once per page run from app.py."""

from __future__ import annotations

import re

import streamlit as st

FOCUS_COLOR = "#0b57d0"  # the theme's primary colour: 6.3:1 against white
CAPTION_COLOR = "#4d5156"  # 8:1 against white
# Streamlit draws some widgets' focus as a faint shadow or not at all (links, the sidebar
# navigation, expander headers, tabs, chart toolbars). :focus-visible shows the ring only for
# keyboard focus, so a mouse click leaves no ring behind.
CSS = f"""
<style>
:is(a, button, input, select, textarea, summary, [tabindex], [role=button], [role=tab],
    [role=link], [role=slider], [role=switch], [role=checkbox], [role=radio],
    [role=option], [contenteditable]):focus-visible {{
  outline: 3px solid {FOCUS_COLOR} !important;
  outline-offset: 2px !important;
  box-shadow: 0 0 0 5px #ffffff !important;
}}
/* Streamlit fades a caption with opacity 0.6, which takes a link in it from the theme's 6.3:1
   to 2.8:1 (axe: color-contrast). A solid grey instead: the same quieter look, 8:1. */
[data-testid=stCaptionContainer] {{ opacity: 1 !important; color: {CAPTION_COLOR} !important; }}
[data-testid=stCaptionContainer] a {{ color: {FOCUS_COLOR} !important; }}
/* A code box wider than the screen (a phone, a projector's narrow column) scrolls sideways in
   a pre element a keyboard cannot focus, so its right end could not be read (axe:
   scrollable-region-focusable). Long lines wrap instead; the copy button copies them whole. */
[data-testid=stCode] pre, [data-testid=stCode] pre code {{
  white-space: pre-wrap !important;
  overflow-wrap: anywhere;
}}
</style>
"""


def inject() -> None:
    """Add the stylesheet to this page run (st.html of a lone style element draws nothing).

    The sanitiser st.html passes it through drops a style element whose text holds anything
    like a tag, so the CSS's comments must not quote one.
    """
    if re.search(r"<[/\w]", CSS.removeprefix("\n<style>").removesuffix("</style>\n")):
        raise ValueError("the focus CSS quotes a tag: the browser would drop all of it")
    st.html(CSS)
