"""Model specs: an LSTM autoencoder described as plain, validated, URL-friendly data.

A spec says *what* to build; `models.build_model` builds it and `trace.trace` explains it.
Every field is declared once in `FIELDS` (type, range, which architectures use it, help text),
so validation, the URL round-trip, the CLI and the web widgets all read the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

ARCHS: tuple[str, ...] = ("repeatvector", "embedding", "hidden_n", "encdec_ad")
ACTIVATIONS: tuple[str, ...] = ("tanh", "relu")
DECODERS: tuple[str, ...] = ("conditional", "unconditioned")

ARCH_TITLES: Mapping[str, str] = {
    "repeatvector": "Keras: last output + RepeatVector + TimeDistributed(Dense)",
    "embedding": "PyTorch: Embedding -> LSTM passing on every output",
    "hidden_n": "PyTorch: two LSTMs, latent = final hidden state h_n",
    "encdec_ad": "Malhotra et al. 2016 (EncDec-AD): state hand-off, reversed decoding",
}

ARCH_SOURCES: Mapping[str, str] = {
    "repeatvector": "Brownlee, 'A Gentle Introduction to LSTM Autoencoders' (Keras)",
    "embedding": "PyTorch seq2seq translation tutorial's encoder, with an LSTM",
    "hidden_n": "'Time Series Anomaly Detection using LSTM Autoencoders with PyTorch' (ECG5000)",
    "encdec_ad": "Malhotra et al. 2016, arXiv 1607.00148",
}


class SpecError(ValueError):
    """A spec value is invalid; the message names the field, the value and what is allowed."""


@dataclass(frozen=True)
class Field:
    """One spec field: its type, allowed values and which architectures use it."""

    kind: type
    help: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] | None = None
    archs: tuple[str, ...] = ARCHS


# The one table of spec fields. `high` values are hard caps that keep a shared server usable.
FIELDS: Mapping[str, Field] = {
    "arch": Field(str, "which reference architecture", choices=ARCHS),
    "seq_len": Field(int, "time steps per series (T)", low=2, high=400),
    "n_features": Field(int, "values per time step (F)", low=1, high=16),
    "units": Field(int, "LSTM hidden size (U; E in the ECG tutorial)", low=1, high=512),
    "activation": Field(
        str, "LSTM cell activation (Keras `activation`; PyTorch's nn.LSTM is tanh only)",
        choices=ACTIVATIONS,
    ),
    "bins": Field(int, "quantisation bins = Embedding vocabulary", low=2, high=512,
                  archs=("embedding",)),
    "decoder": Field(
        str, "decoder input: conditional (previous value) or unconditioned (none)",
        choices=DECODERS, archs=("encdec_ad",),
    ),
}


@dataclass(frozen=True)
class ModelSpec:
    """What to build: one LSTM autoencoder, as plain data."""

    arch: str = "repeatvector"  # one of ARCHS
    seq_len: int = 50  # T: time steps per series
    n_features: int = 1  # F: values per time step
    units: int = 32  # U: LSTM hidden size (the ECG tutorial's embedding_dim E)
    activation: str = "tanh"  # cell activation of every LSTM: tanh (default) or relu
    bins: int = 64  # embedding only: quantisation bins over [-1, 1] = vocabulary size
    decoder: str = "conditional"  # encdec_ad only: feed the previous value, or nothing

    def to_dict(self) -> dict[str, str]:
        """Flat dict of strings holding only the fields this architecture uses (for URLs)."""
        return {k: str(v) for k, v in asdict(self).items() if self.arch in FIELDS[k].archs}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelSpec:
        """Strict parse: raise SpecError on any unknown, malformed or out-of-range value."""
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            raise SpecError(f"unknown field(s) {unknown}; allowed: {sorted(FIELDS)}")
        parsed = {k: parse_field(k, v) for k, v in values.items()}
        spec = replace(preset(parsed.get("arch", "repeatvector")), **parsed)
        validate(spec)
        return spec

    def uses(self, name: str) -> bool:
        """Whether field `name` matters for this spec's architecture."""
        return self.arch in FIELDS[name].archs


def parse_field(name: str, raw: Any) -> Any:
    """Convert one raw value (often a URL string) to the field's type, checking its range."""
    if name not in FIELDS:
        raise SpecError(f"unknown field {name!r}; allowed: {sorted(FIELDS)}")
    info = FIELDS[name]
    if info.kind is int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise SpecError(f"{name} must be a whole number, got {raw!r}") from None
        if (info.low is not None and value < info.low) or (
            info.high is not None and value > info.high
        ):
            raise SpecError(f"{name} must be between {info.low} and {info.high}, got {value}")
        return value
    value = str(raw).strip()
    if info.choices is not None and value not in info.choices:
        raise SpecError(f"{name} must be one of {', '.join(info.choices)}; got {value!r}")
    return value


def validate(spec: ModelSpec) -> ModelSpec:
    """Check every field and the rules between fields; raise SpecError listing all problems."""
    problems = []
    for f in fields(spec):
        try:
            parse_field(f.name, getattr(spec, f.name))
        except SpecError as err:
            problems.append(str(err))
        if FIELDS[f.name].kind is int and not isinstance(getattr(spec, f.name), int):
            problems.append(f"{f.name} must be an int, got {type(getattr(spec, f.name)).__name__}")
    if spec.arch == "embedding" and spec.n_features != 1:
        problems.append(
            "embedding needs n_features = 1: nn.Embedding looks up one token id per time "
            f"step, got n_features = {spec.n_features}"
        )
    if problems:
        raise SpecError("; ".join(problems))
    return spec


def spec_from_params(params: Mapping[str, Any], base: ModelSpec | None = None
                     ) -> tuple[ModelSpec, list[str]]:
    """Lenient parse for URLs: keep the valid values, fall back to defaults, list what was wrong."""
    notes: list[str] = []
    arch = params.get("arch", (base or ModelSpec()).arch)
    try:
        arch = parse_field("arch", arch)
    except SpecError as err:
        notes.append(f"{err}; using repeatvector")
        arch = "repeatvector"
    spec = base if base is not None and base.arch == arch else preset(arch)
    for name in FIELDS:
        if name == "arch" or name not in params:
            continue
        try:
            spec = replace(spec, **{name: parse_field(name, params[name])})
        except SpecError as err:
            notes.append(f"{err}; using {getattr(spec, name)}")
    try:
        validate(spec)
    except SpecError as err:
        notes.append(f"{err}; using the {arch} defaults")
        spec = preset(arch)
    return spec, notes


# App defaults per architecture: sizes a 2-core server trains in seconds (see README).
PRESETS: Mapping[str, ModelSpec] = {
    "repeatvector": ModelSpec(arch="repeatvector", units=32),
    "embedding": ModelSpec(arch="embedding", units=32, bins=64),
    "hidden_n": ModelSpec(arch="hidden_n", units=32),
    "encdec_ad": ModelSpec(arch="encdec_ad", units=32),
}

# The sizes the two published tutorials use (REFERENCES.md): counts are checked in tests.
PUBLISHED: Mapping[str, ModelSpec] = {
    "repeatvector": ModelSpec(arch="repeatvector", seq_len=9, n_features=1, units=100,
                              activation="relu"),
    "hidden_n": ModelSpec(arch="hidden_n", seq_len=140, n_features=1, units=128),
}


def preset(name: str) -> ModelSpec:
    """The app's default spec for architecture `name`."""
    if name not in PRESETS:
        raise SpecError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHS)}")
    return PRESETS[name]
