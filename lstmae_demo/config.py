"""AppConfig: one run's whole configuration (model, data, training), built from knob values.

The knobs themselves (defaults, limits, URL names) are in `settings.py`; this module turns
their values into the plain objects the core takes: a ModelSpec, a data config (`data`: sines,
a bundled series or an uploaded file) and a TrainConfig. An uploaded file cannot be a knob's
value (nor travel in a link), so it is a field of its own. No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .data import BUNDLED, BundledConfig, CsvConfig, CsvFile, DataConfig, DataError, SineConfig
from .data import train_windows as count_train_windows
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
    upload: CsvFile | None = None  # the learner's CSV file, used when values["data"] is "csv"

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
    def source(self) -> str:
        """The data source's name: "sine", a bundled set's name, or "csv" (the upload)."""
        return self.values["data"]

    @property
    def data(self) -> DataConfig:
        """The data the model trains on: the chosen source cut into windows of the model's T.
        DataError when the source is "csv" and no file was uploaded."""
        v = self.values
        if self.source in BUNDLED:
            return BundledConfig(name=self.source, seq_len=v["seq_len"], stride=v["stride"])
        if self.source == CsvConfig.SOURCE:
            if self.upload is None:
                raise DataError("no CSV file has been uploaded in this session: upload one under "
                                "Data in the sidebar, or choose sine waves or a bundled series "
                                "(a file cannot travel in a link)")
            return CsvConfig(self.upload, seq_len=v["seq_len"], stride=v["stride"])
        return self.sine

    def train_windows(self) -> int:
        """How many training series (windows) the data gives."""
        return count_train_windows(self.data)

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
        return replace(self, values={**self.values,
                                     **{k: KNOB[k].parse(v) for k, v in changes.items()}})


# Work a single run may ask of a shared server, as (training series x epochs x time steps x
# parameters). Measured on one core of these 2-core machines: 0.05-0.07 ns a unit for the
# larger models (hidden_n at 64 units, 6.4e11 at the defaults: ~45 s), up to ~0.1 ns for the
# small default ones, so a run at the limit trains for about two to four minutes.
MAX_WORK = 3e12


def training_budget(config: AppConfig, params: int) -> str | None:
    """None if a run with these settings fits the server's budget, else what to lower."""
    v = config.values
    try:
        n_train = config.train_windows()
    except DataError:  # no data at these settings: the page says why; nothing to train
        return None
    work = n_train * v["epochs"] * v["seq_len"] * params
    if work <= MAX_WORK:
        return None
    what = "series" if config.source == "sine" else "windows"
    lower = "series" if config.source == "sine" else "windows (a larger stride)"
    return (f"This run is too big for a shared server: {n_train} {what} x {v['epochs']} "
            f"epochs x {v['seq_len']} steps x {params:,} parameters = {work:.2g}, and the "
            f"limit is {MAX_WORK:.2g}. Lower the epochs, {lower}, sequence length or units.")


def fit_to_data(values: Mapping[str, Any], upload: CsvFile | None) -> tuple[dict[str, Any],
                                                                            list[str]]:
    """The values with the features per step (F) set to what the chosen data has (one value
    per step for a bundled series, one per column of an uploaded file), where the
    architecture can read that many; and what moved, in words."""
    values, notes = dict(values), []
    source = values.get("data", KNOB["data"].default)
    if source in BUNDLED:
        want, why = 1, f"{source} has one value per time step"
    elif source == CsvConfig.SOURCE and upload is not None:
        want = len(upload.columns)
        why = (f"your file has {want} column{'s' if want > 1 else ''} of numbers "
               f"({', '.join(upload.columns)})")
    else:
        return values, notes
    knob = KNOB["n_features"]
    if values["n_features"] != want and knob.applies_to(values["arch"]) \
            and knob.low <= want <= knob.high:
        values["n_features"] = want
        notes.append(f"{knob.label} set to {want}: {why}.")
    return values, notes
