"""The architecture registry: one module per architecture, each with its `Arch` entry.

    get_arch("hidden_n").title / .source / .validity(spec) / .layers(spec, batch) / .pitfalls
    build_model(spec, seed=0)  # the nn.Module, with the same initial weights for a seed

Adding an architecture: a module here defining its model (with `encode`, `code_parts` and
`code_output`), its trace rows, its Keras summary rows and its `ARCH`; its name in `REGISTRY`
below and in `settings.ARCHS` (the knob table); and its exported code as two real files,
lstmae_demo/codegen/templates/{pytorch,keras}/<name>.py.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

import torch
from torch import nn

from ..settings import ARCHS
from ..spec import ModelSpec, SpecError, validate
from . import embedding, encdec_ad, hidden_n, repeatvector
from .base import Arch, Autoencoder

REGISTRY: Mapping[str, Arch] = MappingProxyType({
    m.ARCH.name: m.ARCH for m in (repeatvector, embedding, hidden_n, encdec_ad)
})
assert tuple(REGISTRY) == ARCHS, "settings.ARCHS and the registry must list the same archs"

# The sizes the published sources use, where they state them (their counts are tested).
PUBLISHED: Mapping[str, ModelSpec] = MappingProxyType(
    {name: a.published for name, a in REGISTRY.items() if a.published is not None})


def get_arch(name: str) -> Arch:
    """The registry entry of architecture `name`."""
    if name not in REGISTRY:
        raise SpecError(f"unknown architecture {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


# Models draw their initial weights from torch's one global generator; a seeded build forks and
# reseeds it. Two threads building at once (two learners pressing Train) would draw from each
# other's stream, so every build holds this lock.
_BUILD_LOCK = threading.Lock()


def build_model(spec: ModelSpec, seed: int | None = None) -> Autoencoder:
    """A fresh model for `spec`; with `seed`, the same initial weights every time (thread-safe)."""
    validate(spec)
    model_class = get_arch(spec.arch).model
    with _BUILD_LOCK:
        if seed is None:
            return model_class(spec)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return model_class(spec)


def private_copy(model: Autoencoder) -> Autoencoder:
    """A model of its own with `model`'s weights and mode, for hooks: a trained model is
    shared by every learner of its run, and a hook on it would catch their forward passes
    too (a deep copy would also copy any hook another page holds on it at that moment)."""
    own = build_model(model.spec, seed=0)  # seeded: draws nothing from torch's global RNG
    own.load_state_dict(model.state_dict())
    return own.train(model.training)


def count_params(module: nn.Module) -> int:
    """Trainable parameters, as PyTorch counts them."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["PUBLISHED", "REGISTRY", "Arch", "Autoencoder", "build_model", "count_params",
           "get_arch", "private_copy"]
