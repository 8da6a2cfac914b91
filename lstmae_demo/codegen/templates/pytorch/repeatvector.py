"""Template: the exported PyTorch model of `repeatvector` (see codegen/templating.py)."""

import torch
from torch import nn

from .blocks import LSTMLayer, RepeatVector

SEQ_LEN = N_FEATURES = UNITS = 2  # stand-ins: the exported script defines them from the spec


# <<< model
class RepeatVectorAutoencoder(nn.Module):
    """Brownlee's Keras model: LSTM (last output) -> RepeatVector -> LSTM -> Dense per step."""

    def __init__(self, seq_len: int = SEQ_LEN, n_features: int = N_FEATURES,
                 units: int = UNITS):
        super().__init__()
        self.encoder = LSTMLayer(n_features, units, returns="last")  # Keras LSTM(U)
        self.repeat = RepeatVector(seq_len)  # Keras RepeatVector(T)
        self.decoder = LSTMLayer(units, units, returns="sequence")
        # nn.Linear acts on the last axis, so it maps every step with the same weights: that
        # is what Keras's TimeDistributed(Dense(F)) does (Keras 3's Dense alone would too).
        self.head = nn.Linear(units, n_features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> the code (B, U)."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> reconstruction (B, T, F)."""
        z = self.encoder(x)  # (B, T, F) -> (B, U): the code, all the decoder gets
        z_steps = self.repeat(z)  # (B, U) -> (B, T, U): the decoder needs a sequence
        y = self.decoder(z_steps)  # (B, T, U) -> (B, T, U)
        return self.head(y)  # (B, T, U) -> (B, T, F)
# >>>
