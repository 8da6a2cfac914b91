"""The exported Keras 3 script: the same architecture as `build_model(spec)`, layer by layer.

The code lives in templates/keras/ (<arch>.py: build(); main.py: the __main__ block). Every
layer that a trace record describes is named by the record's `key`; the layers Keras needs
besides (reshapes, zeros, flips) have names that say what they do. This module imports
neither keras nor torch: tests/unit/test_codegen_keras.py runs its output in Keras.
"""

from __future__ import annotations

from ..nn import bin_boundaries
from ..shapes.trace import trace
from ..spec import ModelSpec, validate
from . import common


def keras_weight_layers(spec: ModelSpec) -> dict[str, str]:
    """For each trace record's key, the name of the Keras layer that holds its weights.

    Every record's Keras layer is named by its key and holds the record's weights itself (the
    steps Keras needs besides have none), so each key maps to itself.
    """
    validate(spec)
    return {r.key: r.key for r in trace(spec, 1).layers}


def boundaries_literal(spec: ModelSpec) -> str:
    """The PyTorch model's bin edges as a Python list, exact to the last bit of float32.

    torch.linspace in float32 is not always the correctly rounded -1 + 2i/K, so a formula
    could put a value sitting on an edge into a different bin than the PyTorch model does.
    """
    values = [repr(float(v)) for v in bin_boundaries(spec.bins).tolist()]
    lines, line = [], "    "
    for v in values:
        if len(line) + len(v) + 2 > 96:
            lines.append(line.rstrip())
            line = "    "
        line += v + ", "
    lines.append(line.rstrip())
    return "[\n" + "\n".join(lines) + "\n]"


def keras_constants(spec: ModelSpec) -> str:
    """The sizes, the cell activation and (embedding) the bin edges."""
    text = common.constants(spec)
    note = ("Keras's default" if spec.activation == "tanh"
            else "Keras's default: tanh; relu is unbounded")
    text += f'\nACTIVATION = "{spec.activation}"  # every LSTM\'s cell activation ({note})'
    if spec.arch == "embedding":
        text += ("\n# The K - 1 inner edges of K equal bins over [-1, 1], as float32 values "
                 "(PyTorch:\n# torch.linspace(-1, 1, K + 1)[1:-1]). A value on an edge goes to "
                 "the bin above.\nBIN_BOUNDARIES = " + boundaries_literal(spec))
    return text


def keras_source(spec: ModelSpec) -> str:
    """Runnable Keras 3 source building the same architecture, layers named by record key."""
    validate(spec)
    tr = trace(spec, 1)
    build = common.block(f"keras/{spec.arch}.py", "build", spec)
    imports = "import keras\nfrom keras import layers" + (", ops" if "ops." in build else "")
    parts = [
        common.docstring(spec, tr, "Keras 3",
                         "KERAS_BACKEND=torch python this_file.py  (tested on Keras's torch "
                         "backend)"),
        imports,
        keras_constants(spec),
        build,
        common.block("keras/main.py", "main", spec),
    ]
    return common.join(parts)
