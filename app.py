"""LSTM Autoencoder Explorer: the page registry and the sidebar shared by every page."""

import streamlit as st

from lstmae_demo.ui.sidebar import sidebar
from lstmae_demo.ui.training import stop_if_changed

st.set_page_config(
    page_title="LSTM Autoencoder Explorer", page_icon=":material/repeat:", layout="wide"
)

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/architecture.py", title="Architecture", icon=":material/account_tree:"),
    st.Page("pages/train.py", title="Train", icon=":material/monitoring:"),
    st.Page("pages/timesteps.py", title="Time steps", icon=":material/timer:"),
]
page = st.navigation(pages)
config = sidebar()
stop_if_changed(config)
page.run()
