"""The one table of settings: every knob's default, limits, URL name and the architectures it
applies to.

The spec (`spec.ModelSpec`), the data (`data.SineConfig`), the trainer's defaults
(`training.TrainConfig`), the URL round-trip, the CLI flags and the sidebar widgets all read
this table; nothing else states a default or a limit. A knob's `name` is its URL parameter,
its widget key, its CLI flag (`--seq-len` for `seq_len`) and, for model knobs, its
`ModelSpec` field. This module imports nothing from the rest of the package.

The limits are the server's: what one learner may ask of a machine shared by a class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# The architectures, in the order the app lists them. Each has one module in lstmae_demo/archs/.
ARCHS: tuple[str, ...] = ("repeatvector", "embedding", "hidden_n", "encdec_ad")

MAX_SHOWN = 40  # characters of a rejected value echoed back in a message


@dataclass(frozen=True)
class Knob:
    """One setting: its group, default, limits, help, and which architectures it applies to."""

    name: str  # URL parameter, widget key, CLI flag, and ModelSpec field for model knobs
    group: str  # model | data | training | view
    label: str  # what the widget says
    default: Any
    help: str
    low: float | None = None  # inclusive limits, enforced on the server
    high: float | None = None
    choices: tuple[str, ...] | None = None
    choice_labels: Mapping[str, str] = field(default_factory=dict)  # choice -> words for it
    step: float | None = None
    archs: tuple[str, ...] = ARCHS  # the architectures this knob applies to
    why_not: str = ""  # why the other architectures ignore it (shown beside a disabled widget)
    # A stricter lower limit for some architectures: arch -> (low, why).
    low_for: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    sources: tuple[str, ...] | None = None  # the data sources it applies to (None: all)
    why_not_source: str = ""  # why the other data sources ignore it

    @property
    def kind(self) -> type:
        """int, float or str: the type every value of this knob has."""
        return type(self.default)

    def applies_to(self, arch: str) -> bool:
        """Whether this knob changes anything for architecture `arch`."""
        return arch in self.archs

    def applies_to_data(self, source: str) -> bool:
        """Whether this knob changes anything for data source `source` (the `data` knob)."""
        return self.sources is None or source in self.sources

    def label_of(self, choice: str) -> str:
        """The words for one of the choices (the choice itself if it has none)."""
        return self.choice_labels.get(choice, choice)

    def parse(self, raw: Any) -> Any:
        """Convert a raw value (a URL string, a CLI argument, a widget value) or raise
        ValueError saying what is wrong and what is allowed."""
        if self.choices is not None:
            text = str(raw).strip()
            if text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, "
                                 f"got {shown(raw)}")
            return text
        if isinstance(raw, bool):
            raise ValueError(f"{self.name} must be a number, got {shown(raw)}")
        if isinstance(raw, int | float) and self.kind is float:
            value = float(raw)
        elif isinstance(raw, int) and self.kind is int:
            value = raw
        else:
            try:
                value = self.kind(str(raw).strip())
            except (ValueError, OverflowError):
                noun = "a whole number" if self.kind is int else "a number"
                raise ValueError(f"{self.name} must be {noun} between {self.low:g} and "
                                 f"{self.high:g}, got {shown(raw)}") from None
        if value != value or not self.low <= value <= self.high:  # value != value: nan
            raise ValueError(f"{self.name} must be between {self.low:g} and {self.high:g} "
                             f"(the server's limit), got {shown(raw)}")
        return value


def shown(raw: Any) -> str:
    """A rejected value as inert, shortened text for a message (never the whole of a long one)."""
    text = repr(str(raw)) if not isinstance(raw, int | float) else repr(raw)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 5] + "…' (cut)"


# The data sources: generated sines, the bundled real series (data.BUNDLED), a learner's upload.
DATA_SOURCES: tuple[str, ...] = ("sine", "nab_jumpsup", "csv")
SINE_ONLY = "a recorded series is cut into windows, not generated"
CUT_ONLY = "sine series are generated whole, one per window"

LEARNING_RATES: tuple[str, ...] = ("0.0003", "0.001", "0.003", "0.01", "0.03", "0.1")

KNOBS: tuple[Knob, ...] = (
    # --- the model ------------------------------------------------------------------------
    Knob("arch", "model", "Architecture", "repeatvector", "which reference architecture",
         choices=ARCHS),
    Knob("seq_len", "model", "Sequence length (T)", 50, "time steps per series (T)",
         low=1, high=200, step=1,
         low_for={"encdec_ad": (2, "EncDec-AD's decoder predicts x'(L) from the encoder's "
                                   "state and then walks back at least one step")}),
    Knob("n_features", "model", "Features per step (F)", 1, "values per time step (F)",
         low=1, high=8, step=1, archs=("repeatvector", "hidden_n", "encdec_ad"),
         why_not="nn.Embedding looks up one token id per time step, so F = 1"),
    Knob("units", "model", "Units (U)", 32, "LSTM hidden size (U; E in the ECG tutorial)",
         low=1, high=256, step=1),
    Knob("activation", "model", "LSTM activation", "tanh",
         "the cell's activation (Keras's LSTM `activation`; PyTorch's nn.LSTM is always tanh)",
         choices=("tanh", "relu")),
    Knob("bins", "model", "Bins", 64, "quantisation bins = the Embedding's vocabulary",
         low=2, high=256, step=1, archs=("embedding",),
         why_not="only the embedding architecture turns values into token ids"),
    Knob("reads", "model", "What the decoder reads", "attention",
         "what the decoder can read of the encoder: this decides whether there is a bottleneck",
         choices=("state", "attention", "steps"),
         choice_labels={
             "state": "final state only",
             "attention": "attention over every output",
             "steps": "every output, step by step",
         },
         archs=("embedding",), why_not="only the embedding architecture offers this choice"),
    Knob("handoff", "model", "State handed to the decoder", "h",
         "what the encoder hands the decoder as its initial state",
         choices=("h", "hc"),
         choice_labels={"h": "h only (the paper)", "hc": "h and c (implementations)"},
         archs=("encdec_ad",), why_not="only encdec_ad hands its state to the decoder"),
    Knob("decoder", "model", "Decoder input", "conditional",
         "what the decoder is fed at each step: the previous value, or nothing",
         choices=("conditional", "unconditioned"),
         choice_labels={"conditional": "conditional (previous value)",
                        "unconditioned": "unconditioned (nothing)"},
         archs=("encdec_ad",), why_not="only encdec_ad's decoder has this choice"),
    Knob("batch", "view", "Batch size for the shapes", 32, "the batch axis of every tensor shown",
         low=1, high=512, step=1),
    # --- the data -------------------------------------------------------------------------
    Knob("data", "data", "Data", "sine", "what the model learns to reconstruct: generated "
         "sine waves, a real series bundled with the app, or your own CSV file (a file cannot "
         "travel in a link)", choices=DATA_SOURCES,
         choice_labels={"sine": "sine waves", "nab_jumpsup": "NAB art_daily (real)",
                        "csv": "your CSV file"}),
    Knob("n_series", "data", "Training series", 512,
         "sine series to train on (validation: a quarter as many more)", low=16, high=2048,
         step=16, sources=("sine",), why_not_source=SINE_ONLY),
    Knob("freq_min", "data", "Lowest frequency", 1.0, "cycles per window", low=0.5, high=10.0,
         step=0.5, sources=("sine",), why_not_source=SINE_ONLY),
    Knob("freq_max", "data", "Highest frequency", 3.0, "cycles per window", low=0.5, high=10.0,
         step=0.5, sources=("sine",), why_not_source=SINE_ONLY),
    Knob("noise", "data", "Noise", 0.02, "standard deviation of Gaussian noise added",
         low=0.0, high=0.5, step=0.01, sources=("sine",), why_not_source=SINE_ONLY),
    Knob("stride", "data", "Window stride", 25, "rows between the starts of two windows cut "
         "from a long series (below T: windows overlap)", low=1, high=200, step=1,
         sources=("nab_jumpsup", "csv"), why_not_source=CUT_ONLY),
    Knob("seed", "data", "Seed", 0, "same seed, same data and the same initial weights",
         low=0, high=1_000_000, step=1),
    # --- the training ---------------------------------------------------------------------
    Knob("epochs", "training", "Epochs", 100, "passes over the training series",
         low=1, high=300, step=1),
    Knob("batch_size", "training", "Batch size", 16, "series per optimiser step",
         low=1, high=512, step=1),
    Knob("lr", "training", "Learning rate", "0.003", "Adam's step size",
         choices=LEARNING_RATES),
)
KNOB: Mapping[str, Knob] = MappingProxyType({k.name: k for k in KNOBS})
MODEL_FIELDS: tuple[str, ...] = tuple(k.name for k in KNOBS if k.group == "model")


def default(name: str) -> Any:
    """The default value of knob `name` (for dataclass field defaults elsewhere)."""
    return KNOB[name].default


def defaults() -> dict[str, Any]:
    """Every knob at its default."""
    return {k.name: k.default for k in KNOBS}


def knobs_for(group: str) -> tuple[Knob, ...]:
    """The knobs of one group, in table order."""
    return tuple(k for k in KNOBS if k.group == group)


def check_values(values: Mapping[str, Any]) -> list[str]:
    """The rules between knobs that one knob's range cannot say, as messages (empty: fine)."""
    problems = []
    arch = values.get("arch", default("arch"))
    for knob in KNOBS:
        if knob.name not in values:
            continue
        value = values[knob.name]
        if not knob.applies_to(arch) and value != knob.default:
            if knob.name == "n_features":  # a different F would change the model's input
                problems.append(f"{arch} needs {knob.name} = {knob.default}: {knob.why_not}, "
                                f"got {knob.name} = {shown(value)}")
        elif arch in knob.low_for and isinstance(value, int) and value < knob.low_for[arch][0]:
            low, why = knob.low_for[arch]
            problems.append(f"{arch} needs {knob.name} >= {low}: {why}; got {value}")
    return problems


