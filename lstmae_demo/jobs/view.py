"""JobView: what a page draws of a run, as one consistent, immutable copy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..training import Epoch, Finished, Started

QUEUED, RUNNING, DONE = "queued", "running", "done"


def about(seconds: float) -> str:
    """'about 40 s' or 'about 3 min': a wait in words, as rounded as an estimate deserves."""
    if seconds < 1.5:
        return "about 1 s"
    if seconds < 120:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class JobView:
    """A consistent, immutable copy of a job's state at one moment: what a page draws."""

    # "queued": waiting for its first turn on a slot; "running": has had a slot (under
    # round-robin it may be waiting for its next turn: then `position` is set); "done": ended
    status: str
    position: int | None  # while waiting for a slot: 1 = next; else None
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
    run_id: str = ""  # the id to find it again (runner.attach / runner.get)
    # While waiting for a slot: about how many seconds until it trains, from the measured
    # seconds per epoch of the runs ahead (None: not waiting, or nothing measured yet).
    wait_seconds: float | None = None
    epoch_seconds: float | None = None  # its measured wall seconds per epoch on a slot
    # Seconds it had spent on a slot when each epoch ended (validation included, waiting for
    # a turn not): a time axis that means the same for runs sharing the slots in turns.
    slot_seconds: tuple[float, ...] = ()
    learners: int = 0  # attached learners who still want it to go on (a run ends at 0)
    watchers: int = 0  # read-only attachments ("watch my run" links)
    # Times the run started again from its first epoch because the worker training it died
    # (the Dask runner retries it elsewhere; training is deterministic, so the same numbers).
    restarts: int = 0

    @property
    def done(self) -> bool:
        """Whether the run has ended (completed, stopped, diverged or failed)."""
        return self.status == DONE

    @property
    def waiting(self) -> bool:
        """Whether it waits for a slot now (its first turn, or under round-robin its next)."""
        return self.position is not None

    def summary(self) -> str:
        """One line for a status bar."""
        if self.error:
            return self.error
        wait = f", {about(self.wait_seconds)}" if self.wait_seconds is not None else ""
        if self.status == QUEUED:
            return ("Waiting for a free slot" + (f": number {self.position} in the queue{wait}"
                                                 if self.position else "")) + "."
        if self.status == RUNNING:
            turn = (f", taking turns with other runs: number {self.position} in line for the "
                    f"next epoch{wait}" if self.position else "")
            return f"Training: epoch {self.epoch} of {self.total_epochs}{turn}."
        f = self.finished
        return f"Done ({f.reason.replace('_', ' ')}) after {f.epochs} epochs." + (
            f" {f.message}" if f.message else "")
