"""Template: the exported PyTorch script's build() and __main__ (see codegen/templating.py).

MODEL_CLASS is replaced by the architecture's class name.
"""

import torch
from torch import nn

MODEL_CLASS = nn.Module  # stand-in: the exported script defines the model class
SEQ_LEN = N_FEATURES = 2


# <<< main
def build() -> MODEL_CLASS:
    """A fresh MODEL_CLASS for this spec."""
    return MODEL_CLASS()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = build()
    print(model)
    # [if embedding]
    x = torch.rand(4, SEQ_LEN, N_FEATURES) * 2 - 1  # (B, T, 1), values in [-1, 1]
    # [else]
    x = torch.randn(4, SEQ_LEN, N_FEATURES)  # (B, T, F) with B = 4
    # [end]
    with torch.no_grad():
        y = model(x)
    print("input shape:", tuple(x.shape))
    # [if embedding]
    print("output shape:", tuple(y.shape), "(bin scores)")
    # [else]
    print("output shape:", tuple(y.shape), "(reconstruction)")
    # [end]
    # [if conditional]
    model.eval()  # inference: the decoder feeds back its own predictions
    with torch.no_grad():
        y = model(x)
    print("eval output shape:", tuple(y.shape))
    # [end]
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"parameters: {n_params:,}")
# >>>
