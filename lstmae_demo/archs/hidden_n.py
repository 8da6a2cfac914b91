"""`hidden_n`: the ECG5000 tutorial's RecurrentAutoencoder, fixed for any batch and feature count.

Encoder LSTM(F -> 2E) -> LSTM(2E -> E), code = the second LSTM's h_n; decoder: repeat the code
T times -> LSTM(E -> E) -> LSTM(E -> 2E) -> Linear(2E -> F).
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn import LSTMLayer, RepeatVector
from ..shapes import keras_rows as kr
from ..shapes.records import (
    FEATURES,
    Code,
    LayerRecord,
    code_of,
    input_record,
    linear_record,
    lstm_record,
    repeat_record,
)
from ..spec import ModelSpec
from .base import Arch, Autoencoder


class HiddenNAE(Autoencoder):
    """Two encoder LSTMs, the code is h_n of the second; two decoder LSTMs and a Linear."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        t, f, e, act = spec.seq_len, spec.n_features, spec.units, spec.activation
        self.enc1 = LSTMLayer(f, 2 * e, act, returns="sequence")
        self.enc2 = LSTMLayer(2 * e, e, act, returns="h_n")
        self.repeat = RepeatVector(t)
        self.dec1 = LSTMLayer(e, e, act, returns="sequence")
        self.dec2 = LSTMLayer(e, 2 * e, act, returns="sequence")
        self.head = nn.Linear(2 * e, f)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc2(self.enc1(x))  # (B, E): h_n[-1] of the second LSTM

    @staticmethod
    def code_parts(spec: ModelSpec) -> tuple[tuple[str, int], ...]:
        return (("h_n of the second encoder LSTM", spec.units),)

    def code_output(self, codes: torch.Tensor) -> torch.Tensor:
        return codes  # (B, E), as the second encoder LSTM returns it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encode(x)  # (B, E)
        y = self.dec2(self.dec1(self.repeat(z)))  # (B, T, E) -> (B, T, 2E)
        return self.head(y)  # (B, T, F)


def layers(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], Code]:
    """The trace's rows and the code."""
    t, f, e = spec.seq_len, spec.n_features, spec.units
    enc2 = lstm_record(
        spec, b, name="encoder LSTM 2", module="enc2", input_size=2 * e, units=e,
        returns="h_n", role="latent",
        what="rnn2: its final hidden state h_n is the code. h_n is (layers, batch, units) even "
             "with batch_first=True; h_n[-1] equals output[:, -1].")
    rows = [
        input_record(spec, b),
        lstm_record(spec, b, name="encoder LSTM 1", module="enc1", input_size=f, units=2 * e,
                    returns="sequence", role="encoder",
                    what=f"rnn1: one output of 2E = {2 * e} units per step."),
        enc2,
        repeat_record(spec, b, e),
        lstm_record(spec, b, name="decoder LSTM 1", module="dec1", input_size=e, units=e,
                    returns="sequence", role="decoder", what="E -> E units at every step."),
        lstm_record(spec, b, name="decoder LSTM 2", module="dec2", input_size=e, units=2 * e,
                    returns="sequence", role="decoder",
                    what=f"E -> 2E = {2 * e} units per step."),
        linear_record(b, t, 2 * e, f, FEATURES, "nn.Linear on the last axis maps 2E -> "
                      "features at every step (Keras would wrap it in TimeDistributed)."),
    ]
    return rows, code_of(enc2, "h_n[-1] of the second encoder LSTM")


def validity(spec: ModelSpec) -> str:
    """Valid once fixed, and why."""
    return ("Valid once fixed: the published code's reshapes assume batch size 1 and one "
            "feature; written with h_n[-1] it works for any batch and any number of features.")


def keras_rows(spec: ModelSpec) -> list[kr.KerasRow]:
    """The rows Keras's summary() prints for the exported Keras model."""
    t, f, e = spec.seq_len, spec.n_features, spec.units
    return [
        kr.input_row(spec),
        kr.lstm("encoder_lstm_1", f, 2 * e, (None, t, 2 * e)),
        kr.lstm("encoder_lstm_2", 2 * e, e, (None, e)),
        kr.record("repeatvector", "RepeatVector", (None, t, e)),
        kr.lstm("decoder_lstm_1", e, e, (None, t, e)),
        kr.lstm("decoder_lstm_2", e, 2 * e, (None, t, 2 * e)),
        kr.head(spec, 2 * e, f, "TimeDistributed"),
    ]


ARCH = Arch(
    name="hidden_n",
    title="PyTorch: two LSTMs, the code is the final hidden state h_n",
    source="V. Valkov, 'Time Series Anomaly Detection using LSTM Autoencoders with PyTorch in "
           "Python' (ECG5000), 2020",
    source_url="https://curiousily.com/posts/time-series-anomaly-detection-using-lstm-"
               "autoencoder-with-pytorch-in-python/",
    keras_rows=keras_rows, model=HiddenNAE, layers=layers, validity=validity,
    pitfalls=("ecg_batch_reshape", "ecg_features_reshape", "h_n_not_batch_first",
              "ecg_decoder_repeat"),
    code_class="RecurrentAutoencoder",  # the tutorial's own class name
    published=ModelSpec(arch="hidden_n", seq_len=140, n_features=1, units=128),
)
