"""The exported PyTorch script: exactly `build_model(spec)`, needing nothing but torch.

The code itself lives in templates/pytorch/ (blocks.py: the building blocks; <arch>.py: the
model class; main.py: build() and the __main__ block); this module picks the blocks a spec
needs and puts them in order.
"""

from __future__ import annotations

from ..archs import get_arch
from ..archs.embedding import ENCODER_RETURNS
from ..archs.encdec_ad import HANDOFF_RETURNS
from ..nn import RETURNS
from ..shapes.trace import trace
from ..spec import ModelSpec, validate
from . import common

BLOCKS = "pytorch/blocks.py"


def returns_used(spec: ModelSpec) -> tuple[str, ...]:
    """The LSTMLayer `returns` options this model uses, in nn.RETURNS order."""
    used = {
        "repeatvector": {"last", "sequence"},
        "hidden_n": {"sequence", "h_n"},
        "embedding": {"sequence", ENCODER_RETURNS[spec.reads]},
        "encdec_ad": {HANDOFF_RETURNS[spec.handoff]},
    }[spec.arch]
    return tuple(r for r in RETURNS if r in used)


def helpers(spec: ModelSpec) -> list[str]:
    """The building blocks (blocks.py) this model needs, in the order they are defined."""
    names = ["ActLSTM"] if spec.activation == "relu" else []
    names.append("LSTMLayer")
    names += {
        "repeatvector": ["RepeatVector"],
        "hidden_n": ["RepeatVector"],
        "embedding": ["Quantize"] + (["DotAttention", "Concat"] if spec.reads == "attention"
                                     else []),
        "encdec_ad": ["ReverseDecoder"],
    }[spec.arch]
    return names


def lstm_layer(spec: ModelSpec) -> str:
    """LSTMLayer with only the `returns` options this model uses."""
    used = returns_used(spec)
    as_tuple = "(" + ", ".join(f'"{r}"' for r in used) + ("," if len(used) == 1 else "") + ")"
    extra = frozenset(f"returns_{r}" for r in used)
    return common.block(BLOCKS, "LSTMLayer", spec, extra, {"RETURNS_USED": as_tuple})


def pytorch_source(spec: ModelSpec) -> str:
    """A runnable, self-contained PyTorch script defining exactly `build_model(spec)`."""
    validate(spec)
    tr = trace(spec, 1)
    parts = [
        common.docstring(spec, tr, "PyTorch", "python this_file.py  (needs only torch)"),
        "import torch\nfrom torch import nn",
        common.constants(spec),
    ]
    for name in helpers(spec):
        parts.append(lstm_layer(spec) if name == "LSTMLayer"
                     else common.block(BLOCKS, name, spec))
    parts.append(common.block(f"pytorch/{spec.arch}.py", "model", spec))
    parts.append(common.block("pytorch/main.py", "main", spec,
                              values={"MODEL_CLASS": get_arch(spec.arch).code_class}))
    return common.join(parts)
