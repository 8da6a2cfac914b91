"""Source code for a spec: a self-contained PyTorch script and the same model in Keras 3.

`pytorch_source(spec)` writes a script that needs only torch and defines exactly the model that
`archs.build_model(spec)` builds: the same submodule attributes and parameter names, so its
`load_state_dict(build_model(spec).state_dict())` works and the two compute the same numbers.
`keras_source(spec)` writes the same architecture in Keras 3, every traced layer named by its
record's `key`; `keras_rows(spec)` lists the rows Keras's own summary shows for that model.
Both scripts offer `build()` and a `__main__` block that runs one batch. The code is in real,
lintable template files under templates/ (see templating.py). This package only writes text:
it imports neither keras nor streamlit (tests/unit/test_codegen*.py run the generated code
against the real thing).
"""

from __future__ import annotations

from .keras_code import keras_source, keras_weight_layers
from .keras_summary import KerasRow, keras_rows
from .pytorch_code import pytorch_source

__all__ = ["KerasRow", "keras_rows", "keras_source", "keras_weight_layers", "pytorch_source"]
