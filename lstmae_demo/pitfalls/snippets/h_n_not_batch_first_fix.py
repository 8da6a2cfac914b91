import torch
from torch import nn

torch.manual_seed(0)
lstm = nn.LSTM(1, 32, num_layers=2, batch_first=True)
x = torch.randn(4, 20, 1)
output, (h_n, c_n) = lstm(x)                            # h_n: (layers, B, U) = (2, 4, 32)
z = h_n[-1]                                             # the top layer's final state: (4, 32)
