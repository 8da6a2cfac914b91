"""LocalRunner: training in daemon threads of this process, admitted by a fair FIFO queue.

A Streamlit page must never block on training, and a thread of our own must make no st.*
call. So each run gets a daemon thread that waits for its turn, builds the model and the data
from its JobSpec, consumes `train(...)` and records the events under a lock; the page polls
`snapshot()` (the Train page once a second) and draws the immutable JobView it gets back.
At most `slots` runs train at once, so torch threads x running jobs stays within the cores
(an oversubscribed OpenMP pool runs ~100x slower); the others wait in arrival order.

A run is kept while its thread lives (waiting or training) and, once done, as long as its
RunHandle is referenced (the web app keeps it in the learner's session): memory follows the
sessions, not the number of runs ever started.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from ..archs import build_model
from ..data import load
from ..training import Epoch, Finished, Started, train
from .queue import WAITING, FairQueue, Ticket, check_count
from .runner import RunHandle
from .spec import JobSpec, validate_job
from .view import DONE, QUEUED, RUNNING, JobView

log = logging.getLogger(__name__)


def default_slots(threads_per_job: int = 1) -> int:
    """How many jobs may train at once so that threads x jobs <= the machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_job))


def _stopped_before_start() -> Finished:
    return Finished(reason="cancelled", epochs=0, seconds=0.0, train_seconds=0.0,
                    train_loss=math.nan, val_loss=math.nan, val_mse=math.nan,
                    sequences_per_second=0.0, message="Stopped before it started.")


class _LocalRun:
    """One run's thread and recorded state; its lock guards everything below it."""

    def __init__(self, run_id: str, job: JobSpec, ticket: Ticket, queue: FairQueue,
                 alive: Callable[[], bool] | None, name: str):
        self.run_id, self.job, self.name = run_id, job, name
        self.ticket, self.queue, self.alive = ticket, queue, alive
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.progressed = threading.Event()  # the first epoch is in, or the run has ended
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)
        self.model: nn.Module | None = None  # built by the thread once admitted
        self.started: Started | None = None
        self.losses: tuple[list[float], list[float], list[float]] = ([], [], [])
        self.last_epoch: Epoch | None = None
        self.shown: Epoch | None = None  # the latest Epoch that carried reconstructions
        self.finished: Finished | None = None
        self.error: str | None = None
        self.ended = False  # the thread has finished its work

    def is_done(self) -> bool:
        """Whether the run has ended (the caller holds the lock)."""
        return self.finished is not None or self.error is not None or self.ended

    # --- control, from any thread ---------------------------------------------------------

    def stop(self) -> None:
        """A waiting run leaves the queue now; a training one stops before its next step."""
        with self.lock:
            self.cancel.set()
            if self.is_done() or not self.queue.withdraw(self.ticket):
                return  # training: the trainer sees `cancel` before its next step
            self.finished = _stopped_before_start()
        self.progressed.set()

    def snapshot(self) -> JobView:
        """A consistent, immutable copy of the run's state."""
        with self.lock:
            position = None
            if self.is_done():
                status = DONE
            else:
                state, position = self.queue.place(self.ticket)
                status = QUEUED if state == WAITING else RUNNING
            train_losses, val_losses, val_mses = self.losses
            shown = self.shown
            return JobView(
                status=status, position=position, epoch=len(train_losses),
                total_epochs=self.job.train.epochs, train_losses=tuple(train_losses),
                val_losses=tuple(val_losses), val_mses=tuple(val_mses),
                reconstructions=shown.reconstructions if shown else None,
                reconstructions_epoch=shown.epoch if shown else 0,
                started=self.started, last_epoch=self.last_epoch,
                finished=self.finished, error=self.error,
            )

    def trained_model(self) -> nn.Module:
        """The model once the run is done: the initial one if it never trained."""
        with self.lock:
            if not self.is_done():
                raise RuntimeError(f"run {self.run_id} is still training: stop() or wait() "
                                   "first")
            if self.model is None:  # stopped or failed before the thread built it
                self.model = build_model(self.job.model, seed=self.job.seed).eval()
            return self.model

    # --- the thread ----------------------------------------------------------------------

    def _work(self) -> None:
        try:
            if self.queue.wait_turn(self.ticket):  # False: stopped while waiting
                self._train()
        except Exception as err:  # never BaseException: shutdown signals must pass
            log.exception("training run %s failed", self.name)
            with self.lock:
                self.error = f"Training failed: {type(err).__name__}: {err}"
        finally:
            with self.lock:
                if self.finished is None and self.error is None:
                    self.error = "Training ended without a result: its thread was interrupted."
                self.ended = True
                self.queue.release(self.ticket)  # the slot goes to the next in line
            self.progressed.set()

    def _train(self) -> None:
        model = build_model(self.job.model, seed=self.job.seed)
        data = load(self.job.data)
        events = train(model, data.train, data.val, self.job.train, self.cancel)
        with self.lock:
            self.model = model
        try:
            for event in events:
                self._record(event)
                if self.alive is not None and not self.cancel.is_set() and not self.alive():
                    log.info("training run %s stopped: its page is gone", self.name)
                    self.cancel.set()  # the trainer ends with "cancelled" before its next step
        finally:
            events.close()  # restores torch's thread count if the loop ended early

    def _record(self, event: Started | Epoch | Finished) -> None:
        with self.lock:
            if isinstance(event, Started):
                self.started = event
            elif isinstance(event, Epoch):
                for history, value in zip(self.losses, (event.train_loss, event.val_loss,
                                                        event.val_mse), strict=True):
                    history.append(value)
                self.last_epoch = event  # older events are dropped with their arrays
                if event.reconstructions is not None:
                    event.reconstructions.flags.writeable = False  # views share it
                    self.shown = event
            else:
                self.finished = event  # the thread's end sets `progressed`
        if isinstance(event, Epoch):
            self.progressed.set()


