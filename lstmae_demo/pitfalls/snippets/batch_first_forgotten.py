import torch
from torch import nn

torch.manual_seed(0)
lstm = nn.LSTM(1, 32)                                   # batch_first forgotten: (T, B, F)
x = torch.randn(4, 20, 1)                               # but gets (B, T, F): 4 series, 20 steps
output, (h_n, c_n) = lstm(x)                            # read as 4 steps of 20 series
