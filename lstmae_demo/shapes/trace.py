"""trace(spec, batch): what every layer does to the tensor's shape, without running the model.

The trace is computed from the spec alone (fast enough for every widget change): each
architecture's module in lstmae_demo/archs/ lists its rows. It is checked against a real
forward pass with hooks (`probe.py`, tests/unit/test_trace.py) and against Keras itself
(tests/unit/test_codegen.py). Each record names the submodule of `build_model(spec)` whose
output it describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..archs import get_arch
from ..spec import ModelSpec, validate
from .records import Code, LayerRecord


@dataclass(frozen=True)
class Trace:
    """The whole model's shape story for one batch size."""

    spec: ModelSpec
    batch: int
    layers: tuple[LayerRecord, ...]
    code: Code  # what the decoder can read of the encoder
    reconstruction_shape: tuple[int, ...]  # (B, T, F): what the loss compares with the input
    notes: tuple[str, ...] = field(default=())

    @property
    def latent(self) -> str:
        """The name of the record whose output is the code."""
        return self.code.record

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self.code.shape

    @property
    def latent_axes(self) -> tuple[str, ...]:
        return self.code.axes

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
        return self.code.per_example

    @property
    def compression(self) -> float:
        """Numbers in per example / numbers in the code: above 1 means a real bottleneck."""
        return self.input_per_example / self.latent_per_example

    @property
    def has_bottleneck(self) -> bool:
        """The decoder reads fewer numbers than the input holds, in a code of fixed size."""
        return self.code.fixed_size and self.latent_per_example < self.input_per_example

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
            "latent_where": self.code.where,
            "latent_fixed_size": self.code.fixed_size,
            "latent_per_example": self.latent_per_example,
            "input_per_example": self.input_per_example,
            "compression": round(self.compression, 4),
            "has_bottleneck": self.has_bottleneck,
            "params_torch": self.params_torch,
            "params_keras": self.params_keras,
            "layers": [r.to_dict() for r in self.layers],
            "notes": list(self.notes),
        }


def _notes(spec: ModelSpec, code: Code, n_in: int) -> tuple[str, ...]:
    """What a learner should know about this model beyond its shapes."""
    notes = []
    if not code.fixed_size:
        notes.append(
            f"No fixed-size code: the decoder can read {code.where}, {code.per_example} numbers "
            f"per example against {n_in} in the input, and that grows with the sequence "
            "length. The model can learn to copy instead of to summarise."
        )
    elif code.per_example >= n_in:
        notes.append(
            f"No bottleneck: the code holds {code.per_example} numbers per example, "
            f"the input only {n_in}. The model can learn to copy instead of to summarise."
        )
    if spec.activation == "relu":
        notes.append("ReLU inside an LSTM is unbounded: the cell's candidate g and its output "
                     "h are no longer squashed into (-1, 1), so activations can grow from step "
                     "to step and training can diverge (Keras's default activation is tanh; "
                     "PyTorch's nn.LSTM has no other).")
    notes.append("Keras counts fewer parameters than PyTorch: nn.LSTM has two bias vectors "
                 "(b_ih and b_hh) per gate, Keras one, so 4 x units more per LSTM.")
    return tuple(notes)


def trace(spec: ModelSpec, batch: int = 32) -> Trace:
    """Per-layer shapes, axes and parameter counts for `spec` at this batch size."""
    validate(spec)
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1_000_000:
        raise ValueError(f"batch must be a whole number from 1 to 1000000, got {batch!r}")
    records, code = get_arch(spec.arch).layers(spec, batch)
    return Trace(
        spec=spec, batch=batch, layers=tuple(records), code=code,
        reconstruction_shape=(batch, spec.seq_len, spec.n_features),
        notes=_notes(spec, code, spec.seq_len * spec.n_features),
    )
