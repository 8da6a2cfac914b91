"""What every architecture module provides: an `Arch` entry for the registry and a model class
with the common `Autoencoder` interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..shapes.keras_rows import KerasRow
from ..shapes.records import Code, LayerRecord
from ..spec import ModelSpec


class Autoencoder(nn.Module):
    """Common interface: forward, encode, reconstruct, loss.

    Every model maps x (B, T, F) floats to its raw output. The attribute names of its
    submodules are the `module` paths in the shape trace, so a hook on each checks the trace.
    """

    spec: ModelSpec
    loss_name: str = "MSE"  # what `loss` computes, for the axis of a loss chart

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Everything the decoder can read of the encoder, flattened: (B, numbers)."""
        raise NotImplementedError

    @staticmethod
    def code_parts(spec: ModelSpec) -> tuple[tuple[str, int], ...]:
        """The named parts of what `encode` returns, in its order, with their numbers per
        example (they add up to `encode`'s width)."""
        raise NotImplementedError

    def code_output(self, codes: torch.Tensor) -> object:
        """`encode`'s inverse: flattened codes (B, numbers) in the form the code's module
        (the trace's code record) returns them, for a hook to hand the decoder."""
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction as values: (B, T, F)."""
        return self(x)

    def loss(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Mean squared error between the reconstruction and the input."""
        return F.mse_loss(output, x)


@dataclass(frozen=True)
class Arch:
    """One reference architecture: everything the app knows about it, in one place."""

    name: str  # the URL / CLI value
    title: str  # one line for a menu
    source: str  # where it is published (or that it is our own construction)
    source_url: str
    model: type[Autoencoder]  # built as model(spec)
    layers: Callable[[ModelSpec, int], tuple[list[LayerRecord], Code]]  # the trace's rows
    validity: Callable[[ModelSpec], str]  # is it a valid autoencoder, and why (choice-aware)
    pitfalls: tuple[str, ...]  # keys of lstmae_demo.pitfalls, in teaching order
    code_class: str  # the class name in the exported PyTorch code
    keras_rows: Callable[[ModelSpec], list[KerasRow]]  # what Keras's summary() prints
    published: ModelSpec | None = None  # the sizes its source uses, if it states them
