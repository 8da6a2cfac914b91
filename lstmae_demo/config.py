"""AppConfig: one run's whole configuration (model, data, training), built from knob values.

The knobs themselves (defaults, limits, URL names) are in `settings.py`; this module turns
their values into the plain objects the core takes: a ModelSpec, a SineConfig and a
TrainConfig. No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .data import SineConfig
from .settings import KNOB, MODEL_FIELDS, defaults, to_params
from .spec import ModelSpec, normalised
from .training import TrainConfig

# Highest frequency drawn, as a share of seq_len: well below the Nyquist limit of seq_len / 2,
# so a sine is still recognisable from its samples.
MAX_CYCLES_PER_STEP = 0.4


@dataclass(frozen=True)
class AppConfig:
    """Every knob's value for one run (see settings.KNOBS); compare two with ==."""

    values: Mapping[str, Any]

    @classmethod
    def default(cls) -> AppConfig:
        """Every knob at its default."""
        return cls(defaults())

    @property
    def spec(self) -> ModelSpec:
        """The model; knobs its architecture ignores are at their defaults."""
        return normalised(ModelSpec(**{k: self.values[k] for k in MODEL_FIELDS}))

    @property
    def frequencies(self) -> tuple[float, float]:
        """(lowest, highest) cycles per window, kept below the Nyquist limit seq_len / 2."""
        cap = MAX_CYCLES_PER_STEP * self.values["seq_len"]
        low, high = sorted((self.values["freq_min"], self.values["freq_max"]))
        return min(low, cap), min(high, cap)

    @property
    def data_notes(self) -> list[str]:
        """What was adjusted to make the data settings usable, in words for the learner."""
        v, notes = self.values, []
        if v["freq_min"] > v["freq_max"]:
            notes.append(f"The lowest frequency ({v['freq_min']:g}) is above the highest "
                         f"({v['freq_max']:g}), so the two are swapped.")
        cap = MAX_CYCLES_PER_STEP * v["seq_len"]
        if max(v["freq_min"], v["freq_max"]) > cap:
            notes.append(f"With {v['seq_len']} steps a sine can have at most {cap:g} cycles "
                         "per window and still be drawn by its samples (well below the Nyquist "
                         f"limit of {v['seq_len'] / 2:g}), so higher frequencies are capped.")
        return notes

    @property
    def sine(self) -> SineConfig:
        """The data: sines with these frequencies, noise and seed."""
        v = self.values
        low, high = self.frequencies
        return SineConfig(n_series=v["n_series"], n_val=max(16, v["n_series"] // 4),
                          seq_len=v["seq_len"], n_features=self.spec.n_features,
                          freq_min=low, freq_max=high, noise=v["noise"], seed=v["seed"])

    @property
    def train(self) -> TrainConfig:
        """The training settings: a reconstruction snapshot about every 5% of the run."""
        v = self.values
        return TrainConfig(epochs=v["epochs"], batch_size=v["batch_size"], lr=float(v["lr"]),
                           seed=v["seed"], snapshot_every=max(1, v["epochs"] // 20), n_show=4)

    @property
    def batch(self) -> int:
        return self.values["batch"]

    def to_params(self) -> dict[str, str]:
        """The URL query: only the values that differ from their defaults."""
        return to_params(self.values)

    def with_values(self, **changes: Any) -> AppConfig:
        """A copy with some knobs changed (each checked against its limits)."""
        return AppConfig({**self.values, **{k: KNOB[k].parse(v) for k, v in changes.items()}})


# Work a single run may ask of a shared server, as (training series x epochs x time steps x
# parameters). Measured on one core of these 2-core machines: 0.05-0.07 ns a unit for the
# larger models (hidden_n at 64 units, 6.4e11 at the defaults: ~45 s), up to ~0.1 ns for the
# small default ones, so a run at the limit trains for about two to four minutes.
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
