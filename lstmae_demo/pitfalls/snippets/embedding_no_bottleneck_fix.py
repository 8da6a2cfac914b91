import math

import torch
from torch import nn

torch.manual_seed(0)
seq_len, hidden, bins = 50, 16, 64
embed = nn.Embedding(bins, hidden)
encoder = nn.LSTM(hidden, hidden, batch_first=True)
decoder = nn.LSTM(hidden, hidden, batch_first=True)
head = nn.Linear(hidden, bins)                          # a score per bin at each step
x = torch.sin(torch.linspace(0, 2 * math.pi, seq_len)).reshape(1, seq_len, 1)  # (1, 50, 1)
edges = torch.linspace(-1, 1, bins + 1)[1:-1]           # bins over [-1, 1]
ids = torch.bucketize(x.squeeze(-1), edges, right=True) # (1, 50) int64 token ids
outputs, (h_n, c_n) = encoder(embed(ids))               # keep only the final state
steps = torch.zeros(1, seq_len, hidden)                 # fed nothing per step
out, _ = decoder(steps, (h_n, c_n))                     # the decoder reads (h_n, c_n) only
logits = head(out)                                      # (1, 50, 64)
read = {"h_n": h_n, "c_n": c_n}                         # all the decoder gets of the input
