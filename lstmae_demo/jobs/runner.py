"""The interface every training backend offers, and the handle a caller keeps for one run.

    handle = runner.submit(JobSpec(model=spec, data=SineConfig(), train=TrainConfig()))
    view = runner.snapshot(handle.run_id)   # or handle.snapshot(): status, losses, ...
    runner.stop(handle.run_id)              # a queued run leaves the queue; a running one stops
    weights = runner.state_dict(handle.run_id)  # once it is done

`LocalRunner` (threads in this process, a fair FIFO queue) is one implementation; a cluster
backend would be another with the same methods. Runs are identified by opaque string ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .spec import JobSpec
from .view import JobView


@runtime_checkable
class Runner(Protocol):
    """A training backend: runs JobSpecs and reports on them by run id."""

    def submit(self, job: JobSpec, *, alive: Callable[[], bool] | None = None,
               name: str = "") -> RunHandle:
        """Check `job` now (ValueError if bad) and queue it; returns at once."""
        ...

    def snapshot(self, run_id: str) -> JobView:
        """The run's state at this moment (cheap: called on every poll)."""
        ...

    def stop(self, run_id: str) -> None:
        """End the run: a queued one leaves the queue now, a running one within one step."""
        ...

    def wait_first_epoch(self, run_id: str, timeout: float) -> bool:
        """Block up to `timeout` seconds until an epoch is in or the run ended; True if so."""
        ...

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Block up to `timeout` seconds until the run has ended; True if it has."""
        ...

    def state_dict(self, run_id: str) -> dict[str, torch.Tensor]:
        """A copy of the run's weights; only once it is done."""
        ...

    def model(self, run_id: str) -> nn.Module:
        """The trained model, in eval mode; only once the run is done."""
        ...


@dataclass(frozen=True, eq=False)
class RunHandle:
    """One submitted run: its id, the JobSpec as the runner runs it, and shortcuts to the
    runner's methods for it."""

    runner: Runner
    run_id: str
    job: JobSpec  # as run: a runner may fill in what the submitted spec left open (threads)
    # The backend's own record of the run, kept alive as long as the handle is (LocalRunner
    # keeps a finished run only while someone holds its handle).
    record: object = field(default=None, repr=False)

    def snapshot(self) -> JobView:
        """The run's state at this moment."""
        return self.runner.snapshot(self.run_id)

    def stop(self) -> None:
        """End the run (see Runner.stop)."""
        self.runner.stop(self.run_id)

    def wait_first_epoch(self, timeout: float) -> bool:
        """Block until an epoch is in or the run ended, up to `timeout` seconds."""
        return self.runner.wait_first_epoch(self.run_id, timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended, up to `timeout` seconds; True if it has."""
        return self.runner.wait(self.run_id, timeout)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A copy of the run's weights, once it is done."""
        return self.runner.state_dict(self.run_id)

    def model(self) -> nn.Module:
        """The trained model, once the run is done."""
        return self.runner.model(self.run_id)
