import torch
from torch import nn

torch.manual_seed(0)
lstm = nn.LSTM(1, 32, num_layers=2, batch_first=True)  # a stacked encoder
x = torch.randn(4, 20, 1)                               # (B, T, F) = (4, 20, 1)
output, (h_n, c_n) = lstm(x)                            # output (4, 20, 32); h_n (2, 4, 32)
z_first = h_n[0]                                        # "the first axis is the batch"
z_example = h_n[:, 0]                                   # "the last step of every example"
z_view = h_n.view(4, -1)                                # "one row per example"
