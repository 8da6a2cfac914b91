"""LocalRunner: training in daemon threads of this process, admitted by a fair queue, and the
registry that keeps every run findable by id.

A Streamlit page must never block on training, and a thread of our own must make no st.*
call. So each run gets a daemon thread that waits for its turn, builds the model and the data
from its JobSpec, consumes `train(...)` and records the events under a lock; a page polls
`snapshot()` and draws the immutable JobView it gets back. At most `slots` runs train at once,
so torch threads x running jobs stays within the cores (an oversubscribed OpenMP pool runs
~100x slower); the queue's policy decides who trains next (FIFO, or round-robin by epochs).

Runs belong to the runner, not to a page: each has an unguessable id, and any page that has
the id attaches to it (a reload, a second device, a "watch my run" link). A submit whose key
(jobs.key) matches a run that is queued, running or finished with a result joins it instead
of training again. A run goes on while at least one attached learner wants it: each learner
lets go by stop() or by its `alive` check failing for longer than RECONNECT_GRACE_S. Finished
runs are kept within a stated lifetime and memory bound (the constants below); a held
RunHandle keeps its own run beyond them.
"""

from __future__ import annotations

import collections
import heapq
import logging
import math
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

from ..archs import build_model
from ..data import load
from ..training import Epoch, Finished, Started, train
from .estimate import Load, wait_seconds
from .key import RunKey, run_key
from .queue import GONE, ROUND_ROBIN, WAITING, FairQueue, check_count, check_policy
from .runner import RunHandle, RunNotFound
from .spec import JobSpec, validate_job
from .view import DONE, QUEUED, RUNNING, JobView

log = logging.getLogger(__name__)

# A finished run is kept this long after anyone last looked at it (a poll, an attach, a
# download): long enough for a lesson's "open the link again later" and for a teacher's shared
# link, short enough that a server running for days does not keep every run ever trained.
FINISHED_TTL_S = 30 * 60
# At most this many finished runs, oldest look first out: a class of 30 trying ~15 settings
# each. Bounds the registry's bookkeeping whatever the models' sizes.
MAX_FINISHED_RUNS = 500
# At most this many bytes of finished runs' weights: the bound that protects the server's
# memory. The app's default model holds 52 KB (~5000 fit); the largest its knobs allow, 15 MB
# (hidden_n, T = 200, F = 8, U = 256: 17 fit).
MAX_FINISHED_BYTES = 256 * 2**20
# A learner's `alive` may say "gone" this long before the learner stops wanting its run: a
# reload or a network blip reconnects within seconds and must find its run still going.
RECONNECT_GRACE_S = 10.0
# How often a run waiting for a slot asks its learners' `alive`: a closed tab's waiting run
# leaves the line within about this long instead of keeping its place.
QUEUE_CHECK_S = 1.0
# Ids of evicted runs remembered (ids only) to say "expired" rather than "unknown".
EVICTED_IDS_KEPT = 10_000
# Results another learner may join: any ending the same settings would reproduce. A stopped
# ("cancelled") or failed run is never joined: its numbers depend on when it was stopped.
JOINABLE = ("completed", "target_reached", "diverged")
# Round-robin by epochs. bench/scheduling.py, 10 learners at the app's default model with 10
# epochs each on 2 cores (shared machine, load average ~7): the last learner's first loss point
# 1.1 s against 15 s first-in-first-out, all done in 14 s against 17 s (6 learners: 0.5 s
# against 10 s; 8 s against 12 s). The first point's wait grows with the runs ahead under FIFO,
# with their epochs only under round-robin.
DEFAULT_POLICY = ROUND_ROBIN
RECENT_EPOCHS = 20  # per-epoch timings averaged for runs that have no measurement of their own


# build_model seeds torch's one global generator (fork_rng + manual_seed): two threads building
# at once can draw each other's numbers, and a run would start from weights its seed does not
# give. Every model this runner builds is built under this lock.
_BUILD_LOCK = threading.Lock()


