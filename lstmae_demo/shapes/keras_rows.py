"""The rows Keras's own `model.summary()` prints for an exported Keras model, and builders for
them; each architecture's module (lstmae_demo/archs/) lists its rows with these.

One `KerasRow` per entry of `model.layers`, in that order (Keras lists a functional model's
layers by depth from the output; the exported code creates them in the same order). A row that
a trace record describes is named by the record's key and says so in `key`; the other rows are
the steps Keras needs besides (a reshape, zeros, a flip) and say why in `note`.
tests/unit/test_codegen_keras.py builds the exported code in Keras and compares every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import ModelSpec
from .records import dense_params, lstm_params_keras

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


def record(name: str, kind: str, *shapes: Shape, params: int = 0) -> KerasRow:
    """A row that the trace record with key `name` describes."""
    return KerasRow(name, kind, tuple(shapes), params, key=name)


def extra(name: str, kind: str, shape: Shape, note: str) -> KerasRow:
    """A row Keras needs that no trace record describes (no parameters)."""
    return KerasRow(name, kind, (shape,), 0, note=note)


def lstm(name: str, inputs: int, units: int, *shapes: Shape) -> KerasRow:
    return record(name, "LSTM", *shapes, params=lstm_params_keras(inputs, units))


def input_row(spec: ModelSpec) -> KerasRow:
    return record("input", "InputLayer", (None, spec.seq_len, spec.n_features))


def head(spec: ModelSpec, inputs: int, outputs: int, kind: str) -> KerasRow:
    return record("output_linear", kind, (None, spec.seq_len, outputs),
                   params=dense_params(inputs, outputs))
