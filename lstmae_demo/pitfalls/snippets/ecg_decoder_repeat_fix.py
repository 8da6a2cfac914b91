import torch

torch.manual_seed(0)
seq_len, embedding_dim = 140, 128
z = torch.randn(2, embedding_dim)                       # (B, E)
x = z.unsqueeze(1).repeat(1, seq_len, 1)                # (B, 1, E) -> (B, T, E): RepeatVector
