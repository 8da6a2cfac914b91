import torch
from torch import nn

torch.manual_seed(0)
encoder = nn.LSTM(1, 32, batch_first=True)
decoder = nn.LSTM(1, 32, batch_first=True)
x = torch.randn(4, 20, 1)                               # (B, T, F)
_, (h_n, c_n) = encoder(x)                              # each (1, 4, 32)
h, c = h_n[-1], c_n[-1]                                 # "one state per example": (4, 32)
out, _ = decoder(x.flip(1), (h, c))                     # start the decoder from the encoder
