"""The rows of a shape trace: one LayerRecord per step of the data flow, the code the decoder
reads, parameter counts as each framework makes them, and builders for the common rows.

Each architecture's module (lstmae_demo/archs/) lists its rows with these builders.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..spec import ModelSpec

BATCH, SEQ, FEATURES, UNITS, BINS, STATE = "batch", "seq", "features", "units", "bins", "layers"


def lstm_params_torch(input_size: int, units: int) -> int:
    """nn.LSTM: 4 gates x (W_ih, W_hh, b_ih, b_hh)."""
    return 4 * (input_size * units + units * units + 2 * units)


def lstm_params_keras(input_size: int, units: int) -> int:
    """Keras LSTM: 4 gates x (kernel, recurrent_kernel, one bias)."""
    return 4 * (input_size * units + units * units + units)


def dense_params(inputs: int, outputs: int) -> int:
    """A Dense / nn.Linear layer: weights plus one bias per output."""
    return inputs * outputs + outputs


@dataclass(frozen=True)
class LayerRecord:
    """One step of the data flow, as both frameworks see it."""

    name: str  # what a learner calls it, e.g. "encoder LSTM"
    kind: str  # Input | Quantize | Embedding | LSTM | RepeatVector | Linear
    keras: str  # how Keras writes this layer
    torch: str  # how PyTorch writes it (and what it takes from the layer's output)
    output_shape: tuple[int, ...]  # the tensor passed on, in PyTorch
    axes: tuple[str, ...]  # a name per axis of output_shape
    keras_shape: tuple[int | None, ...]  # what Keras's summary shows (None = batch)
    params_torch: int
    params_keras: int
    role: str  # input | encoder | latent | decoder | output
    what: str  # one sentence on what this does to the shape
    module: str | None = None  # attribute path in build_model(spec); None for the input
    dtype: str = "float32"
    passes: str = "sequence"  # what the next layer gets: a key of nn.HANDS_ON
    numbers_per_example: int = 0  # how many numbers per example this passes on
    full_output_shape: tuple[int, ...] | None = None  # an LSTM's whole `output`, before taking
    h_n: tuple[int, ...] | None = None  # (layers x directions, batch, units)
    c_n: tuple[int, ...] | None = None

    @property
    def key(self) -> str:
        """An identifier for the layer, e.g. "encoder_lstm_2" (Keras layer names use it)."""
        return self.name.lower().replace(" ", "_")

    @property
    def is_sequence(self) -> bool:
        """A sequence (batch, seq, ...) rather than one vector per example."""
        return SEQ in self.axes

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, with is_sequence."""
        out = asdict(self)
        out["is_sequence"] = self.is_sequence
        out["key"] = self.key
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclass(frozen=True)
class Code:
    """What the decoder can read of the encoder: the model's code (its "latent")."""

    record: str  # the name of the record whose output holds it
    shape: tuple[int, ...]  # its shape for the traced batch
    axes: tuple[str, ...]
    per_example: int  # how many numbers per example the decoder can read
    where: str  # in words, e.g. "the encoder LSTM's last output"
    fixed_size: bool = True  # False when it grows with the sequence length


def code_of(rec: LayerRecord, where: str, fixed_size: bool = True) -> Code:
    """The code is exactly what record `rec` passes on."""
    return Code(rec.name, rec.output_shape, rec.axes, rec.numbers_per_example, where, fixed_size)


def keras_act(spec: ModelSpec) -> str:
    """The activation argument as Keras writes it (nothing for its default tanh)."""
    return ", activation='relu'" if spec.activation == "relu" else ""


def torch_lstm(spec: ModelSpec, input_size: int, units: int) -> str:
    """How PyTorch writes this LSTM (nn.LSTM is tanh-only; relu needs our ActLSTM)."""
    if spec.activation == "tanh":
        return f"nn.LSTM({input_size}, {units}, batch_first=True)"
    return f"ActLSTM({input_size}, {units}, activation='relu')  # nn.LSTM is tanh-only"


def per_example(shape: tuple[int, ...]) -> int:
    """Numbers per example in a batch-first shape."""
    return math.prod(shape[1:])


