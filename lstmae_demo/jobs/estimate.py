"""How long a waiting run will wait for a slot: a small simulation of the queue's policy.

The runner measures every run's wall seconds per epoch while it holds a slot (contention from
the other slots included, so the figure is what this server really does now) and asks
`wait_seconds` what that means for a run in the line. It is an estimate: runs that stop early
(a target MSE, a learner who leaves) free their slot sooner than it assumes.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from .queue import FIFO, check_policy


@dataclass(frozen=True)
class Load:
    """What the estimate needs of one run in the queue."""

    epoch_seconds: float | None  # measured wall seconds per epoch (None: not measured yet)
    epochs_left: int  # epochs not completed yet, the current one included
    into_epoch: float = 0.0  # seconds the current epoch has been training (admitted runs)


def _per_epoch(load: Load, fallback: float | None) -> float | None:
    return load.epoch_seconds if load.epoch_seconds is not None else fallback


def wait_seconds(policy: str, slots: int, admitted: Sequence[Load], ahead: Sequence[Load],
                 fallback: float | None) -> float | None:
    """Seconds until a run behind `ahead` (in line order) gets a slot, or None if unknown.

    `admitted` are the runs holding slots now. Under FIFO each keeps its slot for all its
    epochs left; under ROUND_ROBIN each ends its current epoch, then every run ahead trains
    one epoch. A run without its own measurement costs `fallback` seconds per epoch (the
    runner's recent average); None if that is unknown too.
    """
    check_policy(policy)
    free_at: list[float] = [0.0] * max(0, slots - len(admitted))
    for load in admitted:
        per_epoch = _per_epoch(load, fallback)
        if per_epoch is None:
            return None
        epochs = load.epochs_left if policy == FIFO else min(1, load.epochs_left)
        free_at.append(max(0.0, epochs * per_epoch - load.into_epoch))
    heapq.heapify(free_at)
    for load in ahead:
        per_epoch = _per_epoch(load, fallback)
        if per_epoch is None:
            return None
        epochs = load.epochs_left if policy == FIFO else min(1, load.epochs_left)
        heapq.heappush(free_at, heapq.heappop(free_at) + epochs * per_epoch)
    return free_at[0] if free_at else 0.0

