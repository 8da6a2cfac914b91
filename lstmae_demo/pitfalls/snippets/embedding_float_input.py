import math

import torch
from torch import nn

torch.manual_seed(0)
embed = nn.Embedding(64, 32)                            # a table of 64 vectors of 32 numbers
x = torch.sin(torch.linspace(0, 2 * math.pi, 50)).reshape(1, 50)  # a float signal: (1, 50)
vectors = embed(x)
