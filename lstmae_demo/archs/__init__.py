"""build_model(spec) -> nn.Module for each of the four reference architectures.

Every model maps x (B, T, F) floats to its raw output, and offers the same three extra calls:
`encode(x)` (the latent, one row per example), `reconstruct(x)` (values, (B, T, F)) and
`loss(output, x)` (the loss its architecture trains with). The attribute names of the
submodules are the `module` paths in the shape trace, so a hook on each checks the trace.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..nn import LSTMLayer, Quantize, RepeatVector, ReverseDecoder, bin_centers
from ..spec import ModelSpec, validate


class Autoencoder(nn.Module):
    """Common interface: forward, encode, reconstruct, loss."""

    spec: ModelSpec

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The latent for each example, flattened: (B, numbers per example)."""
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction as values: (B, T, F)."""
        return self(x)

    def loss(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Mean squared error between the reconstruction and the input."""
        return F.mse_loss(output, x)


class RepeatVectorAE(Autoencoder):
    """Brownlee's Keras model: LSTM (last output) -> RepeatVector -> LSTM -> Dense per step."""

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)  # (B, U): the bottleneck
        return self.head(self.decoder(self.repeat(z)))  # (B, T, U) -> (B, T, F)


class EmbeddingAE(Autoencoder):
    """The seq2seq tutorial's encoder on a quantised signal: no bottleneck at all."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        u, act = spec.units, spec.activation
        self.quantize = Quantize(spec.bins)
        self.embed = nn.Embedding(spec.bins, u)
        self.encoder = LSTMLayer(u, u, act, returns="sequence")
        self.decoder = LSTMLayer(u, u, act, returns="sequence")
        self.head = nn.Linear(u, spec.bins)  # a score per bin at every step
        self.register_buffer("centers", bin_centers(spec.bins), persistent=False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        codes = self.encoder(self.embed(self.quantize(x)))  # (B, T, U): every output
        return codes.flatten(1)  # (B, T*U)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = self.quantize(x)  # (B, T, 1) -> (B, T) int64
        codes = self.encoder(self.embed(ids))  # (B, T, U) -> (B, T, U)
        return self.head(self.decoder(codes))  # (B, T, bins) logits

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        ids = self(x).argmax(dim=-1)  # (B, T)
        return self.centers[ids].unsqueeze(-1)  # (B, T, 1): each bin's value

    def loss(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the bin scores against the input's own bins."""
        target = self.quantize(x)  # (B, T)
        return F.cross_entropy(output.flatten(0, 1), target.flatten())


class HiddenNAE(Autoencoder):
    """The ECG tutorial's model, fixed to work for any batch size and number of features."""

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encode(x)  # (B, E)
        y = self.dec2(self.dec1(self.repeat(z)))  # (B, T, E) -> (B, T, 2E)
        return self.head(y)  # (B, T, F)


class EncDecAD(Autoencoder):
    """Malhotra et al. 2016: encoder state -> decoder initial state, reconstruct in reverse."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        f, u, act = spec.n_features, spec.units, spec.activation
        self.encoder = LSTMLayer(f, u, act, returns="state")
        self.decoder = ReverseDecoder(f, u, act, conditional=spec.decoder == "conditional")
        self.head = nn.Linear(u, f)  # x'(i) = w^T h_D(i) + b

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h, c = self.encoder(x)  # (1, B, U) each
        return torch.cat([h[-1], c[-1]], dim=1)  # (B, 2U): the whole hand-off

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.encoder(x)  # (h_E, c_E), each (1, B, U)
        return self.head(self.decoder(x, state, self.head))  # (B, T, U) -> (B, T, F)


MODEL_CLASSES: dict[str, type[Autoencoder]] = {
    "repeatvector": RepeatVectorAE,
    "embedding": EmbeddingAE,
    "hidden_n": HiddenNAE,
    "encdec_ad": EncDecAD,
}


def build_model(spec: ModelSpec, seed: int | None = None) -> Autoencoder:
    """A fresh model for `spec`; with `seed`, the same initial weights every time."""
    validate(spec)
    if seed is None:
        return MODEL_CLASSES[spec.arch](spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODEL_CLASSES[spec.arch](spec)


def count_params(module: nn.Module) -> int:
    """Trainable parameters, as PyTorch counts them."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
