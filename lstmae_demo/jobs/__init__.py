"""Training in the background for a web page: a job per run, a fair queue for a shared server.

A Streamlit page must never block on training, and a thread of our own must make no st.*
call. So a run is a `TrainingJob`: a daemon thread consumes `train(...)` and records its events
under a lock; the page polls `job.snapshot()` (say from `@st.fragment(run_every=0.5)`) and draws
the immutable `JobView` it gets back. A `TrainingQueue` lets at most `slots` jobs train at once,
so torch threads x running jobs stays within the cores (an oversubscribed OpenMP pool runs
~100x slower), and admits the others in arrival order.

    job = TrainingJob(model, data.train, data.val, TrainConfig(epochs=30), queue=shared_queue)
    job.start()                 # returns at once
    view = job.snapshot()       # any time, from any thread: status, losses, reconstructions
    job.stop()                  # a queued job leaves the queue; a running one stops in one step

The job trains `model` in place: leave it alone until the job is done, then use it or
`job.state_dict()`.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ..training import Epoch, Finished, Started, TrainConfig, train

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE = "queued", "running", "done"


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class JobView:
    """A consistent, immutable copy of a job's state at one moment: what a page draws."""

    status: str  # "queued" (waiting for a slot, or not started), "running" or "done"
    position: int | None  # while queued in a TrainingQueue: 1 = next to start; else None
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


