"""trace(spec, batch): what every layer does to the tensor's shape, without running the model.

The trace is computed from the spec alone (fast enough for every widget change) and checked
against a real forward pass with hooks (`probe.py`, tests/test_trace.py) and against Keras
itself (tests/test_codegen.py). Each record names the submodule of `build_model(spec)` whose
output it describes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..spec import ModelSpec, validate

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
    passes: str = "sequence"  # sequence | last | state | repeat | reversed: what the next gets
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
class Trace:
    """The whole model's shape story for one batch size."""

    spec: ModelSpec
    batch: int
    layers: tuple[LayerRecord, ...]
    latent: str  # name of the record whose output is the code
    latent_shape: tuple[int, ...]
    latent_axes: tuple[str, ...]
    reconstruction_shape: tuple[int, ...]  # (B, T, F): what the loss compares with the input
    notes: tuple[str, ...] = field(default=())

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.layers[0].output_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape

    @property
    def params_torch(self) -> int:
        return sum(r.params_torch for r in self.layers)

    @property
    def params_keras(self) -> int:
        return sum(r.params_keras for r in self.layers)

    @property
    def input_per_example(self) -> int:
        return self.spec.seq_len * self.spec.n_features

    @property
    def latent_per_example(self) -> int:
        return self.record(self.latent).numbers_per_example

    @property
    def compression(self) -> float:
        """Numbers in per example / numbers in the latent: above 1 means a real bottleneck."""
        return self.input_per_example / self.latent_per_example

    @property
    def has_bottleneck(self) -> bool:
        return self.latent_per_example < self.input_per_example

    def record(self, name: str) -> LayerRecord:
        """The record called `name`."""
        return next(r for r in self.layers if r.name == name)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (the CLI's `shapes --json`)."""
        return {
            "arch": self.spec.arch,
            "spec": self.spec.to_dict(),
            "batch": self.batch,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "reconstruction_shape": list(self.reconstruction_shape),
            "latent": self.latent,
            "latent_shape": list(self.latent_shape),
            "latent_axes": list(self.latent_axes),
            "latent_per_example": self.latent_per_example,
            "input_per_example": self.input_per_example,
            "compression": round(self.compression, 4),
            "has_bottleneck": self.has_bottleneck,
            "params_torch": self.params_torch,
            "params_keras": self.params_keras,
            "layers": [r.to_dict() for r in self.layers],
            "notes": list(self.notes),
        }


def _keras_act(spec: ModelSpec) -> str:
    return ", activation='relu'" if spec.activation == "relu" else ""


def _torch_lstm(spec: ModelSpec, input_size: int, units: int) -> str:
    if spec.activation == "tanh":
        return f"nn.LSTM({input_size}, {units}, batch_first=True)"
    return f"ActLSTM({input_size}, {units}, activation='relu')  # nn.LSTM is tanh-only"


def _per_example(shape: tuple[int, ...]) -> int:
    return math.prod(shape[1:])


def _input(spec: ModelSpec, b: int) -> LayerRecord:
    shape = (b, spec.seq_len, spec.n_features)
    return LayerRecord(
        name="input", kind="Input", keras=f"Input(shape=({spec.seq_len}, {spec.n_features}))",
        torch=f"x = torch.randn({b}, {spec.seq_len}, {spec.n_features})",
        output_shape=shape, axes=(BATCH, SEQ, FEATURES), keras_shape=(None, *shape[1:]),
        params_torch=0, params_keras=0, role="input", module=None,
        what=f"{spec.seq_len} time steps of {spec.n_features} value(s) per example.",
        numbers_per_example=_per_example(shape),
    )


def _lstm(spec: ModelSpec, b: int, *, name: str, module: str, input_size: int, units: int,
          returns: str, role: str, what: str) -> LayerRecord:
    """An LSTM record; `returns` as in layers.LSTMLayer."""
    t = spec.seq_len
    state = (1, b, units)
    common = dict(
        name=name, kind="LSTM", module=module, role=role, what=what,
        params_torch=lstm_params_torch(input_size, units),
        params_keras=lstm_params_keras(input_size, units),
        full_output_shape=(b, t, units), h_n=state, c_n=state,
    )
    act = _keras_act(spec)
    base = _torch_lstm(spec, input_size, units)
    if returns == "sequence":
        return LayerRecord(
            keras=f"LSTM({units}{act}, return_sequences=True)", torch=f"{base} -> output",
            output_shape=(b, t, units), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, units),
            numbers_per_example=t * units, **common,
        )
    if returns in ("last", "h_n"):
        take = "output[:, -1]" if returns == "last" else "h_n[-1]"
        return LayerRecord(
            keras=f"LSTM({units}{act})", torch=f"{base} -> {take}", passes="last",
            output_shape=(b, units), axes=(BATCH, UNITS), keras_shape=(None, units),
            numbers_per_example=units, **common,
        )
    return LayerRecord(  # "state": hands (h_n, c_n) on
        keras=f"LSTM({units}{act}, return_state=True) -> [output, h, c]",
        torch=f"{base} -> (h_n, c_n)", passes="state",
        output_shape=state, axes=(STATE, BATCH, UNITS), keras_shape=(None, units),
        numbers_per_example=2 * units, **common,
    )


