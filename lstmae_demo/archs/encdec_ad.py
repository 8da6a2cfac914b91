"""`encdec_ad`: Malhotra et al. 2016, "LSTM-based Encoder-Decoder for Multi-sensor Anomaly
Detection" (EncDec-AD).

The encoder LSTM reads x(1..L); its final state becomes the decoder's initial state, and the
decoder rebuilds the series in reverse: x'(L) = w^T h_D(L) + b first, then each step back.
Two choices are shown, not assumed: what is handed over (`handoff`: h only, as the paper
writes it, with the decoder's cell state starting at zero; or (h, c), as implementations
usually do) and what the decoder is fed (`decoder`: the previous value, "conditional", or
nothing, "unconditioned"; Srivastava et al. 2015 name the two).
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn import LSTMLayer, ReverseDecoder
from ..shapes import keras_rows as kr
from ..shapes.records import (
    BATCH,
    FEATURES,
    SEQ,
    UNITS,
    Code,
    LayerRecord,
    code_of,
    input_record,
    keras_act,
    linear_record,
    lstm_params_keras,
    lstm_params_torch,
    lstm_record,
    torch_lstm,
)
from ..spec import ModelSpec
from .base import Arch, Autoencoder

HANDOFF_RETURNS = {"h": "h_state", "hc": "state"}


class EncDecAD(Autoencoder):
    """Encoder state -> decoder initial state; the decoder reconstructs in reverse."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        f, u, act = spec.n_features, spec.units, spec.activation
        self.encoder = LSTMLayer(f, u, act, returns=HANDOFF_RETURNS[spec.handoff])
        self.decoder = ReverseDecoder(f, u, act, conditional=spec.decoder == "conditional")
        self.head = nn.Linear(u, f)  # x'(i) = w^T h_D(i) + b

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """What is handed over: h (B, U), or h and c (B, 2U)."""
        h, c = self.encoder(x)  # (1, B, U) each; c is zeros when only h is handed over
        if self.spec.handoff == "h":
            return h[-1]
        return torch.cat([h[-1], c[-1]], dim=1)

    @staticmethod
    def code_parts(spec: ModelSpec) -> tuple[tuple[str, int], ...]:
        u = spec.units
        return (("h_E(L)", u),) + ((("c_E(L)", u),) if spec.handoff == "hc" else ())

    def code_output(self, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = self.spec.units
        h = codes[:, :u].unsqueeze(0)  # (1, B, U)
        c = codes[:, u:].unsqueeze(0) if self.spec.handoff == "hc" else torch.zeros_like(h)
        return h, c  # the decoder's initial state; with h only, its c starts at zero

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.encoder(x)  # the decoder's initial (h, c), each (1, B, U)
        return self.head(self.decoder(x, state, self.head))  # (B, T, U) -> (B, T, F)


def layers(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], Code]:
    """The trace's rows and the code."""
    t, f, u = spec.seq_len, spec.n_features, spec.units
    conditional = spec.decoder == "conditional"
    fed = ("x(i) in training (teacher forcing), x'(i) at inference" if conditional
           else "nothing (zeros)")
    keras_in = "x reversed, without x(1)" if conditional else "zeros"
    start = "[h, c]" if spec.handoff == "hc" else "[h, zeros]"
    encoder = lstm_record(
        spec, b, name="encoder LSTM", module="encoder", input_size=f, units=u,
        returns=HANDOFF_RETURNS[spec.handoff], role="latent",
        what=("Only the final state (h_E, c_E) is kept: it becomes the decoder's initial state."
              if spec.handoff == "hc" else
              "Only the final hidden state h_E(L) is kept: it becomes the decoder's initial "
              "hidden state (its cell state starts at zero, as in the paper).")
        + " No output is passed on.")
    decoder = LayerRecord(
        name="decoder LSTM", kind="LSTM", module="decoder", role="decoder", passes="reversed",
        keras=f"LSTM({u}{keras_act(spec)}, return_sequences=True)({keras_in}, "
              f"initial_state={start})",
        torch=f"{torch_lstm(spec, f, u)}, started from the hand-off, run backwards",
        # Keras's LSTM layer runs the T-1 steps after h_D(L); the module here returns all T.
        output_shape=(b, t, u), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t - 1, u),
        params_torch=lstm_params_torch(f, u), params_keras=lstm_params_keras(f, u),
        numbers_per_example=t * u, full_output_shape=(b, t - 1, u), h_n=(1, b, u),
        c_n=(1, b, u),
        what=f"Starts from the encoder's state: h_D(L) = h_E(L) gives x'(L) first, then each "
             f"step back in time is fed {fed}.",
    )
    rows = [
        input_record(spec, b), encoder, decoder,
        linear_record(b, t, u, f, FEATURES, "x'(i) = w^T h_D(i) + b at every step.",
                      keras=f"Dense({f})"),
    ]
    where = ("the encoder's final hidden state h_E(L)" if spec.handoff == "h"
             else "the encoder's final state (h_E(L), c_E(L)), each")
    return rows, code_of(encoder, where)


