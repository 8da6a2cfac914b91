"""LSTM Autoencoder Explorer: the page registry and the sidebar shared by every page.

The page scripts live in app_pages/, not pages/: Streamlit 1.67 treats a folder named pages/
next to the entry script as an old-style multipage app until the first st.navigation call,
so a fresh server whose first visitor opens a shared link to a sub-page would run that page
alone, without this sidebar (seen in a browser, and in every AppTest run).
"""

import streamlit as st

from lstmae_demo.ui.sidebar import sidebar
from lstmae_demo.ui.training import stop_if_changed
from lstmae_demo.ui.warmup import warm_up_process

st.set_page_config(
    page_title="LSTM Autoencoder Explorer", page_icon=":material/repeat:", layout="wide"
)

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/architecture.py", title="Architecture", icon=":material/account_tree:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/monitoring:"),
    st.Page("app_pages/timesteps.py", title="Time steps", icon=":material/timer:"),
]
warm_up_process()  # once per server process: see lstmae_demo/ui/warmup.py
page = st.navigation(pages)
config = sidebar()
stop_if_changed(config)
page.run()
