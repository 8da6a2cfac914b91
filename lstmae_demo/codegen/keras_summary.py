"""The rows Keras's own `model.summary()` shows for the exported Keras model, without Keras.

One `KerasRow` per entry of `model.layers` of `keras_source(spec)`'s build(), in that order
(Keras lists a functional model's layers by depth from the output; the exported code creates
them in the same order, so it reads like its summary). A row that a trace record describes is
named by the record's key and says so in `key`; the other rows are the steps Keras needs
besides (a reshape, zeros, a flip) and say why in `note`. tests/unit/test_codegen_keras.py
builds the exported code in Keras and compares every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..shapes.records import dense_params, lstm_params_keras
from ..spec import ModelSpec, validate

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class KerasRow:
    """One row of Keras's summary of the exported model (one entry of `model.layers`)."""

    name: str  # layer.name
    kind: str  # layer.__class__.__name__, e.g. "LSTM", "Lambda", "InputLayer"
    output_shapes: tuple[Shape, ...]  # one per output (LSTM with return_state: three); None = batch
    params: int  # layer.count_params()
    key: str | None = None  # the trace record (LayerRecord.key) this row is, if any
    note: str = ""  # for a row without a record: why Keras needs it

    @property
    def output_shape(self) -> str:
        """The shape column as Keras prints it: "(None, 50, 32)", or a list for several."""
        shapes = [f"({', '.join(str(d) for d in s)})" for s in self.output_shapes]
        return shapes[0] if len(shapes) == 1 else f"[{', '.join(shapes)}]"


def keras_rows(spec: ModelSpec) -> list[KerasRow]:
    """The rows of Keras's summary of `keras_source(spec)`'s model, in Keras's order."""
    validate(spec)
    return {
        "repeatvector": _repeatvector,
        "hidden_n": _hidden_n,
        "embedding": _embedding,
        "encdec_ad": _encdec_ad,
    }[spec.arch](spec)


def _record(name: str, kind: str, *shapes: Shape, params: int = 0) -> KerasRow:
    """A row that the trace record with key `name` describes."""
    return KerasRow(name, kind, tuple(shapes), params, key=name)


def _extra(name: str, kind: str, shape: Shape, note: str) -> KerasRow:
    """A row Keras needs that no trace record describes (no parameters)."""
    return KerasRow(name, kind, (shape,), 0, note=note)


def _lstm(name: str, inputs: int, units: int, *shapes: Shape) -> KerasRow:
    return _record(name, "LSTM", *shapes, params=lstm_params_keras(inputs, units))


def _input(spec: ModelSpec) -> KerasRow:
    return _record("input", "InputLayer", (None, spec.seq_len, spec.n_features))


def _head(spec: ModelSpec, inputs: int, outputs: int, kind: str) -> KerasRow:
    return _record("output_linear", kind, (None, spec.seq_len, outputs),
                   params=dense_params(inputs, outputs))


def _repeatvector(spec: ModelSpec) -> list[KerasRow]:
    t, f, u = spec.seq_len, spec.n_features, spec.units
    return [
        _input(spec),
        _lstm("encoder_lstm", f, u, (None, u)),
        _record("repeatvector", "RepeatVector", (None, t, u)),
        _lstm("decoder_lstm", u, u, (None, t, u)),
        _head(spec, u, f, "TimeDistributed"),
    ]


def _hidden_n(spec: ModelSpec) -> list[KerasRow]:
    t, f, e = spec.seq_len, spec.n_features, spec.units
    return [
        _input(spec),
        _lstm("encoder_lstm_1", f, 2 * e, (None, t, 2 * e)),
        _lstm("encoder_lstm_2", 2 * e, e, (None, e)),
        _record("repeatvector", "RepeatVector", (None, t, e)),
        _lstm("decoder_lstm_1", e, e, (None, t, e)),
        _lstm("decoder_lstm_2", e, 2 * e, (None, t, 2 * e)),
        _head(spec, 2 * e, f, "TimeDistributed"),
    ]


def _embedding(spec: ModelSpec) -> list[KerasRow]:
    t, u, k, reads = spec.seq_len, spec.units, spec.bins, spec.reads
    rows = [
        _input(spec),
        _extra("drop_feature_axis", "Reshape", (None, t),
               "Discretization bins a (batch, T) tensor: the one feature axis goes."),
        _record("quantize", "Discretization", (None, t)),
        _record("embedding", "Embedding", (None, t, u), params=k * u),
    ]
    if reads == "steps":
        return rows + [
            _lstm("encoder_lstm", u, u, (None, t, u)),
            _lstm("decoder_lstm", u, u, (None, t, u)),
            _head(spec, u, k, "Dense"),
        ]
    encoder_out = (None, t, u) if reads == "attention" else (None, u)
    rows += [
        _extra("zero_inputs", "Lambda", (None, t, 1),
               "The decoder is fed nothing: zeros, one value per step."),
        _lstm("encoder_lstm", u, u, encoder_out, (None, u), (None, u)),  # [output, h, c]
        _lstm("decoder_lstm", 1, u, (None, t, u)),
    ]
    if reads == "state":
        return rows + [_head(spec, u, k, "Dense")]
    return rows + [
        _record("attention", "Attention", (None, t, u)),
        _record("concat", "Concatenate", (None, t, 2 * u)),
        _head(spec, 2 * u, k, "Dense"),
    ]


def _encdec_ad(spec: ModelSpec) -> list[KerasRow]:
    t, f, u = spec.seq_len, spec.n_features, spec.units
    rows = [
        _input(spec),
        _lstm("encoder_lstm", f, u, (None, u), (None, u), (None, u)),  # [output, h, c]
    ]
    if spec.decoder == "conditional":
        rows.append(_extra("reversed_inputs", "Lambda", (None, t - 1, f),
                           "Teacher forcing: the decoder is fed x(L), ..., x(2), backwards."))
    else:
        rows.append(_extra("zero_inputs", "Lambda", (None, t - 1, f),
                           "The unconditioned decoder is fed nothing: T-1 steps of zeros."))
    if spec.handoff == "h":
        rows.append(_extra("zero_cell_state", "Lambda", (None, u),
                           "Only h is handed over: the decoder's cell state starts at zero."))
    return rows + [
        _extra("h_d_last", "Reshape", (None, 1, u),
               "h_D(L) = h_E(L), the decoder's first state, as one time step."),
        _lstm("decoder_lstm", f, u, (None, t - 1, u)),
        _extra("decoder_states", "Concatenate", (None, t, u),
               "h_D(L) before the LSTM's T-1 steps h_D(L-1) ... h_D(1)."),
        _extra("time_order", "Lambda", (None, t, u),
               "Flipped back into time order: h_D(1) ... h_D(L)."),
        _head(spec, u, f, "Dense"),
    ]