def _build(job: JobSpec) -> nn.Module:
    """The run's initial model, as its seed makes it (or holding `job.init`'s weights)."""
    with _BUILD_LOCK:
        model = build_model(job.model, seed=job.seed)
    if job.init is not None:  # checked by validate_job: the file fits the model
        model.load_state_dict(job.init.load(expected=job.model).state_dict, strict=True)
    return model


def _held_bytes(job: JobSpec) -> int:
    """Bytes a run's description holds besides its weights: an uploaded file's, if any."""
    return sum(getattr(part, "nbytes", 0) for part in (job.data, job.init))


def default_slots(threads_per_job: int = 1) -> int:
    """How many jobs may train at once so that threads x jobs <= the machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_job))


def new_run_id() -> str:
    """12 URL-safe characters (72 random bits): safe to share in a link, not to guess."""
    return secrets.token_urlsafe(9)


def _stopped_before_start() -> Finished:
    return Finished(reason="cancelled", epochs=0, seconds=0.0, train_seconds=0.0,
                    train_loss=math.nan, val_loss=math.nan, val_mse=math.nan,
                    sequences_per_second=0.0, message="Stopped before it started.")


def _ask(alive: Callable[[], bool]) -> bool:
    """A page's answer to "still there?"; a callback that raises counts as gone."""
    try:
        return bool(alive())
    except Exception:
        log.exception("an alive() callback raised: its learner counts as gone")
        return False


@dataclass
class _Attachment:
    """One page attached to a run: a learner (keeps it going) or a watcher (read-only)."""

    alive: Callable[[], bool] | None  # None: wants it until it lets go by detach
    watch_only: bool
    gone_since: float | None = None  # clock time `alive` first said no (None: there)


class _Settings:
    """What every run of one runner shares: its clock, grace and estimate inputs."""

    def __init__(self, clock: Callable[[], float], grace: float, check_seconds: float | None):
        self.clock, self.grace, self.check_seconds = clock, grace, check_seconds
        self.recent: collections.deque[float] = collections.deque(maxlen=RECENT_EPOCHS)

    def typical_epoch(self) -> float | None:
        """Mean wall seconds per epoch of the latest epochs of any run (None: none yet)."""
        recent = list(self.recent)
        return sum(recent) / len(recent) if recent else None


