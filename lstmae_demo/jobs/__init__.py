"""Training runs for a web page or a server: a run is plain data, a runner trains it.

- `spec`: JobSpec, a run as frozen, hashable data (ModelSpec, data config, TrainConfig)
- `key`: RunKey, everything that determines a run's numbers (identical runs are shared)
- `view`: JobView, one consistent copy of a run's state for a page to draw
- `runner`: the Runner interface (submit / attach / detach / get / snapshot / stop / ...),
  RunHandle and RunNotFound
- `local`: LocalRunner, threads of this process behind a fair queue, the registry of runs by
  id, and the process-wide runner
- `queue`: FairQueue, admission to a fixed number of slots, FIFO or round-robin by epochs
- `estimate`: how long a waiting run will wait, from measured seconds per epoch

    runner = shared_runner()
    run = runner.submit(JobSpec(model=ModelSpec(), data=SineConfig(), train=TrainConfig()),
                        alive=is_my_page_open)
    run.joined       # True if an identical run was queued, running or done: no new training
    run.snapshot()   # any time, from any thread: status, queue position and wait, losses, ...
    run.stop()       # this learner lets go; the run ends once no attached learner wants it
    runner.attach(run.run_id, alive=...)        # a reload or another device: the same run
    runner.attach(run.run_id, watch_only=True)  # "watch my run": read-only
    runner.adopt(job, model, losses)            # a model loaded from a file, as a finished
                                                # run (LocalRunner only; never joined)
    JobSpec(..., init=weights_file)             # a run that continues training saved weights
"""

from __future__ import annotations

from .estimate import Load, wait_seconds
from .key import RunKey, code_version, run_key
from .local import (
    DEFAULT_POLICY,
    FINISHED_TTL_S,
    MAX_FINISHED_BYTES,
    MAX_FINISHED_RUNS,
    RECONNECT_GRACE_S,
    LocalRunner,
    default_slots,
    shared_runner,
)
from .queue import FIFO, POLICIES, ROUND_ROBIN, FairQueue, Ticket
from .runner import RunHandle, Runner, RunNotFound
from .spec import JobSpec, JobSpecError, validate_job
from .view import DONE, QUEUED, RUNNING, JobView, about

__all__ = [
    "DEFAULT_POLICY",
    "DONE",
    "FIFO",
    "FINISHED_TTL_S",
    "MAX_FINISHED_BYTES",
    "MAX_FINISHED_RUNS",
    "POLICIES",
    "QUEUED",
    "RECONNECT_GRACE_S",
    "ROUND_ROBIN",
    "RUNNING",
    "FairQueue",
    "JobSpec",
    "JobSpecError",
    "JobView",
    "Load",
    "LocalRunner",
    "RunHandle",
    "RunKey",
    "RunNotFound",
    "Runner",
    "Ticket",
    "about",
    "code_version",
    "default_slots",
    "run_key",
    "shared_runner",
    "validate_job",
    "wait_seconds",
]