def validity(spec: ModelSpec) -> str:
    """Valid, what is handed over, and what the decoder is fed."""
    handed = ("the encoder's final hidden state h_E(L) becomes the decoder's initial hidden "
              "state, as the paper writes it (the decoder's cell state starts at zero)"
              if spec.handoff == "h" else
              "the encoder's final state (h, c) becomes the decoder's initial state, as "
              "implementations usually hand it over (the paper writes h only)")
    fed = (" While training, this conditional decoder is fed the true previous values "
           "(teacher forcing), so the hand-off is the only path from input to output only at "
           "inference, when it is fed its own predictions; that is also why its validation "
           "loss (free-running) sits above its training loss."
           if spec.decoder == "conditional" else
           " This unconditioned decoder is fed nothing, so the hand-off is the only path from "
           "input to output, in training as at inference.")
    return (f"Valid: {handed}; the series is rebuilt backwards, x'(L) first, and the paper then "
            "scores anomalies by how badly each step is reconstructed." + fed)


def keras_rows(spec: ModelSpec) -> list[kr.KerasRow]:
    """The rows Keras's summary() prints for the exported Keras model."""
    t, f, u = spec.seq_len, spec.n_features, spec.units
    rows = [
        kr.input_row(spec),
        kr.lstm("encoder_lstm", f, u, (None, u), (None, u), (None, u)),  # [output, h, c]
    ]
    if spec.decoder == "conditional":
        rows.append(kr.extra("reversed_inputs", "Lambda", (None, t - 1, f),
                             "Teacher forcing: the decoder is fed x(L), ..., x(2), backwards."))
    else:
        rows.append(kr.extra("zero_inputs", "Lambda", (None, t - 1, f),
                             "The unconditioned decoder is fed nothing: T-1 steps of zeros."))
    if spec.handoff == "h":
        rows.append(kr.extra("zero_cell_state", "Lambda", (None, u),
                             "Only h is handed over: the decoder's cell state starts at zero."))
    return rows + [
        kr.extra("h_d_last", "Reshape", (None, 1, u),
                 "h_D(L) = h_E(L), the decoder's first state, as one time step."),
        kr.lstm("decoder_lstm", f, u, (None, t - 1, u)),
        kr.extra("decoder_states", "Concatenate", (None, t, u),
                 "h_D(L) before the LSTM's T-1 steps h_D(L-1) ... h_D(1)."),
        kr.extra("time_order", "Lambda", (None, t, u),
                 "Flipped back into time order: h_D(1) ... h_D(L)."),
        kr.head(spec, u, f, "Dense"),
    ]


ARCH = Arch(
    name="encdec_ad",
    title="Malhotra et al. 2016 (EncDec-AD): state hand-off, reversed decoding",
    source="P. Malhotra et al., 'LSTM-based Encoder-Decoder for Multi-sensor Anomaly "
           "Detection', ICML Anomaly Detection Workshop 2016, arXiv 1607.00148",
    source_url="https://arxiv.org/abs/1607.00148",
    keras_rows=keras_rows, model=EncDecAD, layers=layers, validity=validity,
    pitfalls=("batch_first_forgotten", "state_shape", "state_batch_first",
              "h_n_not_batch_first"),
    code_class="EncDecAD",
)