def _linear(b: int, t: int, inputs: int, outputs: int, out_axis: str, what: str,
            keras: str | None = None) -> LayerRecord:
    return LayerRecord(
        name="output Linear", kind="Linear", module="head", role="output", what=what,
        keras=keras or f"TimeDistributed(Dense({outputs}))",
        torch=f"nn.Linear({inputs}, {outputs})  # acts on the last axis, every step",
        output_shape=(b, t, outputs), axes=(BATCH, SEQ, out_axis), keras_shape=(None, t, outputs),
        params_torch=dense_params(inputs, outputs), params_keras=dense_params(inputs, outputs),
        numbers_per_example=t * outputs,
    )


def _repeat(spec: ModelSpec, b: int, units: int) -> LayerRecord:
    t = spec.seq_len
    return LayerRecord(
        name="RepeatVector", kind="RepeatVector", module="repeat", role="decoder",
        keras=f"RepeatVector({t})", torch=f"z.unsqueeze(1).repeat(1, {t}, 1)", passes="repeat",
        output_shape=(b, t, units), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, units),
        params_torch=0, params_keras=0, numbers_per_example=t * units,
        what=f"Copies the one code vector to all {t} steps: the decoder sees the same input "
             "at every step, so it must unfold the sequence from its own state.",
    )


DROPS = "return_sequences=False keeps only the last step's output and throws the other {} away."


def _repeatvector(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], str]:
    t, f, u = spec.seq_len, spec.n_features, spec.units
    return [
        _input(spec, b),
        _lstm(spec, b, name="encoder LSTM", module="encoder", input_size=f, units=u,
              returns="last", role="latent",
              what="Reads all steps; " + DROPS.format(t - 1) + " This vector is the code."),
        _repeat(spec, b, u),
        _lstm(spec, b, name="decoder LSTM", module="decoder", input_size=u, units=u,
              returns="sequence", role="decoder",
              what="return_sequences=True: one output per step, (batch, seq, units)."),
        _linear(b, t, u, f, FEATURES,
                "TimeDistributed applies the same Dense to each step: units -> features."),
    ], "encoder LSTM"


def _embedding(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], str]:
    t, u, k = spec.seq_len, spec.units, spec.bins
    ids = LayerRecord(
        name="quantize", kind="Quantize", module="quantize", role="encoder", dtype="int64",
        keras=f"Reshape(({t},)) + Discretization({k - 1} bin boundaries)",
        torch=f"torch.bucketize(x.squeeze(-1), boundaries, right=True)  # {k} bins",
        output_shape=(b, t), axes=(BATCH, SEQ), keras_shape=(None, t),
        params_torch=0, params_keras=0, numbers_per_example=t,
        what=f"Turns each value into the id of one of {k} bins over [-1, 1]: nn.Embedding "
             "takes integer ids, never floats.",
    )
    embed = LayerRecord(
        name="Embedding", kind="Embedding", module="embed", role="encoder",
        keras=f"Embedding({k}, {u})", torch=f"nn.Embedding({k}, {u})",
        output_shape=(b, t, u), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, u),
        params_torch=k * u, params_keras=k * u, numbers_per_example=t * u,
        what=f"Looks up a learned {u}-vector for each id: adds the units axis.",
    )
    return [
        _input(spec, b), ids, embed,
        _lstm(spec, b, name="encoder LSTM", module="encoder", input_size=u, units=u,
              returns="sequence", role="latent",
              what="Passes on every step's output: the 'code' is seq x units numbers, "
                   "more than the input. Nothing is squeezed."),
        _lstm(spec, b, name="decoder LSTM", module="decoder", input_size=u, units=u,
              returns="sequence", role="decoder",
              what="Reads the encoder's outputs step by step; one output per step."),
        _linear(b, t, u, k, BINS, f"Scores each of the {k} bins at every step; the "
                "reconstruction is the best bin's value (trained with cross-entropy).",
                keras=f"Dense({k})"),
    ], "encoder LSTM"


