"""`embedding`: an Embedding -> LSTM encoder on a quantised signal, with a choice of what the
decoder reads, which decides whether there is a bottleneck at all.

The encoder, `EncoderLSTM(input_size, hidden_size, n_layers, drop_prob)` of the learner's
question, is nn.Embedding(vocab, H) -> nn.LSTM(H, H) returning every output and the final
(h, c). It comes from attention-based seq2seq tutorials. `reads` says what the decoder reads:

- "state":     only the encoder's final state (h_n, c_n): the "context vector" of the PyTorch
               seq2seq tutorial's plain DecoderRNN, a real bottleneck;
- "attention": every encoder output through dot-product attention, starting from the final
               state, as the attention tutorials' decoders do: no fixed-size code;
- "steps":     every encoder output fed to the decoder LSTM step by step: our own construction
               (published by neither), the purest copying case.

In "state" and "attention" the decoder is fed zeros at every step (the tutorials feed it the
previous token, with teacher forcing in training), so what it reads of the encoder is the only
path from input to output.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..nn import Concat, DotAttention, LSTMLayer, Quantize, bin_centers
from ..shapes import keras_rows as kr
from ..shapes.records import (
    BATCH,
    BINS,
    SEQ,
    UNITS,
    Code,
    LayerRecord,
    code_of,
    input_record,
    linear_record,
    lstm_record,
)
from ..spec import ModelSpec
from .base import Arch, Autoencoder

ENCODER_RETURNS = {"state": "state", "attention": "sequence_state", "steps": "sequence"}


class EmbeddingAE(Autoencoder):
    """Quantise -> Embedding -> LSTM encoder -> a decoder reading what `spec.reads` says."""

    loss_name = "cross-entropy"

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        u, act, k = spec.units, spec.activation, spec.bins
        self.quantize = Quantize(k)
        self.embed = nn.Embedding(k, u)
        self.encoder = LSTMLayer(u, u, act, returns=ENCODER_RETURNS[spec.reads])
        # "steps": fed the encoder's outputs; otherwise fed zeros (B, T, 1) from its state.
        self.decoder = LSTMLayer(u if spec.reads == "steps" else 1, u, act, returns="sequence")
        if spec.reads == "attention":
            self.attention = DotAttention()
            self.concat = Concat()
        self.head = nn.Linear(2 * u if spec.reads == "attention" else u, k)  # a score per bin
        self.register_buffer("centers", bin_centers(k), persistent=False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Everything the decoder reads: (B, T*U), (B, 2U) or (B, T*U + 2U)."""
        encoded = self.encoder(self.embed(self.quantize(x)))
        if self.spec.reads == "steps":
            return encoded.flatten(1)  # (B, T, U) -> (B, T*U)
        if self.spec.reads == "state":
            h, c = encoded  # (1, B, U) each
            return torch.cat([h[-1], c[-1]], dim=1)  # (B, 2U)
        outputs, (h, c) = encoded
        return torch.cat([outputs.flatten(1), h[-1], c[-1]], dim=1)  # (B, T*U + 2U)

    @staticmethod
    def code_parts(spec: ModelSpec) -> tuple[tuple[str, int], ...]:
        t, u = spec.seq_len, spec.units
        outputs = ("every encoder output (T x U)", t * u)
        if spec.reads == "state":
            return (("h_n", u), ("c_n", u))
        if spec.reads == "steps":
            return (outputs,)
        return (outputs, ("h_n", u), ("c_n", u))  # attention: the outputs and the final state

    def code_output(self, codes: torch.Tensor) -> object:
        u, t, b = self.spec.units, self.spec.seq_len, codes.shape[0]
        if self.spec.reads == "state":
            return codes[:, :u].unsqueeze(0), codes[:, u:].unsqueeze(0)  # (1, B, U) each
        outputs = codes[:, : t * u].reshape(b, t, u)  # (B, T*U) -> (B, T, U)
        if self.spec.reads == "steps":
            return outputs
        return outputs, (codes[:, t * u : t * u + u].unsqueeze(0),
                         codes[:, t * u + u :].unsqueeze(0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = self.quantize(x)  # (B, T, 1) -> (B, T) int64
        encoded = self.encoder(self.embed(ids))  # from (B, T, U)
        if self.spec.reads == "steps":
            return self.head(self.decoder(encoded))  # (B, T, U) -> (B, T, bins) logits
        nothing = torch.zeros_like(x)  # (B, T, 1): the decoder is fed no values
        if self.spec.reads == "state":
            return self.head(self.decoder(nothing, encoded))  # starts from (h_n, c_n)
        outputs, state = encoded  # (B, T, U), (h_n, c_n)
        steps = self.decoder(nothing, state)  # (B, T, U)
        context = self.attention(steps, outputs)  # (B, T, U): a mix of every encoder output
        return self.head(self.concat(steps, context))  # (B, T, 2U) -> (B, T, bins)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        ids = self(x).argmax(dim=-1)  # (B, T)
        return self.centers[ids].unsqueeze(-1)  # (B, T, 1): each bin's value

    def loss(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the bin scores against the input's own bins."""
        target = self.quantize(x)  # (B, T)
        return F.cross_entropy(output.flatten(0, 1), target.flatten())


def _decoder_what(reads: str) -> str:
    return {
        "steps": "Fed the encoder's output at each step (our construction): it can pass each "
                 "step straight through.",
        "state": "Starts from the encoder's final state (h_n, c_n) and is fed nothing (zeros): "
                 "everything it rebuilds must come through that state.",
        "attention": "Starts from the encoder's final state and is fed nothing (zeros); its "
                     "output at each step is the query for the attention below.",
    }[reads]


def layers(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], Code]:
    """The trace's rows and the code."""
    t, u, k, reads = spec.seq_len, spec.units, spec.bins, spec.reads
    ids = LayerRecord(
        name="quantize", kind="Quantize", module="quantize", role="encoder", dtype="int64",
        keras=f"Reshape(({t},)) + Discretization({k - 1} bin boundaries)",
        torch=f"torch.bucketize(x.squeeze(-1), boundaries, right=True)  # {k} bins",
        output_shape=(b, t), axes=(BATCH, SEQ), keras_shape=(None, t),
        params_torch=0, params_keras=0, numbers_per_example=t,
        what=f"Turns each value into the id of one of {k} bins over [-1, 1]: nn.Embedding "
             "takes integer ids, never floats.",
    )
    embed = LayerRecord(
        name="Embedding", kind="Embedding", module="embed", role="encoder",
        keras=f"Embedding({k}, {u})", torch=f"nn.Embedding({k}, {u})",
        output_shape=(b, t, u), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, u),
        params_torch=k * u, params_keras=k * u, numbers_per_example=t * u,
        what=f"Looks up a learned {u}-vector for each id: adds the units axis.",
    )
    encoder = lstm_record(
        spec, b, name="encoder LSTM", module="encoder", input_size=u, units=u,
        returns=ENCODER_RETURNS[reads], role="latent",
        what={"steps": "Passes on every step's output, seq x units numbers: more than the "
                       "input.",
              "state": "Only its final state (h_n, c_n) is kept: the context vector.",
              "attention": "Passes on every step's output (for the attention) and its final "
                           "state (h_n, c_n) (the decoder's start)."}[reads])
    decoder = lstm_record(
        spec, b, name="decoder LSTM", module="decoder", input_size=u if reads == "steps" else 1,
        units=u, returns="sequence", role="decoder", what=_decoder_what(reads))
    if reads != "steps":  # fed zeros from the encoder's state: say so in Keras's words
        decoder = replace(decoder, keras=decoder.keras + "(zeros, initial_state=[h, c])")
    rows = [input_record(spec, b), ids, embed, encoder, decoder]
    head_in = u
    if reads == "attention":
        head_in = 2 * u
        rows += [
            LayerRecord(
                name="attention", kind="Attention", module="attention", role="decoder",
                keras="Attention()([decoder output, encoder output])",
                torch="softmax(d @ enc.transpose(1, 2)) @ enc  # dot-product attention",
                output_shape=(b, t, u), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, u),
                params_torch=0, params_keras=0, numbers_per_example=t * u,
                what=f"For each decoder step, weighs all {t} encoder outputs by their dot "
                     "product with the decoder's output and mixes them: it can look up any "
                     "step."),
            LayerRecord(
                name="concat", kind="Concatenate", module="concat", role="decoder",
                keras="Concatenate()", torch="torch.cat([d, context], dim=-1)",
                output_shape=(b, t, 2 * u), axes=(BATCH, SEQ, UNITS),
                keras_shape=(None, t, 2 * u), params_torch=0, params_keras=0,
                numbers_per_example=t * 2 * u,
                what="Joins the decoder's output and the attention's mix: 2 x units per step."),
        ]
    rows.append(linear_record(b, t, head_in, k, BINS, f"Scores each of the {k} bins at every "
                              "step; the reconstruction is the best bin's value (trained with "
                              "cross-entropy).", keras=f"Dense({k})"))
    where = {"steps": "every output of the encoder LSTM, fed step by step",
             "state": "the encoder's final state (h_n, c_n), each",
             "attention": "every output of the encoder LSTM (through attention) and its "
                          "final state (h_n, c_n)"}[reads]
    return rows, code_of(encoder, where, fixed_size=reads == "state")


