import torch

torch.manual_seed(0)
seq_len, embedding_dim = 140, 128
z = torch.randn(2, embedding_dim)                       # the codes of 2 series: (B, E)
x = z.repeat(seq_len, 1)                                # (T*B, E): rows z0, z1, z0, z1, ...
x = x.reshape((2, seq_len, embedding_dim))              # a "batch-aware" reshape: (B, T, E)