class LocalRunner:
    """Runs JobSpecs in daemon threads of this process, at most `slots` at a time, fairly.

    `threads_per_job` torch threads per run (filled into a JobSpec that leaves them open);
    `slots` defaults to the cores divided by that, the measured best (bench/RESULTS.md).
    """

    def __init__(self, slots: int | None = None, threads_per_job: int = 1):
        self.threads_per_job = check_count("threads_per_job", threads_per_job)
        self.queue = FairQueue(default_slots(threads_per_job) if slots is None else slots)
        self._runs: weakref.WeakValueDictionary[str, _LocalRun] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    @property
    def slots(self) -> int:
        """How many runs may train at once."""
        return self.queue.slots

    def counts(self) -> tuple[int, int]:
        """(runs training, runs waiting) right now."""
        return self.queue.counts()

    def submit(self, job: JobSpec, *, alive: Callable[[], bool] | None = None,
               name: str = "") -> RunHandle:
        """Check `job` in the caller's thread (ValueError if bad), queue it, return at once.

        `alive`, if given, is asked after every event; once it says False (say, the learner
        closed the tab) the run stops, so nobody's slot trains for an empty page.
        """
        validate_job(job)
        if job.train.threads is None:  # what the slots assume
            job = replace(job, train=replace(job.train, threads=self.threads_per_job))
        run_id = uuid.uuid4().hex
        name = name or f"{job.model.arch}-{run_id[:8]}"
        run = _LocalRun(run_id, job, self.queue.join(), self.queue, alive, name)
        with self._lock:
            self._runs[run_id] = run
        run.thread.start()
        return RunHandle(runner=self, run_id=run_id, job=job, record=run)

    def snapshot(self, run_id: str) -> JobView:
        """The run's state at this moment (cheap: call it on every poll)."""
        return self._run(run_id).snapshot()

    def stop(self, run_id: str) -> None:
        """End the run: a queued one leaves the queue now, a running one within one step."""
        self._run(run_id).stop()

    def wait_first_epoch(self, run_id: str, timeout: float) -> bool:
        """Block up to `timeout` seconds until the first epoch is in (or the run has ended).

        True if so. For a page that wants to draw the first loss point in the same rerun
        as the click that started the run, instead of one polling interval later.
        """
        return self._run(run_id).progressed.wait(timeout)

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Block up to `timeout` seconds for the run's thread to end; True if it is done."""
        run = self._run(run_id)
        run.thread.join(timeout)
        return run.snapshot().done

    def state_dict(self, run_id: str) -> dict[str, torch.Tensor]:
        """A copy of the weights (for a download); only once the run is done."""
        model = self._run(run_id).trained_model()
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    def model(self, run_id: str) -> nn.Module:
        """The trained model in eval mode (the initial one if it never trained); once done."""
        return self._run(run_id).trained_model()

    def _run(self, run_id: str) -> _LocalRun:
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            raise KeyError(f"no run {run_id!r} here: a finished run is kept only while its "
                           "handle is held")
        return run


_SHARED_LOCK = threading.Lock()
_SHARED: list[LocalRunner] = []  # at most one: the process-wide runner


def shared_runner() -> LocalRunner:
    """The process-wide runner every page session submits to, created on first use.

    A plain module-level object (thread-safe creation), never a Streamlit cache: any client
    can clear those, and a second runner would add slots beyond the cores.
    """
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(LocalRunner(threads_per_job=1))
        return _SHARED[0]
