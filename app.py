"""LSTM Autoencoder Explorer: placeholder entry point until the real app lands."""

import streamlit as st

st.set_page_config(page_title="LSTM Autoencoder Explorer", layout="wide")
st.title("LSTM Autoencoder Explorer")
st.write("Build an LSTM autoencoder, watch it learn to reconstruct a time series, and see why.")
