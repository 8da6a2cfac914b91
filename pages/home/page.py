"""Home: what an LSTM autoencoder is, the question this app answers, a way into each model."""

import streamlit as st

from lstmae_demo.ui.sidebar import current, show_url_notes
from lstmae_demo.ui.views import architecture_overview

show_url_notes()
st.title("LSTM Autoencoder Explorer")
st.markdown(
    """
An **autoencoder** learns to copy its input through a narrow middle: an *encoder* squeezes a
series into a small **code** (the latent), a *decoder* rebuilds the series from it, and the loss
compares the two. If the code is smaller than the input, the model has to learn what matters.
An **LSTM** autoencoder does this for sequences: the LSTM reads one time step after another.

**The question.** Three tutorials show "LSTM autoencoders" that look nothing alike: a Keras one
that keeps only the last output and repeats it (RepeatVector + TimeDistributed Dense), a PyTorch
one with an Embedding that passes on every output, and a PyTorch one that takes the second LSTM's
final hidden state `h_n`. A paper (Malhotra et al. 2016, EncDec-AD) does it a fourth way.
*Are they all valid? Where is the bottleneck in each?* The table below answers it for the
settings in the sidebar; each button opens that model layer by layer.
"""
)
architecture_overview(current())
