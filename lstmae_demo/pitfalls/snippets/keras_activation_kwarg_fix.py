import torch

from lstmae_demo.nn import ActLSTM  # nn.LSTM's layout, any activation

torch.manual_seed(0)
x = torch.linspace(0.1, 0.9, 9).reshape(1, 9, 1)        # (1, 9, 1)
encoder = ActLSTM(1, 100, activation="relu")            # always batch-first
output, (h_n, c_n) = encoder(x)                         # (1, 9, 100), states (1, 1, 100)
