"""JobSpec: one training run as plain, frozen, hashable data.

A run is fully described by its model (ModelSpec), its data (a data-source config such as
SineConfig), its training settings (TrainConfig, whose seed also seeds the model's initial
weights) and, to continue training a saved model, the weights file it starts from (`init`).
A runner builds the model and the data itself, so a spec can travel to another
thread, process or machine, and two equal specs describe the same computation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data import DataConfig, source_name
from ..spec import ModelSpec, validate
from ..training import TrainConfig, validate_train
from ..weights import WeightsError, WeightsFile


class JobSpecError(ValueError):
    """The parts of a JobSpec do not fit together; the message says which and how."""


@dataclass(frozen=True)
class JobSpec:
    """Everything that determines a run: model, data, training settings and seed."""

    model: ModelSpec
    data: DataConfig
    train: TrainConfig
    init: WeightsFile | None = None  # start from these weights instead of the seed's

    @property
    def seed(self) -> int:
        """Seeds the model's initial weights (build_model) and the batches' order (train)."""
        return self.train.seed


def validate_job(job: JobSpec) -> JobSpec:
    """Return `job` if every part is valid and they fit together; else raise a ValueError
    (SpecError, DataError, TrainConfigError or JobSpecError) saying what is wrong."""
    if not isinstance(job, JobSpec):
        raise JobSpecError(f"a run is described by a JobSpec, got {type(job).__name__}")
    if not isinstance(job.model, ModelSpec):
        raise JobSpecError(f"JobSpec.model must be a ModelSpec, got {type(job.model).__name__}")
    validate(job.model)
    source_name(job.data)  # a known data source
    job.data.validate()
    validate_train(job.train)
    data_shape = (job.data.seq_len, job.data.n_features)
    model_shape = (job.model.seq_len, job.model.n_features)
    if data_shape != model_shape:
        raise JobSpecError(
            f"the data has {data_shape[0]} time steps x {data_shape[1]} features per series, "
            f"the model expects {model_shape[0]} x {model_shape[1]}")
    if job.init is not None:
        if not isinstance(job.init, WeightsFile):
            raise JobSpecError(f"JobSpec.init must be a WeightsFile, got "
                               f"{type(job.init).__name__}")
        try:
            job.init.load(expected=job.model)
        except WeightsError as err:
            raise JobSpecError(f"the weights to start from do not fit: {err}") from None
    return job
