import torch
from torch import nn

torch.manual_seed(0)
encoder = nn.LSTM(1, 100, batch_first=True)
decoder = nn.LSTM(100, 100, batch_first=True)
head = nn.Linear(100, 1)                                # TimeDistributed(Dense(1))

def autoencode(x):                                      # x: (B, 9, 1)
    z = encoder(x)[0][:, -1]                            # (B, 100): the bottleneck
    out, _ = decoder(z.unsqueeze(1).repeat(1, 9, 1))    # RepeatVector(9): (B, 9, 100)
    return head(out[:, -1])                             # the last step only: (B, 1)

one = torch.linspace(0.1, 0.9, 9).reshape(1, 9, 1)      # Brownlee's one sequence: (1, 9, 1)
y_one = autoencode(one)
loss_one = nn.MSELoss()(y_one, one)                     # (1, 1) vs (1, 9, 1)
batch = torch.rand(4, 9, 1)                             # a batch of 4 series
loss_batch = nn.MSELoss()(autoencode(batch), batch)     # (4, 1) vs (4, 9, 1)
