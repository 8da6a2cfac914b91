import torch
from torch import nn

torch.manual_seed(0)
seq_len, n_features, embedding_dim = 140, 2, 128
rnn1 = nn.LSTM(n_features, 2 * embedding_dim, batch_first=True)
rnn2 = nn.LSTM(2 * embedding_dim, embedding_dim, batch_first=True)

def encode(x):
    x = x.reshape((1, seq_len, n_features))             # assumes a batch of one
    x, (_, _) = rnn1(x)
    x, (hidden_n, _) = rnn2(x)
    return hidden_n.reshape((n_features, embedding_dim))

x = torch.randn(1, seq_len, n_features)                 # one series, 2 features: (1, 140, 2)
z = encode(x)
