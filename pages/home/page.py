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

**The question.** Models called "LSTM autoencoders" online look nothing alike. A Keras tutorial
keeps only the encoder's last output and repeats it (RepeatVector + TimeDistributed Dense). A
PyTorch tutorial takes the second encoder LSTM's final hidden state `h_n`. An
`EncoderLSTM(input_size, hidden_size, n_layers, drop_prob)` with an Embedding comes from
attention-based seq2seq tutorials, which translate sentences rather than rebuild them: whether
it has a bottleneck depends on what its decoder reads, the final state only (like the plain
`DecoderRNN` of the PyTorch seq2seq translation tutorial, a GRU model), every output through
attention (its `AttnDecoderRNN`) or every output step by step (a construction of this app).
A paper (Malhotra et al. 2016, EncDec-AD) hands the encoder's final hidden state to a decoder
that rebuilds the series backwards. *Are they all valid? Where is the bottleneck in each?* The cards
below answer it for the settings in the sidebar, the choices included; each button opens that
model layer by layer.
"""
)
architecture_overview(current())
