"""The exported PyTorch script: exactly `build_model(spec)`, needing nothing but torch.

The code itself lives in templates/pytorch/ (blocks.py: the building blocks; <arch>.py: the
model class; main.py: build() and the __main__ block). This module puts in the building
blocks the model class calls, and LSTMLayer with only the `returns` options the trace uses.
"""

from __future__ import annotations

import re

from ..archs import get_arch
from ..nn import RETURNS
from ..shapes.trace import trace
from ..spec import ModelSpec, validate
from . import common

BLOCKS = "pytorch/blocks.py"
# The building blocks of blocks.py, in the order the script defines them.
BLOCK_ORDER = ("ActLSTM", "LSTMLayer", "RepeatVector", "Quantize", "DotAttention", "Concat",
               "ReverseDecoder")


def returns_used(spec: ModelSpec) -> tuple[str, ...]:
    """The LSTMLayer `returns` options this model uses: what its traced LSTMs pass on."""
    passes = {r.passes for r in trace(spec, 1).layers if r.kind == "LSTM"}
    return tuple(r for r in RETURNS if r in passes)


def lstm_layer(spec: ModelSpec) -> str:
    """LSTMLayer with only the `returns` options this model uses."""
    used = returns_used(spec)
    as_tuple = "(" + ", ".join(f'"{r}"' for r in used) + ("," if len(used) == 1 else "") + ")"
    extra = frozenset(f"returns_{r}" for r in used)
    return common.block(BLOCKS, "LSTMLayer", spec, extra, {"RETURNS_USED": as_tuple})


def helpers(spec: ModelSpec, model: str) -> list[str]:
    """The building blocks the model's code calls, and those they call, in BLOCK_ORDER."""
    texts = {name: lstm_layer(spec) if name == "LSTMLayer" else common.block(BLOCKS, name, spec)
             for name in BLOCK_ORDER}
    needed: set[str] = set()
    unread = [model]
    while unread:
        text = unread.pop()
        for name in BLOCK_ORDER:
            if name not in needed and re.search(rf"\b{name}\(", text):
                needed.add(name)
                unread.append(texts[name])
    return [texts[name] for name in BLOCK_ORDER if name in needed]


def pytorch_source(spec: ModelSpec) -> str:
    """A runnable, self-contained PyTorch script defining exactly `build_model(spec)`."""
    validate(spec)
    tr = trace(spec, 1)
    model = common.block(f"pytorch/{spec.arch}.py", "model", spec)
    return common.join([
        common.docstring(spec, tr, "PyTorch", "python this_file.py  (needs only torch)"),
        "import torch\nfrom torch import nn",
        common.constants(spec),
        *helpers(spec, model),
        model,
        common.block("pytorch/main.py", "main", spec,
                     values={"MODEL_CLASS": get_arch(spec.arch).code_class}),
    ])
