"""Template: the exported PyTorch model of `encdec_ad`, for each hand-off (flags handoff_h,
handoff_hc) and decoder (conditional, unconditioned); see codegen/templating.py."""

import torch
from torch import nn

from .blocks import LSTMLayer, ReverseDecoder

N_FEATURES = UNITS = 2  # stand-ins: the exported script defines them from the spec


# <<< model
class EncDecAD(nn.Module):
    """Malhotra et al. 2016: the encoder's final state starts a decoder that runs backwards.

    # [if handoff_h]
    Hand-off as the paper writes it: h_E(L) becomes the decoder's initial hidden state; its
    cell state starts at zero.
    # [else]
    Hand-off as implementations usually do it: (h_E(L), c_E(L)) becomes the decoder's
    initial state (the paper writes h only).
    # [end]

    # [if conditional]
    Conditional decoder: model.train() feeds it the true x(i) (teacher forcing);
    model.eval() feeds back its own predictions x'(i), one step at a time.
    # [else]
    Unconditioned decoder: fed nothing, in training and at inference alike.
    # [end]
    """

    def __init__(self, n_features: int = N_FEATURES, units: int = UNITS):
        super().__init__()
        # [if handoff_h]
        self.encoder = LSTMLayer(n_features, units, returns="h_state")  # (h_n, zeros)
        # [else]
        self.encoder = LSTMLayer(n_features, units, returns="state")  # (h_n, c_n)
        # [end]
        self.decoder = ReverseDecoder(n_features, units)
        self.head = nn.Linear(units, n_features)  # x'(i) = w^T h_D(i) + b

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> what the encoder hands over to the decoder."""
        # [if handoff_h]
        h, _ = self.encoder(x)  # (1, B, U); the zeros beside it are not handed over
        return h[-1]  # (1, B, U) -> (B, U): h_E(L) alone
        # [else]
        h, c = self.encoder(x)  # (1, B, U) each
        return torch.cat([h[-1], c[-1]], dim=1)  # (B, U) + (B, U) -> (B, 2U)
        # [end]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> reconstruction (B, T, F)."""
        state = self.encoder(x)  # the decoder's initial (h, c), each (1, B, U)
        states = self.decoder(x, state, self.head)  # h_D(1) ... h_D(L): (B, T, U)
        return self.head(states)  # (B, T, U) -> (B, T, F)
# >>>