def validity(spec: ModelSpec) -> str:
    """Whether it is a compressing autoencoder depends on what the decoder reads."""
    ids = (" It also needs the values turned into integer token ids first (nn.Embedding "
           "rejects floats).")
    if spec.reads == "state":
        return ("Valid: the decoder reads only the encoder's final state (h_n, c_n), like the "
                "PyTorch seq2seq tutorial's plain DecoderRNN reads its context vector, so "
                "everything must pass through that fixed-size state. (The tutorial also feeds "
                "its decoder the previous token; here it is fed nothing, so the state is the "
                "only path.)" + ids)
    if spec.reads == "attention":
        one_step = (" With one time step there is one output to weigh, so every attention "
                    "weight is 1." if spec.seq_len == 1 else "")
        return ("Runs and trains, but it is not a compressing autoencoder: as in the attention "
                "seq2seq tutorials this encoder comes from, the decoder reads every encoder "
                "output through attention, so at each step it can look up the step it has to "
                "rebuild instead of working from a summary. Attention is made for translation, "
                "where that is the point." + one_step + ids)
    return ("Runs and trains, but it is not a compressing autoencoder: in this construction of "
            "ours (published by neither tutorial) the decoder is fed the encoder's output at "
            "every step, so it can copy step by step." + ids)


