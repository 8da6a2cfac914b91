"""`repeatvector`: Brownlee's Keras LSTM autoencoder.

LSTM (last output only: the code) -> RepeatVector(T) -> LSTM(return_sequences=True) ->
TimeDistributed(Dense(F)).
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


class RepeatVectorAE(Autoencoder):
    """LSTM (last output) -> RepeatVector -> LSTM -> Dense per step."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        t, f, u, act = spec.seq_len, spec.n_features, spec.units, spec.activation
        self.encoder = LSTMLayer(f, u, act, returns="last")
        self.repeat = RepeatVector(t)
        self.decoder = LSTMLayer(u, u, act, returns="sequence")
        self.head = nn.Linear(u, f)  # Keras TimeDistributed(Dense(F)): same weights every step

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, T, F) -> (B, U)

    @staticmethod
    def code_parts(spec: ModelSpec) -> tuple[tuple[str, int], ...]:
        return (("last output of the encoder LSTM", spec.units),)

    def code_output(self, codes: torch.Tensor) -> torch.Tensor:
        return codes  # (B, U), as the encoder LSTM returns it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)  # (B, U): the bottleneck
        return self.head(self.decoder(self.repeat(z)))  # (B, T, U) -> (B, T, F)


def layers(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], Code]:
    """The trace's rows and the code."""
    t, f, u = spec.seq_len, spec.n_features, spec.units
    encoder = lstm_record(
        spec, b, name="encoder LSTM", module="encoder", input_size=f, units=u, returns="last",
        role="latent",
        what=f"Reads all steps; return_sequences=False keeps only the last step's output and "
             f"throws the other {t - 1} away. This vector is the code.")
    rows = [
        input_record(spec, b), encoder, repeat_record(spec, b, u),
        lstm_record(spec, b, name="decoder LSTM", module="decoder", input_size=u, units=u,
                    returns="sequence", role="decoder",
                    what="return_sequences=True: one output per step, (batch, seq, units)."),
        linear_record(b, t, u, f, FEATURES,
                      "TimeDistributed applies the same Dense to each step: units -> features."),
    ]
    return rows, code_of(encoder, "the encoder LSTM's last output")


def validity(spec: ModelSpec) -> str:
    """Valid, and why."""
    return ("Valid: a real encoder-decoder. Keras's LSTM without return_sequences keeps only the "
            "last step's output; RepeatVector hands that one vector to every decoder step, so "
            "the decoder must rebuild the series from it alone.")


def keras_rows(spec: ModelSpec) -> list[kr.KerasRow]:
    """The rows Keras's summary() prints for the exported Keras model."""
    t, f, u = spec.seq_len, spec.n_features, spec.units
    return [
        kr.input_row(spec),
        kr.lstm("encoder_lstm", f, u, (None, u)),
        kr.record("repeatvector", "RepeatVector", (None, t, u)),
        kr.lstm("decoder_lstm", u, u, (None, t, u)),
        kr.head(spec, u, f, "TimeDistributed"),
    ]


ARCH = Arch(
    name="repeatvector",
    title="Keras: last output + RepeatVector + TimeDistributed(Dense)",
    source="J. Brownlee, 'A Gentle Introduction to LSTM Autoencoders', Machine Learning "
           "Mastery, 2018 (Keras)",
    source_url="https://machinelearningmastery.com/lstm-autoencoders/",
    keras_rows=keras_rows, model=RepeatVectorAE, layers=layers, validity=validity,
    pitfalls=("keras_activation_kwarg", "missing_return_sequences", "torch_last_step_only",
              "relu_lstm_diverges"),
    code_class="RepeatVectorAutoencoder",
    published=ModelSpec(arch="repeatvector", seq_len=9, n_features=1, units=100,
                        activation="relu"),
)
