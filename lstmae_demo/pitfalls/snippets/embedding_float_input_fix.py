import math

import torch
from torch import nn

torch.manual_seed(0)
embed = nn.Embedding(64, 32)
x = torch.sin(torch.linspace(0, 2 * math.pi, 50)).reshape(1, 50)  # (1, 50) float
edges = torch.linspace(-1, 1, 65)[1:-1]                 # inner edges of 64 bins over [-1, 1]
ids = torch.bucketize(x, edges, right=True)             # (1, 50) int64 ids in [0, 64)
vectors = embed(ids)                                    # (1, 50, 32)
