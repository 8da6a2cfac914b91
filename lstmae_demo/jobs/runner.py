"""The interface every training backend offers, and the handle a caller keeps for one run.

    handle = runner.submit(JobSpec(model=spec, data=SineConfig(), train=TrainConfig()),
                           alive=is_my_page_open)
    handle.joined                           # True: an identical run was going; no new training
    view = handle.snapshot()                # status, queue position and wait, losses, ...
    handle.stop()                           # this learner lets go; the run ends once nobody
                                            # attached still wants it
    weights = handle.state_dict()           # once it is done

    again = runner.attach(run_id, alive=is_my_new_page_open)   # a reload or a second device
    watch = runner.attach(run_id, watch_only=True)             # "watch my run": read-only
    runner.get(run_id)                      # a handle that neither keeps it going nor watches

Runs live in the runner, not in a page: anyone with the id finds them, a finished one with
its trained model, within the runner's stated lifetime; after that `RunNotFound`.
`LocalRunner` (threads in this process, a queue with a scheduling policy) is one
implementation; a cluster backend would be another with the same methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .spec import JobSpec
from .view import JobView


class RunNotFound(KeyError):
    """No run with this id is kept here (never was, or its lifetime is over); the message says
    which, in words a page can show."""

    def __init__(self, run_id: str, message: str):
        super().__init__(message)
        self.run_id, self.message = run_id, message

    def __str__(self) -> str:  # KeyError's own would quote the message
        return self.message


@runtime_checkable
class Runner(Protocol):
    """A training backend: runs JobSpecs and reports on them by run id."""

    def submit(self, job: JobSpec, *, alive: Callable[[], bool] | None = None,
               name: str = "") -> RunHandle:
        """Check `job` now (ValueError if bad); join an identical run or queue it; at once."""
        ...

    def attach(self, run_id: str, *, alive: Callable[[], bool] | None = None,
               watch_only: bool = False) -> RunHandle:
        """A new attachment to a kept run (RunNotFound if none): a learner or a watcher."""
        ...

    def detach(self, run_id: str, who: str) -> None:
        """Attachment `who` lets go; the run ends once no attached learner wants it."""
        ...

    def get(self, run_id: str) -> RunHandle:
        """A handle to a kept run that holds no attachment (RunNotFound if none)."""
        ...

    def snapshot(self, run_id: str) -> JobView:
        """The run's state at this moment (cheap: called on every poll)."""
        ...

    def stop(self, run_id: str) -> None:
        """End the run for everyone: a queued one leaves the queue now, a running one within
        one step. (A page lets go with its handle's stop() instead.)"""
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
    """One attachment to a run: its id, the JobSpec as the runner runs it, whether it joined
    an identical run, and shortcuts to the runner's methods for it."""

    runner: Runner
    run_id: str
    job: JobSpec  # as run: a runner may fill in what the submitted spec left open (threads)
    # The backend's own record of the run: kept alive as long as the handle is, so a page
    # holding its handle keeps its run even past the runner's own lifetime for finished runs.
    record: object = field(default=None, repr=False)
    who: str | None = None  # this attachment's id for detach (None: get(), no attachment)
    joined: bool = False  # submit found an identical run and attached to it
    watch_only: bool = False  # a watcher: never keeps the run going, cannot end it

    def snapshot(self) -> JobView:
        """The run's state at this moment."""
        return self.runner.snapshot(self.run_id)

    def stop(self) -> None:
        """This attachment lets go (Runner.detach): the run ends once no attached learner
        still wants it. A watcher's or a get() handle's stop never ends the run."""
        if self.who is not None:
            self.runner.detach(self.run_id, self.who)

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