def default_slots(threads_per_job: int = 1) -> int:
    """How many jobs may train at once so that threads x jobs <= the machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_job))


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


class TrainingQueue:
    """Fair FIFO admission for a shared server: at most `slots` jobs train at once.

    Jobs wait in the order they were started and each runs to its end, so no one's job is
    starved by anyone else's. Thread-safe. One lock (`lock`) guards the queue and the state of
    every job in it, so a job's snapshot and its place in the queue always agree.
    """

    def __init__(self, slots: int | None = None, threads_per_job: int = 1):
        self.threads_per_job = _check_count("threads_per_job", threads_per_job)
        self.slots = _check_count("slots", default_slots(threads_per_job)
                                  if slots is None else slots)
        self.lock = threading.Condition()  # an RLock inside: re-entrant for the jobs
        self._waiting: deque[TrainingJob] = deque()  # in arrival order
        self._running: set[TrainingJob] = set()

    def position(self, job: TrainingJob) -> int | None:
        """1-based place of a waiting job (1 = next to start); None if it is not waiting."""
        with self.lock:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def counts(self) -> tuple[int, int]:
        """(jobs training, jobs waiting) right now."""
        with self.lock:
            return len(self._running), len(self._waiting)

    # The job calls these; each holds the lock.
    def _enter(self, job: TrainingJob) -> None:
        with self.lock:
            self._waiting.append(job)

    def _wait_turn(self, job: TrainingJob, cancel: threading.Event, admit) -> bool:
        """Block until `job` is first in line and a slot is free (True), or it is cancelled."""
        with self.lock:
            while not cancel.is_set() and job in self._waiting:
                if self._waiting[0] is job and len(self._running) < self.slots:
                    self._waiting.popleft()
                    self._running.add(job)
                    admit()
                    self.lock.notify_all()  # the next in line may fit in another free slot
                    return True
                self.lock.wait()
            self._withdraw(job)
            return False

    def _withdraw(self, job: TrainingJob) -> None:
        """Take `job` out of the queue (waiting or running) and wake the waiting jobs."""
        with self.lock:
            if job in self._waiting:
                self._waiting.remove(job)
            self._running.discard(job)
            self.lock.notify_all()


class TrainingJob:
    """One training run in a daemon thread; poll `snapshot()`, end it early with `stop()`."""

    def __init__(self, model: nn.Module, train_x: np.ndarray, val_x: np.ndarray,
                 cfg: TrainConfig | None = None, queue: TrainingQueue | None = None,
                 name: str = "", alive: Callable[[], bool] | None = None):
        """`alive`, if given, is asked after every epoch; once it says False (say, the
        learner closed the tab) the job stops, so nobody's slot trains for an empty page."""
        cfg = cfg or TrainConfig()
        self._alive = alive
        if queue is not None and cfg.threads is None:
            cfg = replace(cfg, threads=queue.threads_per_job)  # what the queue's slots assume
        self.model, self.cfg, self.name = model, cfg, name or f"job-{id(self):x}"
        self._queue = queue
        self._cancel = threading.Event()
        # Checks the settings and the data now, in the caller's thread; trains in ours.
        self._events = train(model, train_x, val_x, cfg, self._cancel)
        self._lock = queue.lock if queue is not None else threading.RLock()
        self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
        self._begun = self._admitted = self._ended = False
        self._started: Started | None = None
        self._losses: tuple[list[float], list[float], list[float]] = ([], [], [])  # train, val, mse
        self._last_epoch: Epoch | None = None
        self._shown: Epoch | None = None  # the latest Epoch that carried reconstructions
        self._finished: Finished | None = None
        self._error: str | None = None
        self._progressed = threading.Event()  # the first epoch is in, or the job has ended

    # --- control --------------------------------------------------------------------------

    def start(self) -> TrainingJob:
        """Queue the job (or start it at once without a queue); returns immediately."""
        with self._lock:
            if self._begun:
                raise RuntimeError(f"{self.name} was already started")
            self._begun = True
            if self._finished is not None:  # stopped before it was started
                return self
            if self._queue is not None:
                self._queue._enter(self)
            else:
                self._admitted = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the job: a queued one leaves the queue now, a running one within one step."""
        with self._lock:
            self._cancel.set()
            if self._admitted or self._is_done():
                return  # the trainer sees the event before its next step
            if self._queue is not None:
                self._queue._withdraw(self)
            self._finished = Finished(
                reason="cancelled", epochs=0, seconds=0.0, train_seconds=0.0,
                train_loss=math.nan, val_loss=math.nan, val_mse=math.nan,
                sequences_per_second=0.0, message="Stopped before it started.")
            self._progressed.set()

    def wait_first_epoch(self, timeout: float) -> bool:
        """Block up to `timeout` seconds until the first epoch is in (or the job has ended).

        True if so. For a page that wants to draw the first loss point in the same rerun
        as the click that started the job, instead of one polling interval later.
        """
        return self._progressed.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to `timeout` seconds for the job's thread to end; True if it is done."""
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
        return self.snapshot().done

    # --- reading --------------------------------------------------------------------------

    def snapshot(self) -> JobView:
        """A consistent, immutable copy of the job's state (cheap: call it on every poll)."""
        with self._lock:
            status = DONE if self._is_done() else RUNNING if self._admitted else QUEUED
            position = (self._queue.position(self)
                        if status == QUEUED and self._queue is not None else None)
            train_losses, val_losses, val_mses = self._losses
            shown = self._shown
            return JobView(
                status=status, position=position, epoch=len(train_losses),
                total_epochs=self.cfg.epochs, train_losses=tuple(train_losses),
                val_losses=tuple(val_losses), val_mses=tuple(val_mses),
                reconstructions=shown.reconstructions if shown else None,
                reconstructions_epoch=shown.epoch if shown else 0,
                started=self._started, last_epoch=self._last_epoch,
                finished=self._finished, error=self._error,
            )

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A copy of the trained weights (for a download); only once the job is done."""
        with self._lock:
            if not self._is_done():
                raise RuntimeError(f"{self.name} is still training: stop() or wait() first")
            return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    # --- the worker thread ----------------------------------------------------------------

    def _is_done(self) -> bool:
        return self._finished is not None or self._error is not None or self._ended

    def _admit(self) -> None:
        self._admitted = True  # called by the queue, under the shared lock

    def _work(self) -> None:
        try:
            queue = self._queue
            if queue is not None and not queue._wait_turn(self, self._cancel, self._admit):
                return  # stopped while waiting
            for event in self._events:
                self._record(event)
                if self._alive is not None and not self._cancel.is_set() and not self._alive():
                    log.info("training job %s stopped: its page is gone", self.name)
                    self._cancel.set()  # the trainer ends with "cancelled" before its next step
        except Exception as err:  # never BaseException: shutdown signals must pass
            log.exception("training job %s failed", self.name)
            with self._lock:
                self._error = f"Training failed: {type(err).__name__}: {err}"
        finally:
            self._events.close()  # restores torch's thread count if the loop ended early
            with self._lock:
                if self._finished is None and self._error is None:
                    self._error = "Training ended without a result: its thread was interrupted."
                self._ended = True
                self._progressed.set()
                if self._queue is not None:
                    self._queue._withdraw(self)  # frees the slot for the next in line

    def _record(self, event: Started | Epoch | Finished) -> None:
        with self._lock:
            if isinstance(event, Started):
                self._started = event
            elif isinstance(event, Epoch):
                for history, value in zip(self._losses, (event.train_loss, event.val_loss,
                                                         event.val_mse), strict=True):
                    history.append(value)
                self._last_epoch = event  # older events are dropped with their arrays
                if event.reconstructions is not None:
                    event.reconstructions.flags.writeable = False  # views share it
                    self._shown = event
                self._progressed.set()
            else:
                self._finished = event  # the thread's end sets _progressed


_DEFAULT_LOCK = threading.Lock()
_DEFAULT: list[TrainingQueue] = []  # at most one: the process-wide queue


def default_queue() -> TrainingQueue:
    """The process-wide queue, created on first use (thread-safe).

    For the CLI and scripts. The web app holds its queue with `st.cache_resource` instead
    (one object shared by every session, cleared with the app's caches):

        @st.cache_resource
        def shared_queue() -> TrainingQueue:
            return TrainingQueue()
    """
    with _DEFAULT_LOCK:
        if not _DEFAULT:
            _DEFAULT.append(TrainingQueue())
        return _DEFAULT[0]
