"""The page's layout at phone, projector and desktop sizes, and the presentation view.

`?present=1` in a link opens the presentation view (for a projector): larger text, the
sidebar folded away and the page links on a bar at the top, so the Architecture page's
verdict and whole diagram fit one 1280x720 screen (tests/browser/test_layout.py). The value
is checked on the server (1 or 0; anything else opens the normal view with a note saying what
was wrong, shown as text) and kept in the session, so it survives moving between pages like
the sidebar's settings; a switch at the top of the sidebar turns it on and off.

app.py calls `page_config()` in st.set_page_config (the sidebar's starting state depends
on the view), `navigation_position()` in st.navigation, `switch()` before the sidebar draws
its settings, and `keep_in_url()` after the sidebar has rewritten the query. Pages ask
`presenting()` to leave out fine print.
"""

from __future__ import annotations

import streamlit as st

from ..settings import shown

PRESENT = "present"  # the URL's name
STATE_KEY = "_present"  # this session's choice: the one source of truth (not a widget's)
SWITCH_KEY = "present_switch"  # the switch's widget key
NOTE_KEY = "_present_note"  # what was wrong with the link's value (plain text)
SEEN_KEY = "_present_seen"  # the link's value has been read (once per session)
PHONE_MAX_PX = 640  # Streamlit folds the sidebar away below this width

# Shared by every page. Plain CSS of our own: no text from a link or a file goes in here.
BASE_CSS = f"""
/* Less empty space above the title, so the first figure comes higher up the screen. */
[data-testid=stMainBlockContainer] {{ padding: 3.5rem 3rem 6rem; }}
/* Titles: one size that scales with the window, at most two lines at 1280 px; whole words
   only ("TimeDistributed(Dense)" never breaks in the middle). */
[data-testid=stMain] h1 {{
  font-size: clamp(1.55rem, 0.9rem + 1.6vw, 2.4rem); line-height: 1.2; }}
[data-testid=stMain] :is(h1, h2, h3, h4, h5) {{
  overflow-wrap: normal; word-break: normal; hyphens: manual; }}
[data-testid=stMain] h1 code {{ font-size: 0.9em; }}
[data-testid=stMain] h2 {{ font-size: clamp(1.35rem, 0.9rem + 1vw, 2rem); }}
/* Plotly's tool bar shows only while a pointer is over its chart. A touch screen has no
   hover: a tap would leave it over the chart's title and legend, so it is not shown there
   (a double tap still resets a zoomed chart). */
[data-testid=stPlotlyChart] .modebar-container {{ opacity: 0; transition: opacity 0.2s; }}
[data-testid=stPlotlyChart]:hover .modebar-container {{ opacity: 1; }}
@media (hover: none) {{
  [data-testid=stPlotlyChart] .modebar-container {{ display: none; }}
}}
/* The architecture diagram needs this much room for its labels to stay apart
   (views.diagram sets it); a narrower space scrolls it sideways, and its hint shows (a
   container query, views.diagram) and stays in view while it scrolls. */
.st-key-diagram_box {{ overflow-x: auto; container: diagram / inline-size; }}
.st-key-diagram_box .st-key-arch_diagram {{ min-width: var(--diagram-min, 760px); }}
[data-testid=stLayoutWrapper]:has(> .st-key-diagram_scroll_hint) {{
  display: none; position: sticky; left: 0; }}
/* The layer table's Keras and PyTorch lines wrap anywhere, so the table fits a phone's width
   (a table wider than its box would scroll sideways where no keyboard can reach it). */
.st-key-layer_code table {{ table-layout: fixed; width: 100%; }}
.st-key-layer_code td, .st-key-layer_code th, .st-key-layer_code code {{
  overflow-wrap: anywhere; word-break: break-word; white-space: normal; }}
/* The hint that the settings are behind the menu: on a phone only. */
[data-testid=stLayoutWrapper]:has(> .st-key-phone_hint) {{ display: none; }}
@media (max-width: {PHONE_MAX_PX}px) {{
  [data-testid=stLayoutWrapper]:has(> .st-key-phone_hint) {{ display: flex; }}
  [data-testid=stMainBlockContainer] {{ padding: 4.25rem 1rem 4rem; }}
}}
"""

# The presentation view: larger text everywhere (Streamlit sizes its text in rem), the
# sidebar folded away (its button stays at the top left).
PRESENT_CSS = """
html { font-size: 20px; }
[data-testid=stMainBlockContainer] { padding-top: 4rem; padding-left: 1.5rem;
  padding-right: 1.5rem; max-width: none; }
[data-testid=stMain] h1 { font-size: clamp(1.5rem, 0.8rem + 1.4vw, 2.2rem); }
"""


def parse_present(raw: str) -> bool:
    """The link's `present` value: 1 (the presentation view) or 0; ValueError otherwise."""
    text = str(raw).strip()
    if text not in ("0", "1"):
        raise ValueError("must be 1 (the presentation view) or 0")
    return text == "1"


def presenting() -> bool:
    """Whether this session shows the presentation view (the link's value, read once)."""
    state = st.session_state
    if SEEN_KEY not in state:
        state[SEEN_KEY] = True
        raw = st.query_params.get(PRESENT)
        state[STATE_KEY] = False
        if raw is not None:
            try:
                state[STATE_KEY] = parse_present(raw)
            except ValueError as err:
                state[NOTE_KEY] = f"{PRESENT}={shown(raw)} in the link was not used: {err}"
    return bool(state[STATE_KEY])


def _switched() -> None:
    st.session_state[STATE_KEY] = bool(st.session_state.get(SWITCH_KEY))


def switch() -> None:
    """The presentation switch at the top of the sidebar, the page's CSS, and the hints."""
    present = presenting()
    st.session_state[SWITCH_KEY] = present  # the session's value, whatever the widget kept
    st.sidebar.toggle("Presentation view", key=SWITCH_KEY, on_change=_switched,
                      help="For a projector: larger text, the sidebar folded away, the page "
                      "links at the top. Kept in the link as present=1.")
    st.html(f"<style>{BASE_CSS}{PRESENT_CSS if present else ''}</style>")
    if note := st.session_state.pop(NOTE_KEY, None):
        st.warning("A value in the link was not used:")
        st.text(note)  # it quotes the link: text, never Markdown
    with st.container(key="phone_hint"):  # shown on a phone only (BASE_CSS)
        st.caption("Settings and the presentation switch: open the sidebar with » at the "
                   "top left.")


def keep_in_url() -> None:
    """Put present=1 in the URL (after the sidebar has rewritten it), or leave it out."""
    if presenting():
        st.query_params[PRESENT] = "1"
    else:
        st.query_params.pop(PRESENT, None)


def page_config() -> dict:
    """The parts of st.set_page_config that depend on the view."""
    return dict(initial_sidebar_state="collapsed" if presenting() else "auto")


def navigation_position() -> str:
    """Where the page links go: the sidebar, or a bar at the top in the presentation view."""
    return "top" if presenting() else "sidebar"
