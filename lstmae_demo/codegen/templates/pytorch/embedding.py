"""Template: the exported PyTorch model of `embedding`, for each choice of what the decoder
reads (flags reads_state, reads_attention, reads_steps; see codegen/templating.py)."""

import torch
from torch import nn

from .blocks import Concat, DotAttention, LSTMLayer, Quantize

BINS = UNITS = 2  # stand-ins: the exported script defines them from the spec


# <<< model
class EmbeddingAutoencoder(nn.Module):
    """The seq2seq tutorials' encoder (Embedding -> LSTM) on a quantised signal.

    # [if reads_state]
    The decoder reads only the encoder's final state (h_n, c_n), like the PyTorch seq2seq
    tutorial's plain DecoderRNN reads its context vector, and is fed nothing (zeros): all it
    rebuilds must pass through those 2U numbers, a code of fixed size (a bottleneck once the
    T values outnumber them).
    # [end]
    # [if reads_attention]
    The decoder starts from the encoder's final state (h_n, c_n), is fed nothing (zeros), and
    reads every encoder output through dot-product attention, as the attention tutorials'
    decoders do: it can look up any step, so there is no fixed-size code.
    # [end]
    # [if reads_steps]
    The decoder is fed the encoder's output at every step (our own construction, published by
    neither tutorial): the "code" holds T x U numbers, at least the T values it came from,
    so there is no bottleneck.
    # [end]

    The output is a score per bin at every step, trained with cross-entropy against the
    input's own bins.
    """

    def __init__(self, bins: int = BINS, units: int = UNITS):
        super().__init__()
        self.quantize = Quantize(bins)
        self.embed = nn.Embedding(bins, units)  # a learned U-vector per bin id
        # [if reads_state]
        self.encoder = LSTMLayer(units, units, returns="state")  # only (h_n, c_n) is kept
        self.decoder = LSTMLayer(1, units, returns="sequence")  # fed zeros (B, T, 1)
        self.head = nn.Linear(units, bins)  # a score per bin, at every step
        # [end]
        # [if reads_attention]
        self.encoder = LSTMLayer(units, units, returns="sequence_state")  # outputs and state
        self.decoder = LSTMLayer(1, units, returns="sequence")  # fed zeros (B, T, 1)
        self.attention = DotAttention()  # Keras layers.Attention(): no parameters
        self.concat = Concat()  # Keras layers.Concatenate()
        self.head = nn.Linear(2 * units, bins)  # decoder output and context -> bin scores
        # [end]
        # [if reads_steps]
        self.encoder = LSTMLayer(units, units, returns="sequence")  # every step's output
        self.decoder = LSTMLayer(units, units, returns="sequence")  # fed those outputs
        self.head = nn.Linear(units, bins)  # a score per bin, at every step
        # [end]
        width = 2.0 / bins
        centers = -1.0 + width * (torch.arange(bins, dtype=torch.float32) + 0.5)
        self.register_buffer("centers", centers, persistent=False)  # the value of each bin

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 1) -> everything the decoder reads of the encoder, flattened."""
        encoded = self.encoder(self.embed(self.quantize(x)))
        # [if reads_state]
        h_n, c_n = encoded  # (1, B, U) each
        return torch.cat([h_n[-1], c_n[-1]], dim=1)  # (B, U) + (B, U) -> (B, 2U)
        # [end]
        # [if reads_attention]
        outputs, (h_n, c_n) = encoded  # (B, T, U); (1, B, U) each
        # (B, T*U) + (B, U) + (B, U) -> (B, T*U + 2U)
        return torch.cat([outputs.flatten(1), h_n[-1], c_n[-1]], dim=1)
        # [end]
        # [if reads_steps]
        return encoded.flatten(1)  # (B, T, U) -> (B, T*U): every step's output
        # [end]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 1) floats -> bin scores (logits) (B, T, K)."""
        ids = self.quantize(x)  # (B, T, 1) float -> (B, T) int64
        vectors = self.embed(ids)  # (B, T) -> (B, T, U): adds the units axis
        # [if reads_state]
        state = self.encoder(vectors)  # (h_n, c_n), each (1, B, U): all the decoder reads
        nothing = torch.zeros_like(x)  # (B, T, 1): the decoder is fed no values
        y = self.decoder(nothing, state)  # started from (h_n, c_n): (B, T, U)
        return self.head(y)  # (B, T, U) -> (B, T, K)
        # [end]
        # [if reads_attention]
        outputs, state = self.encoder(vectors)  # (B, T, U) and (h_n, c_n), each (1, B, U)
        nothing = torch.zeros_like(x)  # (B, T, 1): the decoder is fed no values
        y = self.decoder(nothing, state)  # started from (h_n, c_n): (B, T, U)
        context = self.attention(y, outputs)  # (B, T, U): a mix of every encoder output
        return self.head(self.concat(y, context))  # (B, T, 2U) -> (B, T, K)
        # [end]
        # [if reads_steps]
        codes = self.encoder(vectors)  # (B, T, U): every step's output, no bottleneck
        y = self.decoder(codes)  # (B, T, U) -> (B, T, U)
        return self.head(y)  # (B, T, U) -> (B, T, K)
        # [end]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 1) -> the best bin's value at every step (B, T, 1)."""
        ids = self(x).argmax(dim=-1)  # (B, T, K) -> (B, T)
        return self.centers[ids].unsqueeze(-1)  # (B, T) -> (B, T, 1)
# >>>
