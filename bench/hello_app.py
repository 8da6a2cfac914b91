"""The smallest Streamlit app: the reference for the app's cold start (bench/webapp.py)."""

import streamlit as st

st.write("hello")
