"""ModelSpec: one LSTM autoencoder described as plain, validated, URL-friendly data.

A spec says *what* to build; `archs.build_model` builds it and `shapes.trace` explains it.
Its fields are the model knobs of `settings.KNOBS` (defaults, limits and the architectures
each applies to are stated there and nowhere else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .settings import ARCHS, KNOB, MODEL_FIELDS, check_values, default

ACTIVATIONS: tuple[str, ...] = KNOB["activation"].choices or ()
DECODERS: tuple[str, ...] = KNOB["decoder"].choices or ()
READS: tuple[str, ...] = KNOB["reads"].choices or ()
HANDOFFS: tuple[str, ...] = KNOB["handoff"].choices or ()


class SpecError(ValueError):
    """A spec value is invalid; the message names the field, the value and what is allowed."""


@dataclass(frozen=True)
class ModelSpec:
    """What to build: one LSTM autoencoder, as plain data (field docs: settings.KNOBS)."""

    arch: str = default("arch")  # one of ARCHS
    seq_len: int = default("seq_len")  # T: time steps per series
    n_features: int = default("n_features")  # F: values per time step
    units: int = default("units")  # U: LSTM hidden size (the ECG tutorial's embedding_dim E)
    activation: str = default("activation")  # every LSTM's cell activation: tanh or relu
    bins: int = default("bins")  # embedding: quantisation bins = vocabulary size
    reads: str = default("reads")  # embedding: what the decoder reads of the encoder
    handoff: str = default("handoff")  # encdec_ad: h, or h and c, as the decoder's start
    decoder: str = default("decoder")  # encdec_ad: feed the previous value, or nothing

    def to_dict(self) -> dict[str, str]:
        """Flat dict of strings holding only the fields this architecture uses (for URLs)."""
        return {k: str(getattr(self, k)) for k in MODEL_FIELDS if self.uses(k)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelSpec:
        """Strict parse: raise SpecError on any unknown, malformed or out-of-range value."""
        unknown = sorted(set(values) - set(MODEL_FIELDS))
        if unknown:
            raise SpecError(f"unknown field(s) {unknown}; allowed: {sorted(MODEL_FIELDS)}")
        spec = cls(**{k: parse_field(k, v) for k, v in values.items()})
        validate(spec)
        return spec

    def uses(self, name: str) -> bool:
        """Whether field `name` matters for this spec's architecture."""
        return KNOB[name].applies_to(self.arch)


def parse_field(name: str, raw: Any) -> Any:
    """Convert one raw value (often a URL string) to the field's type, checking its range."""
    if name not in MODEL_FIELDS:
        raise SpecError(f"unknown field {name!r}; allowed: {sorted(MODEL_FIELDS)}")
    try:
        return KNOB[name].parse(raw)
    except ValueError as err:
        raise SpecError(str(err)) from None


def validate(spec: ModelSpec) -> ModelSpec:
    """Check every field and the rules between fields; raise SpecError listing all problems."""
    problems = []
    for f in fields(spec):
        value = getattr(spec, f.name)
        if KNOB[f.name].kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{f.name} must be an int, got {type(value).__name__}")
            continue
        try:
            parse_field(f.name, value)
        except SpecError as err:
            problems.append(str(err))
    if not problems:
        problems = check_values({f.name: getattr(spec, f.name) for f in fields(spec)})
    if problems:
        raise SpecError("; ".join(problems))
    return spec


def preset(name: str) -> ModelSpec:
    """The app's default spec for architecture `name` (every other knob at its default)."""
    if name not in ARCHS:
        raise SpecError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHS)}")
    return ModelSpec(arch=name)


def normalised(spec: ModelSpec) -> ModelSpec:
    """The same model with every field its architecture ignores at its default, so two specs
    that build the same model compare (and hash) equal."""
    return replace(spec, **{k: default(k) for k in MODEL_FIELDS if not spec.uses(k)})
