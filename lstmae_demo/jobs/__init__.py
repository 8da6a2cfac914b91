"""Training runs for a web page or a server: a run is plain data, a runner trains it.

- `spec`: JobSpec, a run as frozen, hashable data (ModelSpec, data config, TrainConfig)
- `view`: JobView, one consistent copy of a run's state for a page to draw
- `runner`: the Runner interface (submit / snapshot / stop / state_dict / model) and RunHandle
- `local`: LocalRunner, threads of this process behind a fair queue, and the process-wide one
- `queue`: FairQueue, first-in-first-out admission to a fixed number of slots

    runner = shared_runner()
    run = runner.submit(JobSpec(model=ModelSpec(), data=SineConfig(), train=TrainConfig()))
    run.snapshot()   # any time, from any thread: status, queue position, losses, ...
    run.stop()       # a queued run leaves the queue; a running one stops within one step
"""

from __future__ import annotations

from .local import LocalRunner, default_slots, shared_runner
from .queue import FairQueue, Ticket
from .runner import RunHandle, Runner
from .spec import JobSpec, JobSpecError, validate_job
from .view import DONE, QUEUED, RUNNING, JobView

__all__ = [
    "DONE",
    "QUEUED",
    "RUNNING",
    "FairQueue",
    "JobSpec",
    "JobSpecError",
    "JobView",
    "LocalRunner",
    "RunHandle",
    "Runner",
    "Ticket",
    "default_slots",
    "shared_runner",
    "validate_job",
]
