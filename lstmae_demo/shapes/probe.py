"""Run a real forward pass and catch what every traced layer actually produced (forward hooks).

This is the trace's oracle in the tests, and the Time steps page's source of real activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..archs import Autoencoder, private_copy
from .trace import Trace


@dataclass(frozen=True)
class Observed:
    """What one traced layer really produced in a forward pass."""

    output: torch.Tensor  # the tensor passed on (for a (h, c) hand-off: its h)
    c_n_out: torch.Tensor | None = None  # the c passed on, for a hand-off of a state
    h_n_out: torch.Tensor | None = None  # the h passed on beside every output (sequence_state)
    full_output: torch.Tensor | None = None  # an LSTM's whole `output` sequence
    h_n: torch.Tensor | None = None
    c_n: torch.Tensor | None = None


def probe(model: nn.Module, tr: Trace, x: torch.Tensor) -> dict[str, Observed]:
    """Forward `x` through `model` once; return each traced layer's real outputs by name.

    The model's mode (train/eval) is respected. The hooks go on a private copy of an app
    model (archs.private_copy): a trained model is shared by the learners of its run, who may
    probe it at the same moment.
    A module called several times keeps its last call: EncDec-AD's conditional decoder at
    inference runs its LSTM one step at a time, so its `full_output` is then the last step's.
    """
    if isinstance(model, Autoencoder):
        model = private_copy(model)
    caught: dict[str, dict[str, object]] = {r.name: {} for r in tr.layers}
    handles = []

    def keep(name: str, slot: str):
        def hook(_module, _inputs, output):
            caught[name][slot] = output  # the last call: a loop's inner calls come first
        return hook

    try:
        for rec in tr.layers:
            if rec.module is None:
                continue
            module = model.get_submodule(rec.module)
            handles.append(module.register_forward_hook(keep(rec.name, "out")))
            if rec.kind == "LSTM":
                rnn = module.get_submodule("rnn")
                handles.append(rnn.register_forward_hook(keep(rec.name, "rnn")))
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: _observed(slots, x) for name, slots in caught.items()}


def _observed(slots: dict[str, object], x: torch.Tensor) -> Observed:
    if "out" not in slots:  # the input record
        return Observed(output=x)
    out = slots["out"]
    h_out = c_out = None
    if isinstance(out, tuple) and isinstance(out[1], tuple):  # (output, (h_n, c_n))
        out, (h_out, c_out) = out
    elif isinstance(out, tuple):  # a (h, c) hand-off
        out, c_out = out
    if "rnn" not in slots:
        return Observed(output=out)
    full, (h_n, c_n) = slots["rnn"]
    return Observed(output=out, c_n_out=c_out, h_n_out=h_out, full_output=full, h_n=h_n,
                    c_n=c_n)
