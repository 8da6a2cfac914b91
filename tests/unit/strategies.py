"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from lstmae_demo.settings import KNOB
from lstmae_demo.spec import ACTIVATIONS, ARCHS, DECODERS, HANDOFFS, READS, ModelSpec, normalised


def valid_specs(max_seq_len: int = 12, max_features: int = 4, max_units: int = 12,
                max_bins: int = 20) -> st.SearchStrategy[ModelSpec]:
    """Random valid specs of every architecture and choice (small: a forward pass is quick)."""
    return st.builds(
        ModelSpec,
        arch=st.sampled_from(ARCHS),
        seq_len=st.integers(1, max_seq_len),
        n_features=st.integers(1, max_features),
        units=st.integers(1, max_units),
        activation=st.sampled_from(ACTIVATIONS),
        bins=st.integers(2, max_bins),
        reads=st.sampled_from(READS),
        handoff=st.sampled_from(HANDOFFS),
        decoder=st.sampled_from(DECODERS),
    ).map(_fit_the_arch)


def _fit_the_arch(spec: ModelSpec) -> ModelSpec:
    """Knobs the arch ignores at their defaults; EncDec-AD's lower limit on T."""
    spec = normalised(spec)
    low = KNOB["seq_len"].low_for.get(spec.arch, (1, ""))[0]
    return spec if spec.seq_len >= low else dataclasses.replace(spec, seq_len=low)
