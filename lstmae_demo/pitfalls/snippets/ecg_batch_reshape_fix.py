import torch
from torch import nn

torch.manual_seed(0)
seq_len, n_features, embedding_dim = 140, 1, 128
rnn1 = nn.LSTM(n_features, 2 * embedding_dim, batch_first=True)
rnn2 = nn.LSTM(2 * embedding_dim, embedding_dim, batch_first=True)

def encode(x):                                          # x: (B, T, F), already batch-first
    x, _ = rnn1(x)                                      # (B, T, 2E)
    _, (hidden_n, _) = rnn2(x)                          # (1, B, E): layers first, always
    return hidden_n[-1]                                 # (B, E)

x = torch.randn(2, seq_len, n_features)                 # a batch of 2 series: (2, 140, 1)
z = encode(x)
