"""The rows Keras's own `model.summary()` shows for the exported Keras model, without Keras:
each architecture lists its own (`Arch.keras_rows`, built with lstmae_demo/shapes/keras_rows.py).
"""

from __future__ import annotations

from ..archs import get_arch
from ..shapes.keras_rows import KerasRow
from ..spec import ModelSpec, validate


def keras_rows(spec: ModelSpec) -> list[KerasRow]:
    """The rows of Keras's summary of `keras_source(spec)`'s model, in Keras's order."""
    validate(spec)
    return get_arch(spec.arch).keras_rows(spec)


__all__ = ["KerasRow", "keras_rows"]
