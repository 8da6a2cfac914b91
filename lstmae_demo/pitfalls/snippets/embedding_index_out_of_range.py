import torch
from torch import nn

torch.manual_seed(0)
bins = 64
embed = nn.Embedding(bins, 32)                          # valid ids: 0 ... 63
x = torch.linspace(-1, 1, 50).reshape(1, 50)            # a ramp that reaches 1.0
ids = ((x + 1) / 2 * bins).long()                       # hand-made bins: 1.0 -> 64
vectors = embed(ids)
