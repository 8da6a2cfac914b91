import torch
from torch import nn

torch.manual_seed(0)
encoder = nn.LSTM(32, 32, batch_first=True)
decoder = nn.LSTM(32, 32, batch_first=True)             # the PyTorch tutorial's is a GRU
vectors = torch.randn(1, 50, 32)                        # embedded ids: (1, 50, 32)
outputs, hidden = encoder(vectors)                      # an LSTM's hidden is (h_n, c_n)
h_n = hidden[0]                                         # (1, 1, 32), as a GRU would return
out, _ = decoder(vectors, hidden)                       # an LSTM needs (h, c)
