"""JobView: what a page draws of a run, as one consistent, immutable copy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..training import Epoch, Finished, Started

QUEUED, RUNNING, DONE = "queued", "running", "done"


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class JobView:
    """A consistent, immutable copy of a job's state at one moment: what a page draws."""

    status: str  # "queued" (waiting for a free slot), "running" or "done"
    position: int | None  # while queued: 1 = next to start; else None
    epoch: int  # epochs completed so far
    total_epochs: int
    train_losses: tuple[float, ...]  # one per completed epoch
    val_losses: tuple[float, ...]
    val_mses: tuple[float, ...]
    reconstructions: np.ndarray | None  # the latest snapshot (n_show, T, F), read-only
    reconstructions_epoch: int  # the epoch it was taken after (0: none yet)
    started: Started | None  # sizes: parameters, steps per epoch
    last_epoch: Epoch | None  # the latest Epoch event (timings, throughput)
    finished: Finished | None  # why it ended, once it has
    error: str | None  # set if training raised an unexpected exception

    @property
    def done(self) -> bool:
        """Whether the run has ended (completed, stopped, diverged or failed)."""
        return self.status == DONE

    def summary(self) -> str:
        """One line for a status bar."""
        if self.error:
            return self.error
        if self.status == QUEUED:
            return ("Waiting for a free slot" + (f": number {self.position} in the queue"
                                                 if self.position else "")) + "."
        if self.status == RUNNING:
            return f"Training: epoch {self.epoch} of {self.total_epochs}."
        f = self.finished
        return f"Done ({f.reason.replace('_', ' ')}) after {f.epochs} epochs." + (
            f" {f.message}" if f.message else "")