class _LocalRun:
    """One run's thread, attachments and recorded state; its lock guards all of them."""

    def __init__(self, run_id: str, job: JobSpec, key: RunKey, queue: FairQueue,
                 settings: _Settings, name: str, on_end: Callable[[_LocalRun], None]):
        self.run_id, self.job, self.key, self.name = run_id, job, key, name
        self.queue, self.settings, self.on_end = queue, settings, on_end
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.progressed = threading.Event()  # the first epoch is in, or the run has ended
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)
        self.attachments: dict[str, _Attachment] = {}
        self.model: nn.Module | None = None  # built by the thread once admitted
        self.began = False  # admitted at least once
        self.started: Started | None = None
        self.losses: tuple[list[float], list[float], list[float]] = ([], [], [])
        self.last_epoch: Epoch | None = None
        self.shown: Epoch | None = None  # the latest Epoch that carried reconstructions
        self.finished: Finished | None = None
        self.error: str | None = None
        self.ended = False  # the thread has finished its work
        # Read without the lock by the runner (eviction) and by other runs (estimates):
        self.last_access = settings.clock()
        self.nbytes = 0  # the finished model's weights, for the registry's memory bound
        self.slot_seconds, self.slot_epochs = 0.0, 0  # wall time on a slot per epoch trained
        self.slot_clock: list[float] = []  # slot_seconds as each epoch ended
        self.epoch_t0 = time.perf_counter()  # when the epoch now training began
        self.ticket = queue.join(self)  # last: other runs' estimates read the fields above

    # --- attachments ----------------------------------------------------------------------

    def attach(self, alive: Callable[[], bool] | None, watch_only: bool,
               joining: bool = False) -> str | None:
        """A new attachment's id; None if `joining` and the run may not be joined."""
        with self.lock:
            if joining and not self._joinable():
                return None
            who = secrets.token_urlsafe(9)
            self.attachments[who] = _Attachment(alive, watch_only)
            return who

    def detach(self, who: str) -> None:
        """Attachment `who` lets go; with no learner left wanting the run, it ends."""
        with self.lock:
            gone = self.attachments.pop(who, None)
            if gone is None or gone.watch_only or self._wanted():
                return
            ended = self._end()
        if ended:
            self.progressed.set()

    def still_wanted(self) -> bool:
        """Ask the learners' `alive` (outside the lock); end the run if nobody wants it."""
        with self.lock:
            asks = [(who, a.alive) for who, a in self.attachments.items() if a.alive]
        answers = [(who, _ask(alive)) for who, alive in asks]
        now = self.settings.clock()
        with self.lock:
            for who, there in answers:
                attachment = self.attachments.get(who)
                if attachment is not None:
                    attachment.gone_since = None if there else (attachment.gone_since or now)
            for who, a in list(self.attachments.items()):
                if a.gone_since is not None and now - a.gone_since >= self.settings.grace:
                    del self.attachments[who]
            if self._wanted():
                return True
            if not self.cancel.is_set() and not self.is_done():
                log.info("training run %s stopped: no learner wants it any more", self.name)
            ended = self._end()
        if ended:
            self.progressed.set()
        return False

    def _wanted(self) -> bool:
        """Whether any attached learner still wants the run (the caller holds the lock)."""
        return any(not a.watch_only for a in self.attachments.values())

    def _joinable(self) -> bool:
        """Whether a new learner may share this run's result (the caller holds the lock)."""
        if self.error is not None:
            return False
        if self.finished is not None:
            return self.finished.reason in JOINABLE
        return not self.cancel.is_set() and not self.ended

    def counts(self) -> tuple[int, int]:
        """(learners, watchers) attached (the caller holds the lock)."""
        learners = sum(not a.watch_only for a in self.attachments.values())
        return learners, len(self.attachments) - learners

    # --- control, from any thread ---------------------------------------------------------

    def stop(self) -> None:
        """End the run for everyone: a waiting run leaves the queue now; a training one
        stops before its next step."""
        with self.lock:
            ended = self._end()
        if ended:
            self.progressed.set()

    def _end(self) -> bool:
        """Cancel; a run that never trained leaves the line with its Finished now (True).
        A run paused between turns collects its Finished from the trainer in its thread.
        A run that has ended keeps its ending (the caller holds the lock)."""
        if self.is_done():
            return False
        self.cancel.set()
        if not self.queue.withdraw(self.ticket) or self.began:
            return False
        self.finished = _stopped_before_start()
        return True

    def is_done(self) -> bool:
        """Whether the run has ended (the caller holds the lock)."""
        return self.finished is not None or self.error is not None or self.ended

    def snapshot(self) -> JobView:
        """A consistent, immutable copy of the run's state."""
        self.last_access = self.settings.clock()
        with self.lock:
            position = None
            if self.is_done():
                status = DONE
            else:
                state, position = self.queue.place(self.ticket)
                status = QUEUED if state == WAITING and not self.began else RUNNING
            train_losses, val_losses, val_mses = self.losses
            shown = self.shown
            learners, watchers = self.counts()
            view = JobView(
                status=status, position=position, epoch=len(train_losses),
                total_epochs=self.job.train.epochs, train_losses=tuple(train_losses),
                val_losses=tuple(val_losses), val_mses=tuple(val_mses),
                reconstructions=shown.reconstructions if shown else None,
                reconstructions_epoch=shown.epoch if shown else 0,
                started=self.started, last_epoch=self.last_epoch,
                finished=self.finished, error=self.error, run_id=self.run_id,
                epoch_seconds=self.epoch_seconds(), learners=learners, watchers=watchers,
                slot_seconds=tuple(self.slot_clock),
            )
        if position is not None:  # outside the lock: reads other runs' figures
            view = replace(view, wait_seconds=self._wait_estimate())
        return view

    def epoch_seconds(self) -> float | None:
        """Measured wall seconds per epoch while on a slot (None: no epoch yet)."""
        return self.slot_seconds / self.slot_epochs if self.slot_epochs else None

    def queue_load(self, admitted: bool) -> Load:
        """This run's figures for a wait estimate (read without its lock: an estimate)."""
        done = len(self.losses[0])
        into = max(0.0, time.perf_counter() - self.epoch_t0) if admitted else 0.0
        return Load(self.epoch_seconds(), max(1, self.job.train.epochs - done), into)

    def _wait_estimate(self) -> float | None:
        admitted, ahead = self.queue.ahead(self.ticket)
        runs = [(t.owner, True) for t in admitted] + [(t.owner, False) for t in ahead]
        loads = [run.queue_load(on_slot) for run, on_slot in runs if run is not None]
        n_admitted = sum(1 for run, on_slot in runs if on_slot and run is not None)
        return wait_seconds(self.queue.policy, self.queue.slots, loads[:n_admitted],
                            loads[n_admitted:], self.settings.typical_epoch())

    def trained_model(self) -> nn.Module:
        """The model once the run is done: the initial one if it never trained."""
        self.last_access = self.settings.clock()
        with self.lock:
            if not self.is_done():
                raise RuntimeError(f"run {self.run_id} is still training: stop() or wait() "
                                   "first")
            if self.model is None:  # stopped or failed before the thread built it
                self.model = _build(self.job).eval()
            return self.model

    def adopt(self, model: nn.Module, losses: tuple[list[float], list[float], list[float]],
              finished: Finished) -> None:
        """Become a finished run holding `model` (trained elsewhere) instead of training:
        leave the line at once, and a thread that has nothing to do."""
        self.queue.release(self.ticket)
        with self.lock:
            self.ticket.owner = None
            self.model = model.eval()
            self.losses = losses
            self.finished = finished
            self.ended = True
            self.nbytes = sum(t.numel() * t.element_size()
                              for t in model.state_dict().values()) + _held_bytes(self.job)
        self.thread = threading.Thread(target=self.progressed.set, name=self.name, daemon=True)
        self.thread.start()

    # --- the thread ----------------------------------------------------------------------

    def _work(self) -> None:
        try:
            if self._wait_for_slot():  # False: stopped, or nobody wanted it, while waiting
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
                # No cycle left through its ticket: once evicted, the run is freed as soon as
                # no RunHandle holds it (not at the garbage collector's next pass).
                self.ticket.owner = None
                if self.model is not None:
                    self.nbytes = sum(t.numel() * t.element_size()
                                      for t in self.model.state_dict().values())
                self.nbytes += _held_bytes(self.job)
            self.progressed.set()
            self.on_end(self)

    def _wait_for_slot(self) -> bool:
        """Block until this run holds a slot (True) or has left the line (False); while it
        waits, ask its learners every check_seconds whether anyone still wants it."""
        every = self.settings.check_seconds
        while not self.queue.wait_turn(self.ticket, every):
            if self.queue.place(self.ticket)[0] == GONE:
                return False
            self.still_wanted()  # ends the run (withdraws the ticket) if nobody does
        with self.lock:
            self.began = True
        self.epoch_t0 = time.perf_counter()
        return True

    def _train(self) -> None:
        model = _build(self.job)
        data = load(self.job.data)
        events = train(model, data.train, data.val, self.job.train, self.cancel)
        with self.lock:
            self.model = model
        self.epoch_t0 = time.perf_counter()
        try:
            for event in events:
                self._record(event)
                if (isinstance(event, Finished) or self.cancel.is_set()
                        or not self.still_wanted()):
                    continue  # the trainer ends with "cancelled" before its next step
                if self._takes_turns_after(event) and self.queue.checkpoint(self.ticket):
                    self._wait_for_slot()  # False: ended while waiting, `cancel` is set
        finally:
            events.close()  # restores torch's thread count if the loop ended early

    def _takes_turns_after(self, event: Started | Epoch | Finished) -> bool:
        """Whether the trainer will train again after this event (so a turn may end here)."""
        if not isinstance(event, Epoch) or event.epoch >= self.job.train.epochs:
            return False
        target = self.job.train.until_mse
        return target is None or not event.val_mse <= target

    def _record(self, event: Started | Epoch | Finished) -> None:
        if isinstance(event, Epoch):
            now = time.perf_counter()
            seconds = now - self.epoch_t0
            self.settings.recent.append(seconds)
        with self.lock:
            if isinstance(event, Started):
                self.started = event
            elif isinstance(event, Epoch):
                self.slot_seconds += seconds
                self.slot_epochs += 1
                self.slot_clock.append(self.slot_seconds)
                self.epoch_t0 = now
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
    """Runs JobSpecs in daemon threads of this process, at most `slots` at a time, fairly,
    and keeps every run findable by id within a stated lifetime.

    `threads_per_job` torch threads per run (filled into a JobSpec that leaves them open);
    `slots` defaults to the cores divided by that, the measured best (bench/RESULTS.md).
    `policy`: FIFO or ROUND_ROBIN (by epochs). `clock` (seconds, monotonic) times lifetimes
    and grace periods; `grace_seconds` and `check_seconds` as RECONNECT_GRACE_S and
    QUEUE_CHECK_S (check_seconds None: a waiting run never asks its learners).
    """

    def __init__(self, slots: int | None = None, threads_per_job: int = 1, *,
                 policy: str = DEFAULT_POLICY, clock: Callable[[], float] = time.monotonic,
                 grace_seconds: float = RECONNECT_GRACE_S,
                 check_seconds: float | None = QUEUE_CHECK_S):
        self.threads_per_job = check_count("threads_per_job", threads_per_job)
        self.queue = FairQueue(default_slots(threads_per_job) if slots is None else slots,
                               check_policy(policy))
        self._settings = _Settings(clock, grace_seconds, check_seconds)
        self._runs: dict[str, _LocalRun] = {}  # every run not evicted
        self._held: weakref.WeakValueDictionary[str, _LocalRun] = weakref.WeakValueDictionary()
        self._by_key: dict[RunKey, _LocalRun] = {}  # the latest run of each key
        self._evicted: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def slots(self) -> int:
        """How many runs may train at once."""
        return self.queue.slots

    @property
    def policy(self) -> str:
        """Who trains next: FIFO or ROUND_ROBIN (by epochs)."""
        return self.queue.policy

    def counts(self) -> tuple[int, int]:
        """(runs holding a slot, runs waiting for one) right now."""
        return self.queue.counts()

    def following(self) -> int:
        """How many pages (learners and watchers) follow a run that has not ended: each polls
        for news while it does. Read without the runs' locks: an estimate."""
        with self._lock:
            runs = list(self._runs.values())
        return sum(len(run.attachments) for run in runs
                   if not run.ended and run.finished is None and run.error is None)

    def kept(self) -> int:
        """How many runs the registry keeps now (queued, running and finished)."""
        with self._lock:
            return len(self._runs)

    # --- runs by id -----------------------------------------------------------------------

    def submit(self, job: JobSpec, *, alive: Callable[[], bool] | None = None,
               name: str = "") -> RunHandle:
        """Check `job` in the caller's thread (ValueError if bad), then join an identical run
        (queued, running or finished with a result: handle.joined) or queue a new one; returns
        at once.

        `alive`, if given, is asked after every epoch (and while waiting); once it has said
        False for RECONNECT_GRACE_S (say, the learner closed the tab) this learner no longer
        wants the run, and a run nobody wants stops, so nobody's slot trains for empty pages.
        """
        validate_job(job)
        if job.train.threads is None:  # what the slots assume
            job = replace(job, train=replace(job.train, threads=self.threads_per_job))
        key = run_key(job)
        with self._lock:
            self._sweep()
            same = self._by_key.get(key)
            who = same.attach(alive, False, joining=True) if same is not None else None
            if same is not None and who is not None:
                same.last_access = self._settings.clock()
                return self._handle(same, who, joined=True)
            run_id = new_run_id()
            while run_id in self._runs or run_id in self._evicted:
                run_id = new_run_id()
            name = name or f"{job.model.arch}-{run_id[:6]}"
            run = _LocalRun(run_id, job, key, self.queue, self._settings, name, self._ended)
            who = run.attach(alive, False)
            self._runs[run_id] = self._held[run_id] = self._by_key[key] = run
            run.thread.start()  # before anyone can join it and wait() on its thread
        return self._handle(run, who, joined=False)

    def adopt(self, job: JobSpec, model: nn.Module, losses: dict[str, list[float]], *,
              message: str = "", name: str = "") -> RunHandle:
        """Keep a model trained elsewhere (a loaded weights file) as a finished run of `job`,
        findable by id like any other, with the caller attached. It is never joined: an
        identical JobSpec submitted later trains for itself. `losses`: "train", "val" and
        "val_mse" lists (missing ones empty); `message` says where the model came from."""
        validate_job(job)
        series = tuple(list(map(float, losses.get(k, ()))) for k in ("train", "val", "val_mse"))
        last = [s[-1] if s else math.nan for s in series]
        finished = Finished(reason="loaded", epochs=len(series[0]), seconds=0.0,
                            train_seconds=0.0, train_loss=last[0], val_loss=last[1],
                            val_mse=last[2], sequences_per_second=0.0, message=message)
        with self._lock:
            self._sweep()
            run_id = new_run_id()
            while run_id in self._runs or run_id in self._evicted:
                run_id = new_run_id()
            run = _LocalRun(run_id, job, run_key(job), self.queue, self._settings,
                            name or f"loaded-{run_id[:6]}", self._ended)
            run.adopt(model, series, finished)
            who = run.attach(None, False)
            self._runs[run_id] = self._held[run_id] = run
            self._sweep()
        return self._handle(run, who, joined=False)

    def attach(self, run_id: str, *, alive: Callable[[], bool] | None = None,
               watch_only: bool = False) -> RunHandle:
        """A new attachment to a kept run (RunNotFound if none).

        A learner (watch_only False) keeps a queued or running run going, as its submitter
        does: for a reload or a second device, pass the new page's `alive`. A watcher never
        keeps it going and its stop() never ends it; `alive` only tidies its count.
        """
        with self._lock:
            self._sweep()
        run = self._run(run_id)
        return self._handle(run, run.attach(alive, watch_only), joined=False,
                            watch_only=watch_only)

    def detach(self, run_id: str, who: str) -> None:
        """Attachment `who` lets go; the run ends once no attached learner wants it
        (an unknown `who` is ignored: letting go twice is harmless)."""
        self._run(run_id).detach(who)

    def get(self, run_id: str) -> RunHandle:
        """A handle to a kept run that neither keeps it going nor counts as a watcher."""
        return self._handle(self._run(run_id), None, joined=False, watch_only=True)

    def snapshot(self, run_id: str) -> JobView:
        """The run's state at this moment (cheap: call it on every poll)."""
        return self._run(run_id).snapshot()

    def stop(self, run_id: str) -> None:
        """End the run for every learner: a queued one leaves the queue now, a running one
        within one step. A page lets go with its handle's stop() (detach) instead."""
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
        """The trained model in eval mode (the initial one if it never trained); once done.
        Learners who share a run share this object: use it, do not train it further."""
        return self._run(run_id).trained_model()

    # --- the registry ---------------------------------------------------------------------

    def _handle(self, run: _LocalRun, who: str | None, joined: bool,
                watch_only: bool = False) -> RunHandle:
        return RunHandle(runner=self, run_id=run.run_id, job=run.job, record=run, who=who,
                         joined=joined, watch_only=watch_only)

    def _run(self, run_id: str) -> _LocalRun:
        if not isinstance(run_id, str):
            run_id = repr(run_id)
        now = self._settings.clock()
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and run.ended and now - run.last_access > FINISHED_TTL_S:
                self._evict(run, self._expired())  # before any submit has tidied up
                run = None
            if run is None:
                run = self._held.get(run_id)  # evicted, but a page still holds its handle
            reason = self._evicted.get(run_id)
        if run is None:
            shown = repr(run_id)[:24] + ("…" if len(repr(run_id)) > 24 else "")
            raise RunNotFound(run_id[:64], f"Run {shown} " + (
                reason or "is not known here: check the link, or train again."))
        run.last_access = self._settings.clock()
        return run

    def _ended(self, run: _LocalRun) -> None:
        """A run's thread has ended: its weights now count against the memory bound."""
        with self._lock:
            self._sweep()

    def _sweep(self) -> None:
        """Evict finished runs past their lifetime, then the least recently looked at while
        the count or the bytes exceed their bounds (the caller holds the lock)."""
        now = self._settings.clock()
        finished = [r for r in self._runs.values() if r.ended]
        for run in finished:
            if now - run.last_access > FINISHED_TTL_S:
                self._evict(run, self._expired())
        finished = [r for r in finished if r.run_id in self._runs]
        total = sum(r.nbytes for r in finished)
        if len(finished) <= MAX_FINISHED_RUNS and total <= MAX_FINISHED_BYTES:
            return
        oldest = [(r.last_access, i, r) for i, r in enumerate(finished)]
        heapq.heapify(oldest)
        while oldest and (len(finished) > MAX_FINISHED_RUNS or total > MAX_FINISHED_BYTES):
            run = heapq.heappop(oldest)[2]
            finished.remove(run)
            total -= run.nbytes
            self._evict(run, "is no longer kept: the server keeps at most "
                             f"{MAX_FINISHED_RUNS} finished runs "
                             f"({MAX_FINISHED_BYTES // 2**20} MB of weights), "
                             "and newer ones took its place. Train again.")

    @staticmethod
    def _expired() -> str:
        return (f"has expired: finished runs are kept {FINISHED_TTL_S // 60} minutes after "
                "they were last looked at. Train again.")

    def _evict(self, run: _LocalRun, reason: str) -> None:
        del self._runs[run.run_id]
        if self._by_key.get(run.key) is run:
            del self._by_key[run.key]
        self._evicted[run.run_id] = reason
        while len(self._evicted) > EVICTED_IDS_KEPT:
            self._evicted.popitem(last=False)


_SHARED_LOCK = threading.Lock()
_SHARED: list = []  # at most one: the process-wide runner (LocalRunner or DaskRunner)
_NOTE: list[str | None] = []  # why it is in-process though a cluster was asked for (or None)


def shared_runner():
    """The process-wide runner every page session submits to, created on first use: a
    LocalRunner, or a DaskRunner when LSTMAE_DASK_SCHEDULER names a reachable scheduler
    (jobs.dask_runner.select).

    A plain module-level object (thread-safe creation), never a Streamlit cache: any client
    can clear those, and a second runner would add slots beyond the cores.
    """
    with _SHARED_LOCK:
        if not _SHARED:
            from .dask_runner import select

            runner, note = select()
            _SHARED.append(runner)
            _NOTE.append(note)
        return _SHARED[0]


def shared_runner_note() -> str | None:
    """Why the process-wide runner trains in this process though LSTMAE_DASK_SCHEDULER names a
    cluster (it could not be reached at start-up); None when it trains where it was asked."""
    shared_runner()
    return _NOTE[0]

