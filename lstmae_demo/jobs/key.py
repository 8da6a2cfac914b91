"""A run's key: everything that determines its numbers, so identical runs are computed once.

Training is deterministic for a JobSpec on one torch thread (the runner fixes the count in
the spec), so two runs with the same key give bit-identical losses and weights: the second
may join the first instead of training again. The key holds:
- the JobSpec with its model normalised (fields the architecture ignores at their defaults,
  so specs that build the same model share a key), its data config and its TrainConfig
  (seed and thread count included);
- the code version: a hash of the source and data files that decide what training computes,
  and of the numeric libraries' versions, taken once per process.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..spec import normalised
from .spec import JobSpec

PACKAGE = Path(__file__).resolve().parents[1]  # lstmae_demo/
# What decides a run's numbers: the models, the layers they are built from, the trainer, the
# data sources (their files included), what a spec means and the knobs' defaults, and how this
# package builds a run from a JobSpec. Pages, plots and code export do not.
TRAINING_CODE = ("archs", "nn.py", "training", "data", "spec.py", "settings.py", "jobs",
                 "weights.py")


@dataclass(frozen=True)
class RunKey:
    """Two runs with equal keys compute the same numbers."""

    job: JobSpec  # model normalised
    code: str  # code_version()


def _files(parts: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        candidates = path.rglob("*") if path.is_dir() else [path]
        found += [f for f in candidates if f.is_file() and "__pycache__" not in f.parts]
    return sorted(found)


@functools.cache
def code_version() -> str:
    """A hash of the training code, its data files and torch's and numpy's versions (once
    per process: a server runs the code it imported)."""
    digest = hashlib.sha256(f"torch {torch.__version__} numpy {np.__version__}".encode())
    for path in _files(TRAINING_CODE):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def run_key(job: JobSpec) -> RunKey:
    """The key of `job` as the runner runs it (thread count filled in)."""
    return RunKey(job=replace(job, model=normalised(job.model)), code=code_version())
