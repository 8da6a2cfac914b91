"""Start the web app: `python -m lstmae_demo.ui.serve app.py [streamlit run options]`.

The same as `streamlit run`, with one thing settled before the first visitor arrives.
Streamlit 1.67 decides once per process, when the first session starts, whether the app is an
old-style multipage app: it is if a folder named `pages/` sits beside the entry script, until
some session calls `st.navigation`. Our page scripts live in `pages/<name>/page.py` (one level
down, so Streamlit's old glob of `pages/*.py` finds none), yet on a fresh server the first
visitor who opens a deep link such as `/train?units=48` still got a "Page not found" dialog
over the right page (seen in Chromium; later visitors did not). Marking the process as a
`st.navigation` app before serving makes every visitor's first run resolve its page through
app.py's `st.navigation`, the one page registry.
"""

from __future__ import annotations

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


def main(argv: list[str]) -> int:
    """Run `streamlit run` with these arguments in this process."""
    PagesManager.uses_pages_directory = False  # what st.navigation itself sets on first call
    sys.argv = ["streamlit", "run", *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