def keras_rows(spec: ModelSpec) -> list[kr.KerasRow]:
    """The rows Keras's summary() prints for the exported Keras model."""
    t, u, k, reads = spec.seq_len, spec.units, spec.bins, spec.reads
    rows = [
        kr.input_row(spec),
        kr.extra("drop_feature_axis", "Reshape", (None, t),
                 "Discretization bins a (batch, T) tensor: the one feature axis goes."),
        kr.record("quantize", "Discretization", (None, t)),
        kr.record("embedding", "Embedding", (None, t, u), params=k * u),
    ]
    if reads == "steps":
        return rows + [
            kr.lstm("encoder_lstm", u, u, (None, t, u)),
            kr.lstm("decoder_lstm", u, u, (None, t, u)),
            kr.head(spec, u, k, "Dense"),
        ]
    encoder_out = (None, t, u) if reads == "attention" else (None, u)
    rows += [
        kr.extra("zero_inputs", "Lambda", (None, t, 1),
                 "The decoder is fed nothing: zeros, one value per step."),
        kr.lstm("encoder_lstm", u, u, encoder_out, (None, u), (None, u)),  # [output, h, c]
        kr.lstm("decoder_lstm", 1, u, (None, t, u)),
    ]
    if reads == "state":
        return rows + [kr.head(spec, u, k, "Dense")]
    return rows + [
        kr.record("attention", "Attention", (None, t, u)),
        kr.record("concat", "Concatenate", (None, t, 2 * u)),
        kr.head(spec, 2 * u, k, "Dense"),
    ]


ARCH = Arch(
    name="embedding",
    title="PyTorch: Embedding -> LSTM passing on every output",
    source="the EncoderLSTM of attention seq2seq tutorials (e.g. G. Loye, 'Attention "
           "Mechanism', FloydHub, 2019) and the PyTorch seq2seq translation tutorial's "
           "DecoderRNN / AttnDecoderRNN (GRU, S. Robertson)",
    source_url="https://pytorch.org/tutorials/intermediate/seq2seq_translation_tutorial.html",
    keras_rows=keras_rows, model=EmbeddingAE, layers=layers, validity=validity,
    pitfalls=("embedding_float_input", "embedding_index_out_of_range", "lstm_state_tuple",
              "embedding_no_bottleneck"),
    code_class="EmbeddingAutoencoder",
)
