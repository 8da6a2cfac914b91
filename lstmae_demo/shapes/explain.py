"""Plain-language answers built from a trace: is it a valid autoencoder, where is the bottleneck."""

from __future__ import annotations

from .trace import Trace

VALIDITY = {
    "repeatvector": "Valid: a real encoder-decoder. Keras's LSTM without return_sequences "
    "keeps only the last step's output; RepeatVector hands that one vector to every decoder "
    "step.",
    "embedding": "Runs and trains, but it is not a compressing autoencoder: the encoder passes "
    "on every step's output, so the decoder can copy instead of summarise. It also needs the "
    "values turned into integer token ids first (nn.Embedding rejects floats).",
    "hidden_n": "Valid once fixed: the published code's reshapes assume batch size 1 and one "
    "feature; written with h_n[-1] it works for any batch and any number of features.",
    "encdec_ad": "Valid: the encoder's final state (h, c) becomes the decoder's initial state "
    "and the series is rebuilt backwards; the paper then scores anomalies by how badly each "
    "step is reconstructed.",
}


def named_shape(shape: tuple[int, ...], axes: tuple[str, ...]) -> str:
    """(batch=32, units=16): a shape with its axis names."""
    return "(" + ", ".join(f"{a}={n}" for a, n in zip(axes, shape, strict=True)) + ")"


def bottleneck_sentence(tr: Trace) -> str:
    """Where the code is, how big it is, and whether it is really smaller than the input."""
    rec = tr.record(tr.latent)
    shape = named_shape(rec.output_shape, rec.axes)
    where = {
        "repeatvector": f"the encoder LSTM's last output, {shape}",
        "embedding": f"all the encoder LSTM's outputs, {shape}",
        "hidden_n": f"h_n[-1] of the second encoder LSTM, {shape}",
        "encdec_ad": f"the encoder's final state: h_n and c_n, each {shape}",
    }[tr.spec.arch]
    size = (f"{tr.latent_per_example} numbers per example against {tr.input_per_example} in "
            "the input")
    if tr.has_bottleneck:
        return f"Bottleneck: {where} — {size}, {tr.compression:.2f}x smaller."
    return (f"No bottleneck: the code is {where} — {size}. Nothing forces the model to "
            "summarise.")


def verdict(tr: Trace) -> str:
    """Validity and bottleneck in two sentences."""
    return f"{VALIDITY[tr.spec.arch]} {bottleneck_sentence(tr)}"
