"""LSTM Autoencoder Explorer: four reference LSTM autoencoders, a shape tracer, data, a trainer.

The core package: it imports no streamlit outside `lstmae_demo.ui`.
"""

from .spec import ARCHS, ModelSpec, SpecError, preset

__all__ = ["ARCHS", "ModelSpec", "SpecError", "preset"]
