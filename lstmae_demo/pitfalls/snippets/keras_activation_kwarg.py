import torch
from torch import nn

torch.manual_seed(0)
x = torch.linspace(0.1, 0.9, 9).reshape(1, 9, 1)        # Brownlee's sequence: (1, 9, 1)
encoder = nn.LSTM(1, 100, activation="relu", batch_first=True)  # as in Keras
output, (h_n, c_n) = encoder(x)
