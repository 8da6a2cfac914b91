"""Template: the exported PyTorch model of `hidden_n` (see codegen/templating.py)."""

import torch
from torch import nn

from .blocks import LSTMLayer, RepeatVector

SEQ_LEN = N_FEATURES = EMBEDDING_DIM = 2  # stand-ins: the exported script defines them


# <<< model
class RecurrentAutoencoder(nn.Module):
    """The ECG tutorial's model: two LSTMs, the code is the second one's final hidden state.

    Written for any batch size and any number of features: the tutorial's
    x.reshape((1, seq_len, n_features)) and hidden_n.reshape((n_features, embedding_dim))
    only work for batch 1 and one feature.
    """

    def __init__(self, seq_len: int = SEQ_LEN, n_features: int = N_FEATURES,
                 embedding_dim: int = EMBEDDING_DIM):
        super().__init__()
        e = embedding_dim
        self.enc1 = LSTMLayer(n_features, 2 * e, returns="sequence")  # the tutorial's rnn1
        self.enc2 = LSTMLayer(2 * e, e, returns="h_n")  # rnn2: its h_n is the code
        self.repeat = RepeatVector(seq_len)
        self.dec1 = LSTMLayer(e, e, returns="sequence")
        self.dec2 = LSTMLayer(e, 2 * e, returns="sequence")
        # nn.Linear acts on the last axis: the same 2E -> F map at every step
        # (Keras would write TimeDistributed(Dense(F))).
        self.head = nn.Linear(2 * e, n_features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> the code (B, E)."""
        return self.enc2(self.enc1(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> reconstruction (B, T, F)."""
        y = self.enc1(x)  # (B, T, F) -> (B, T, 2E)
        z = self.enc2(y)  # (B, T, 2E) -> (B, E): h_n[-1], the code
        z_steps = self.repeat(z)  # (B, E) -> (B, T, E)
        y = self.dec1(z_steps)  # (B, T, E) -> (B, T, E)
        y = self.dec2(y)  # (B, T, E) -> (B, T, 2E)
        return self.head(y)  # (B, T, 2E) -> (B, T, F)
# >>>
