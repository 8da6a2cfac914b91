"""Plain-language answers built from a trace: is it a valid autoencoder, where is the bottleneck.

Every sentence follows the spec's choices (what the decoder reads, what is handed over) and
the trace's numbers; nothing is canned per architecture alone.
"""

from __future__ import annotations

from ..archs import get_arch
from .trace import Trace


def named_shape(shape: tuple[int, ...], axes: tuple[str, ...]) -> str:
    """(batch=32, units=16): a shape with its axis names."""
    return "(" + ", ".join(f"{a}={n}" for a, n in zip(axes, shape, strict=True)) + ")"


def bottleneck_sentence(tr: Trace) -> str:
    """Where the code is, how big it is, and whether it is really smaller than the input."""
    code = tr.code
    size = f"{code.per_example} numbers per example against {tr.input_per_example} in the input"
    if not code.fixed_size:
        return (f"No bottleneck: the decoder can read {code.where} — {size}, and that grows "
                "with the sequence length. Nothing forces the model to summarise.")
    where = f"{code.where} {named_shape(code.shape, code.axes)}"
    if tr.has_bottleneck:
        return f"Bottleneck: {where} — {size}, {tr.compression:.2f}x smaller."
    return (f"No bottleneck at these sizes: the code is {where} — {size}. Nothing forces the "
            "model to summarise; fewer units would make it one.")


def validity(tr: Trace) -> str:
    """Whether this is a valid autoencoder, and why, for the spec's choices."""
    return get_arch(tr.spec.arch).validity(tr.spec)


def verdict(tr: Trace) -> str:
    """Validity and bottleneck in a few sentences."""
    return f"{validity(tr)} {bottleneck_sentence(tr)}"
