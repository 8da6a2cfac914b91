"""The app's pages, in sidebar order: the one list app.py, the links and the lessons read.

Plain data (no Streamlit), so the page list has one home: app.py turns each entry into an
st.Page, `live.app_base` strips a page's path off the browser's URL, and a lesson names the
page its link opens by the title the sidebar shows.
"""

from __future__ import annotations

from typing import NamedTuple


class PageEntry(NamedTuple):
    name: str  # pages/<name>/page.py, and the URL path (Home is served at "/")
    title: str  # as the sidebar and the lessons show it
    icon: str  # a Material icon Streamlit draws from its own bundled font


PAGES = (
    PageEntry("home", "Home", ":material/home:"),
    PageEntry("architecture", "Architecture", ":material/account_tree:"),
    PageEntry("train", "Train", ":material/monitoring:"),
    PageEntry("timesteps", "Time steps", ":material/timer:"),
    PageEntry("compare", "Compare", ":material/compare_arrows:"),
    PageEntry("latent", "Latent space", ":material/scatter_plot:"),
    PageEntry("anomalies", "Anomalies", ":material/troubleshoot:"),
    PageEntry("lessons", "Lessons", ":material/school:"),
    PageEntry("quiz", "Quiz", ":material/quiz:"),
)
HOME = PAGES[0].name
TITLES = {p.name: p.title for p in PAGES}
# The URL path of every page but the default one, which Streamlit serves at "/".
PAGE_PATHS = tuple(p.name for p in PAGES if p.name != HOME)


def script(name: str) -> str:
    """The page's script, relative to the repository root (where app.py is)."""
    return f"pages/{name}/page.py"
