import math

import torch
from torch import nn

from lstmae_demo.archs import build_model
from lstmae_demo.spec import ModelSpec

torch.manual_seed(0)
t = torch.linspace(0, 2 * math.pi, 30)
x = torch.sin(t + 2 * math.pi * torch.rand(8, 1)).unsqueeze(-1)   # 8 sine waves: (8, 30, 1)
spec = ModelSpec(arch="repeatvector", seq_len=30, units=32, activation="tanh")
model = build_model(spec, seed=0)
optimizer = torch.optim.Adam(model.parameters(), lr=0.2)          # 200 x Keras's default
losses = []
for _ in range(24):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
