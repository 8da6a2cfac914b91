import torch
from torch import nn

torch.manual_seed(0)
encoder = nn.LSTM(1, 32, batch_first=True)
decoder = nn.LSTM(1, 32, batch_first=True)
x = torch.randn(4, 20, 1)                               # (B, T, F)
_, (h_n, c_n) = encoder(x)                              # each (1, 4, 32): (layers, B, U)
out, _ = decoder(x.flip(1), (h_n, c_n))                 # the state exactly as returned