def parse_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Lenient parse of a URL's parameters: good values kept, each bad one replaced by its
    default with a note saying what was wrong and what is allowed."""
    values, notes = defaults(), []
    for name, raw in params.items():
        if name not in KNOB:
            continue  # other apps' or Streamlit's own parameters are not ours to judge
        try:
            values[name] = KNOB[name].parse(raw)
        except ValueError as err:
            notes.append(f"{err}; using {KNOB[name].default}")
    arch = values["arch"]
    for knob in KNOBS:  # an architecture's stricter lower limit
        if arch in knob.low_for and values[knob.name] < knob.low_for[arch][0]:
            low, why = knob.low_for[arch]
            notes.append(f"{arch} needs {knob.name} >= {low}: {why}; using {knob.default}")
            values[knob.name] = knob.default
    return values, notes


def recorded_values(data: Mapping[str, Any], training: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], list[str]]:
    """The data and training knobs that a weights file's `data` and `training` settings
    record, as knob values, so loading a file shows how it was trained. A recorded value
    outside this server's limits is left out, with a note. An uploaded CSV is not stored in
    the file, so a CSV source is not taken (the sidebar's data stays if the model fits it)."""
    recorded = {**training, **data}
    values: dict[str, Any] = {}
    notes: list[str] = []
    if data.get("source") in DATA_SOURCES and data.get("source") != "csv":
        values["data"] = data["source"]
    for knob in knobs_for("data") + knobs_for("training"):
        if knob.name == "data" or knob.name not in recorded:
            continue
        try:
            values[knob.name] = knob.parse(recorded[knob.name])
        except ValueError as err:
            notes.append(f"the file's {err}; the sidebar's {knob.name} is kept")
    return values, notes


def to_params(values: Mapping[str, Any]) -> dict[str, str]:
    """The URL query for these values: only those that differ from their defaults."""
    return {k.name: str(values[k.name]) for k in KNOBS
            if k.name in values and values[k.name] != k.default}