def input_record(spec: ModelSpec, b: int) -> LayerRecord:
    """The input, (batch, seq, features)."""
    shape = (b, spec.seq_len, spec.n_features)
    return LayerRecord(
        name="input", kind="Input", keras=f"Input(shape=({spec.seq_len}, {spec.n_features}))",
        torch=f"x = torch.randn({b}, {spec.seq_len}, {spec.n_features})",
        output_shape=shape, axes=(BATCH, SEQ, FEATURES), keras_shape=(None, *shape[1:]),
        params_torch=0, params_keras=0, role="input", module=None,
        what=f"{spec.seq_len} time steps of {spec.n_features} value(s) per example.",
        numbers_per_example=per_example(shape),
    )


def lstm_record(spec: ModelSpec, b: int, *, name: str, module: str, input_size: int,
                units: int, returns: str, role: str, what: str) -> LayerRecord:
    """An LSTM record; `returns` as in nn.LSTMLayer (and so a key of nn.HANDS_ON)."""
    t = spec.seq_len
    state = (1, b, units)
    common = dict(
        name=name, kind="LSTM", module=module, role=role, what=what,
        params_torch=lstm_params_torch(input_size, units),
        params_keras=lstm_params_keras(input_size, units),
        full_output_shape=(b, t, units), h_n=state, c_n=state,
    )
    act = keras_act(spec)
    base = torch_lstm(spec, input_size, units)
    if returns == "sequence":
        return LayerRecord(
            keras=f"LSTM({units}{act}, return_sequences=True)", torch=f"{base} -> output",
            output_shape=(b, t, units), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, units),
            numbers_per_example=t * units, **common,
        )
    if returns in ("last", "h_n"):
        take = "output[:, -1]" if returns == "last" else "h_n[-1]"
        return LayerRecord(
            keras=f"LSTM({units}{act})", torch=f"{base} -> {take}", passes=returns,
            output_shape=(b, units), axes=(BATCH, UNITS), keras_shape=(None, units),
            numbers_per_example=units, **common,
        )
    if returns == "sequence_state":
        return LayerRecord(
            keras=f"LSTM({units}{act}, return_sequences=True, return_state=True) "
                  "-> [output, h, c]",
            torch=f"{base} -> output, (h_n, c_n)", passes=returns,
            output_shape=(b, t, units), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, units),
            numbers_per_example=t * units + 2 * units, **common,
        )
    if returns == "h_state":
        return LayerRecord(
            keras=f"LSTM({units}{act}, return_state=True) -> [output, h, c]; hand on h only",
            torch=f"{base} -> h_n (c_0 = zeros)", passes=returns,
            output_shape=state, axes=(STATE, BATCH, UNITS), keras_shape=(None, units),
            numbers_per_example=units, **common,
        )
    return LayerRecord(  # "state": hands (h_n, c_n) on
        keras=f"LSTM({units}{act}, return_state=True) -> [output, h, c]",
        torch=f"{base} -> (h_n, c_n)", passes="state",
        output_shape=state, axes=(STATE, BATCH, UNITS), keras_shape=(None, units),
        numbers_per_example=2 * units, **common,
    )


def linear_record(b: int, t: int, inputs: int, outputs: int, out_axis: str, what: str,
                  keras: str | None = None) -> LayerRecord:
    """The per-step output head (nn.Linear on the last axis; Keras Dense)."""
    return LayerRecord(
        name="output Linear", kind="Linear", module="head", role="output", what=what,
        keras=keras or f"TimeDistributed(Dense({outputs}))",
        torch=f"nn.Linear({inputs}, {outputs})  # acts on the last axis, every step",
        output_shape=(b, t, outputs), axes=(BATCH, SEQ, out_axis), keras_shape=(None, t, outputs),
        params_torch=dense_params(inputs, outputs), params_keras=dense_params(inputs, outputs),
        numbers_per_example=t * outputs,
    )


def repeat_record(spec: ModelSpec, b: int, units: int) -> LayerRecord:
    """Keras RepeatVector: the one code vector copied to every step."""
    t = spec.seq_len
    return LayerRecord(
        name="RepeatVector", kind="RepeatVector", module="repeat", role="decoder",
        keras=f"RepeatVector({t})", torch=f"z.unsqueeze(1).repeat(1, {t}, 1)", passes="repeat",
        output_shape=(b, t, units), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, units),
        params_torch=0, params_keras=0, numbers_per_example=t * units,
        what=f"Copies the one code vector to all {t} steps: the decoder sees the same input "
             "at every step, so it must unfold the sequence from its own state.",
    )


