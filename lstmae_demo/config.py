"""The web app's whole configuration as one table of knobs, round-tripping through the URL.

One `Knob` per setting (model, data, training) with its default, server-side limit and help,
so the sidebar widgets, the URL parser and the tests read the same facts. No streamlit here:
`lstmae_demo.ui.sidebar` draws these knobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .data import SineConfig
from .spec import ACTIVATIONS, ARCHS, DECODERS, FIELDS, ModelSpec, preset
from .training import TrainConfig

LEARNING_RATES: tuple[str, ...] = ("0.0003", "0.001", "0.003", "0.01", "0.03", "0.1")


@dataclass(frozen=True)
class Knob:
    """One setting: where it goes, its default, its limits and what a learner reads about it."""

    name: str  # the URL parameter and the widget key
    group: str  # model | data | training
    label: str
    default: Any
    help: str
    low: float | None = None  # server-side limits: one user cannot freeze a shared server
    high: float | None = None
    choices: tuple[str, ...] | None = None
    step: float | None = None

    @property
    def kind(self) -> type:
        return type(self.default)

    def parse(self, raw: Any) -> Any:
        """Convert a raw (URL) value, or raise ValueError saying what is allowed."""
        text = str(raw).strip()
        if self.choices is not None:
            if text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, "
                                 f"got {text!r}")
            return text
        try:
            value = self.kind(text)
        except ValueError:
            noun = "a whole number" if self.kind is int else "a number"
            raise ValueError(f"{self.name} must be {noun}, got {text!r}") from None
        if value != value or (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueError(f"{self.name} must be between {self.low:g} and {self.high:g} "
                             f"(the server's limit), got {text}")
        return value


def _model_knob(name: str, label: str, default: Any, high: int | None = None) -> Knob:
    info = FIELDS[name]
    return Knob(name, "model", label, default, info.help, low=info.low,
                high=high if high is not None else info.high, choices=info.choices)


_DEFAULT = preset("repeatvector")
KNOBS: tuple[Knob, ...] = (
    _model_knob("arch", "Architecture", _DEFAULT.arch),
    _model_knob("seq_len", "Sequence length (T)", _DEFAULT.seq_len, high=200),
    _model_knob("n_features", "Features per step (F)", _DEFAULT.n_features, high=8),
    _model_knob("units", "Units (U)", _DEFAULT.units, high=256),
    _model_knob("activation", "LSTM activation", _DEFAULT.activation),
    _model_knob("bins", "Bins (embedding only)", preset("embedding").bins, high=256),
    _model_knob("decoder", "Decoder input (encdec_ad only)", preset("encdec_ad").decoder),
    Knob("batch", "model", "Batch size for the shapes", 32, "the batch axis of every tensor",
         low=1, high=512),
    Knob("n_series", "data", "Training series", 512, "sine series to train on (validation: "
         "a quarter as many more)", low=16, high=2048),
    Knob("freq_min", "data", "Lowest frequency", 1.0, "cycles per window", low=0.5, high=10.0,
         step=0.5),
    Knob("freq_max", "data", "Highest frequency", 3.0, "cycles per window", low=0.5, high=10.0,
         step=0.5),
    Knob("noise", "data", "Noise", 0.02, "standard deviation of Gaussian noise added",
         low=0.0, high=0.5, step=0.01),
    Knob("seed", "data", "Seed", 0, "same seed, same data and the same initial weights",
         low=0, high=1_000_000),
    Knob("epochs", "training", "Epochs", 100, "passes over the training series", low=1, high=300),
    Knob("batch_size", "training", "Batch size", 16, "series per optimiser step",
         low=1, high=512),
    Knob("lr", "training", "Learning rate", "0.003", "Adam's step size", choices=LEARNING_RATES),
)
KNOB = {k.name: k for k in KNOBS}
assert set(ACTIVATIONS) == set(KNOB["activation"].choices or ())
assert set(ARCHS) == set(KNOB["arch"].choices or ()) and set(DECODERS) == set(
    KNOB["decoder"].choices or ())


@dataclass(frozen=True)
class AppConfig:
    """Everything the pages need, built from the knob values."""

    values: Mapping[str, Any]

    @property
    def spec(self) -> ModelSpec:
        v = self.values
        n_features = 1 if v["arch"] == "embedding" else v["n_features"]
        return replace(preset(v["arch"]), seq_len=v["seq_len"], n_features=n_features,
                       units=v["units"], activation=v["activation"], bins=v["bins"],
                       decoder=v["decoder"])

    @property
    def frequencies(self) -> tuple[float, float]:
        """(lowest, highest) cycles per window, kept below the Nyquist limit seq_len / 2."""
        cap = 0.4 * self.values["seq_len"]
        low, high = sorted((self.values["freq_min"], self.values["freq_max"]))
        return min(low, cap), min(high, cap)

    @property
    def data_notes(self) -> list[str]:
        """What was adjusted to make the data settings usable, in words for the learner."""
        v, notes = self.values, []
        if v["freq_min"] > v["freq_max"]:
            notes.append(f"The lowest frequency ({v['freq_min']:g}) is above the highest "
                         f"({v['freq_max']:g}), so the two are swapped.")
        cap = 0.4 * v["seq_len"]
        if max(v["freq_min"], v["freq_max"]) > cap:
            notes.append(f"With {v['seq_len']} steps a sine can have at most {cap:g} cycles "
                         "per window and still be drawn by its samples (well below the Nyquist "
                         f"limit of {v['seq_len'] / 2:g}), so higher frequencies are capped.")
        return notes

    @property
    def sine(self) -> SineConfig:
        v = self.values
        low, high = self.frequencies
        return SineConfig(n_series=v["n_series"], n_val=max(16, v["n_series"] // 4),
                          seq_len=v["seq_len"], n_features=self.spec.n_features,
                          freq_min=low, freq_max=high, noise=v["noise"], seed=v["seed"])

    @property
    def train(self) -> TrainConfig:
        v = self.values
        return TrainConfig(epochs=v["epochs"], batch_size=v["batch_size"], lr=float(v["lr"]),
                           seed=v["seed"], snapshot_every=max(1, v["epochs"] // 20), n_show=4)

    @property
    def batch(self) -> int:
        return self.values["batch"]

    def to_params(self) -> dict[str, str]:
        """The URL query: only the values that differ from their defaults."""
        return {k.name: str(self.values[k.name]) for k in KNOBS
                if self.values[k.name] != k.default}


# Work a single run may ask of a shared server, as (training series x epochs x time steps x
# parameters). Measured on one core of these 2-core machines: 0.05-0.07 ns a unit for the
# larger models (hidden_n at 64 units, 6.4e11 at the defaults: ~45 s), up to ~0.1 ns for the
# small default ones, so a run at the limit trains for about two to four minutes. The old 2e11
# (~15 s) refused hidden_n above ~35 units at the default 100 epochs.
MAX_WORK = 3e12


def training_budget(config: AppConfig, params: int) -> str | None:
    """None if a run with these settings fits the server's budget, else what to lower."""
    v = config.values
    work = v["n_series"] * v["epochs"] * v["seq_len"] * params
    if work <= MAX_WORK:
        return None
    return (f"This run is too big for a shared server: {v['n_series']} series x {v['epochs']} "
            f"epochs x {v['seq_len']} steps x {params:,} parameters = {work:.2g}, and the "
            f"limit is {MAX_WORK:.2g}. Lower the epochs, series, sequence length or units.")


def defaults() -> dict[str, Any]:
    """Every knob at its default."""
    return {k.name: k.default for k in KNOBS}


def parse_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Lenient URL parse: good values kept, bad ones replaced by defaults with a note each."""
    values, notes = defaults(), []
    for name, raw in params.items():
        if name not in KNOB:
            continue  # other apps' or Streamlit's own parameters are not ours to judge
        try:
            values[name] = KNOB[name].parse(raw)
        except ValueError as err:
            notes.append(f"{err}; using {KNOB[name].default}")
    if values["arch"] == "embedding" and values["n_features"] != 1:
        notes.append("embedding reads one token per step, so n_features is 1")
        values["n_features"] = 1
    return values, notes
