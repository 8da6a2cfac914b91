"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from lstmae_demo.spec import ACTIVATIONS, ARCHS, DECODERS, ModelSpec


def valid_specs(max_seq_len: int = 12, max_features: int = 4, max_units: int = 12,
                max_bins: int = 20) -> st.SearchStrategy[ModelSpec]:
    """Random valid specs of every architecture (small, so a forward pass is quick)."""
    return st.builds(
        ModelSpec,
        arch=st.sampled_from(ARCHS),
        seq_len=st.integers(2, max_seq_len),
        n_features=st.integers(1, max_features),
        units=st.integers(1, max_units),
        activation=st.sampled_from(ACTIVATIONS),
        bins=st.integers(2, max_bins),
        decoder=st.sampled_from(DECODERS),
    ).map(lambda s: dataclasses.replace(s, n_features=1) if s.arch == "embedding" else s)
