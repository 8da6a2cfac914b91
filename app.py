"""LSTM Autoencoder Explorer: the navigation and the sidebar shared by every page.

Each page is `pages/<name>/page.py`, listed in lstmae_demo/ui/registry.py. One level down on
purpose: Streamlit 1.67 globs only `pages/*.py` for its old-style multipage mode (active until
the first st.navigation call), so scripts in subfolders keep the registry the one page list,
and a deep link to a sub-page on a fresh server still gets the sidebar (guarded by
tests/browser).
"""

from pathlib import Path

import streamlit as st

from lstmae_demo.ui import a11y, layout, pageurl, registry
from lstmae_demo.ui.sidebar import current, guard_widget_states, sidebar
from lstmae_demo.ui.training import follow_link, stop_if_changed
from lstmae_demo.ui.warmup import warm_up_process

# The tab icon is a file of ours: a Material icon name makes the browser fetch it from a font
# host on the internet, which fails in a classroom without one (a console error on every page).
ICON = Path(__file__).parent / "lstmae_demo" / "ui" / "assets" / "icon.png"
# The presentation view (?present=1) folds the sidebar away: lstmae_demo/ui/layout.py.
st.set_page_config(page_title="LSTM Autoencoder Explorer", page_icon=str(ICON), layout="wide",
                   **layout.page_config())
a11y.inject()  # the focus ring and readable caption links, on every page

# The default page is served at "/": Streamlit ignores a url_path given to it.
pages = [st.Page(registry.script(p.name), title=p.title, icon=p.icon,
                 **({"default": True} if p.name == registry.HOME else {"url_path": p.name}))
         for p in registry.PAGES]
warm_up_process()  # once per server process: see lstmae_demo/ui/warmup.py
guard_widget_states()  # once per process: a crafted widget state must not end a page
page = st.navigation(pages, position=layout.navigation_position())
pageurl.capture()  # a page's own URL values, before the sidebar rewrites the query
follow_link()  # ?run=<id>: attach to that run and take its settings, before the sidebar draws
stop_if_changed(current())  # before the sidebar writes the URL: a run let go leaves the URL
layout.switch()  # the presentation switch, the CSS for every size, the phone's hint
sidebar()
layout.keep_in_url()  # after the sidebar rewrote the query
page.run()