def _hidden_n(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], str]:
    t, f, e = spec.seq_len, spec.n_features, spec.units
    return [
        _input(spec, b),
        _lstm(spec, b, name="encoder LSTM 1", module="enc1", input_size=f, units=2 * e,
              returns="sequence", role="encoder",
              what=f"rnn1: one output of 2E = {2 * e} units per step."),
        _lstm(spec, b, name="encoder LSTM 2", module="enc2", input_size=2 * e, units=e,
              returns="h_n", role="latent",
              what="rnn2: its final hidden state h_n is the code. h_n is (layers, batch, "
                   "units) even with batch_first=True; h_n[-1] equals output[:, -1]."),
        _repeat(spec, b, e),
        _lstm(spec, b, name="decoder LSTM 1", module="dec1", input_size=e, units=e,
              returns="sequence", role="decoder", what="E -> E units at every step."),
        _lstm(spec, b, name="decoder LSTM 2", module="dec2", input_size=e, units=2 * e,
              returns="sequence", role="decoder", what=f"E -> 2E = {2 * e} units per step."),
        _linear(b, t, 2 * e, f, FEATURES, "nn.Linear on the last axis maps 2E -> features at "
                "every step (Keras would wrap it in TimeDistributed)."),
    ], "encoder LSTM 2"


def _encdec_ad(spec: ModelSpec, b: int) -> tuple[list[LayerRecord], str]:
    t, f, u = spec.seq_len, spec.n_features, spec.units
    fed = ("x(i) in training (teacher forcing), x'(i) at inference"
           if spec.decoder == "conditional" else "nothing (unconditioned)")
    decoder = LayerRecord(
        name="decoder LSTM", kind="LSTM", module="decoder", role="decoder", passes="reversed",
        keras=f"LSTM({u}{_keras_act(spec)}, return_sequences=True)(reversed x, "
              "initial_state=[h, c])",
        torch=f"{_torch_lstm(spec, f, u)}, started from (h_n, c_n), run backwards",
        output_shape=(b, t, u), axes=(BATCH, SEQ, UNITS), keras_shape=(None, t, u),
        params_torch=lstm_params_torch(f, u), params_keras=lstm_params_keras(f, u),
        numbers_per_example=t * u, full_output_shape=(b, t - 1, u), h_n=(1, b, u), c_n=(1, b, u),
        what=f"Starts from the encoder's state: h_D(L) = h_E(L) gives x'(L) first, then each "
             f"step back in time is fed {fed}.",
    )
    return [
        _input(spec, b),
        _lstm(spec, b, name="encoder LSTM", module="encoder", input_size=f, units=u,
              returns="state", role="latent",
              what="Only the final state (h_E, c_E) is kept: it becomes the decoder's "
                   "initial state. No output is passed on."),
        decoder,
        _linear(b, t, u, f, FEATURES, "x'(i) = w^T h_D(i) + b at every step.",
                keras=f"Dense({f})"),
    ], "encoder LSTM"


BUILDERS = {
    "repeatvector": _repeatvector,
    "embedding": _embedding,
    "hidden_n": _hidden_n,
    "encdec_ad": _encdec_ad,
}


def _notes(spec: ModelSpec, latent: LayerRecord, n_in: int) -> tuple[str, ...]:
    """What a learner should know about this model beyond its shapes."""
    notes = []
    if latent.numbers_per_example >= n_in:
        notes.append(
            f"No bottleneck: the code holds {latent.numbers_per_example} numbers per example, "
            f"the input only {n_in}. The model can learn to copy instead of to summarise."
        )
    if spec.activation == "relu":
        notes.append("ReLU inside an LSTM is unbounded: the cell state can grow without limit "
                     "and training can diverge (Keras's default is tanh).")
    notes.append("Keras counts fewer parameters than PyTorch: nn.LSTM has two bias vectors "
                 "(b_ih and b_hh) per gate, Keras one, so 4 x units more per LSTM.")
    return tuple(notes)


def trace(spec: ModelSpec, batch: int = 32) -> Trace:
    """Per-layer shapes, axes and parameter counts for `spec` at this batch size."""
    validate(spec)
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a whole number >= 1, got {batch!r}")
    records, latent = BUILDERS[spec.arch](spec, batch)
    latent_record = next(r for r in records if r.name == latent)
    if spec.arch == "encdec_ad":
        latent_shape, latent_axes = (batch, 2 * spec.units), (BATCH, "h and c")
    else:
        latent_shape, latent_axes = latent_record.output_shape, latent_record.axes
    n_in = spec.seq_len * spec.n_features
    return Trace(
        spec=spec, batch=batch, layers=tuple(records), latent=latent,
        latent_shape=latent_shape, latent_axes=latent_axes,
        reconstruction_shape=(batch, spec.seq_len, spec.n_features),
        notes=_notes(spec, latent_record, n_in),
    )
