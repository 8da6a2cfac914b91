import torch
from torch import nn

torch.manual_seed(0)
bins = 64
embed = nn.Embedding(bins, 32)
x = torch.linspace(-1, 1, 50).reshape(1, 50)
edges = torch.linspace(-1, 1, bins + 1)[1:-1]           # the bins - 1 inner edges
ids = torch.bucketize(x, edges, right=True)             # always in [0, bins)
vectors = embed(ids)                                    # (1, 50, 32)
