"""DaskRunner: runs trained on a Dask cluster's workers, behind the same Runner interface.

    runner = DaskRunner("tcp://127.0.0.1:8786")       # or LSTMAE_DASK_SCHEDULER, see select()
    run = runner.submit(job, alive=is_my_page_open)   # as LocalRunner
    DaskRunner(same_address).attach(run.run_id)       # another app replica finds the same run

A run is plain data: the JobSpec travels to a worker, which builds the model and the data
itself (no shared files) in `train_on_worker`. Everything other app replicas need to find a
run lives on the scheduler, under `PREFIX` in its metadata store:
- [PREFIX, "by_key", <key hash>] -> the latest run id of a RunKey (identical runs join it);
- [PREFIX, "run", <id>] -> {"job": pickled JobSpec, "progress": pickled dict the worker
  replaces after every event, "attempts": worker attempts so far, "on": the worker the latest
  attempt started on (place() counts the runs no worker has started), "stopped": True once
  stopped ("unwanted" if because no learner wants it any more), "wanted": {replica id: {"n":
  learners attached there, "until": wall seconds the count lasts unless renewed, None: for
  good}}};
- [PREFIX, "weights", <id>] -> the finished weights (torch.save bytes), so a finished run
  survives the worker that trained it;
- [PREFIX, "ended", <id>] -> when the run ended or a page last looked at it since (wall
  seconds): runs looked at by nobody for FINISHED_TTL_S, and the oldest beyond
  MAX_FINISHED_RUNS, are removed from the store by any replica's sweep (`sweep()`);
and the run's future is a published dataset named after its id (it keeps the task alive
whichever replica submitted it). Stop is a `distributed.Event` a thread on the worker waits
on: it sets the training loop's `cancel`, checked before every step, so a run stops within
a fraction of a second.

Each worker offers the resource RESOURCE once per core (`dask worker --nthreads 1
--resources train=1`) and every run asks for one unit of it, so at most one run trains per
core. A worker that dies mid-run: the scheduler runs the task again on another worker (from
the start: training is deterministic, so the losses are the same), up to Dask's
`distributed.scheduler.allowed-failures`; after that the run ends with an error that says so.

Learners: each replica asks its own pages' `alive` (every `check_seconds`, with the same
reconnect grace as LocalRunner) and records on the scheduler how many of its learners want the
run, with a deadline (wall clock) it renews at every check; when a replica's last learner lets
go and no replica has one left, the run is stopped. A replica that dies without letting go
(kill -9) renews nothing: its count lasts WANTED_TTL_S beyond its last renewal, long enough for
a learner who reloads onto a surviving replica to attach there, and then no longer counts. The
worker training the run reads the counts once per epoch (and once before it starts), so a run
whose every count has expired stops itself even when no live replica follows it. Either way
it ends "cancelled", saying that no learner wants it any more.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from ..archs import build_model
from ..data import load
from ..training import Epoch, Finished, Started, train
from .key import code_version, run_key
from .local import (
    FINISHED_TTL_S,
    JOINABLE,
    MAX_FINISHED_RUNS,
    RECONNECT_GRACE_S,
    LocalRunner,
    _ask,
    _Attachment,
    _stopped_before_start,
    new_run_id,
)
from .queue import FIFO
from .runner import RunHandle, RunNotFound
from .spec import JobSpec, validate_job
from .view import DONE, QUEUED, RUNNING, JobView

log = logging.getLogger(__name__)

SCHEDULER_ENV = "LSTMAE_DASK_SCHEDULER"  # tcp://host:port of the Dask scheduler, or unset
PREFIX = "lstmae"
RESOURCE = "train"  # one unit per core on every worker; one unit per run
CONNECT_TIMEOUT_S = 5.0  # how long start-up waits for the scheduler before saying it failed
STOP_POLL_S = 0.25  # the worker's stop watcher re-checks its own run's end this often
POLL_S = 0.1  # wait() and wait_first_epoch() look at the run this often
# Finished runs are kept as in LocalRunner (FINISHED_TTL_S after anyone last looked at one, at
# most MAX_FINISHED_RUNS): every replica sweeps the scheduler's store this often, and a replica
# tells the scheduler a page still looks at a finished run at most this often.
SWEEP_EVERY_S = 30.0
TOUCH_EVERY_S = 30.0
CHECK_S = 1.0  # a replica asks its pages' `alive` and renews its learner counts this often
# How long a replica's learner count counts after it last renewed it. A live replica renews
# every CHECK_S; a dead one's count must outlive the learner's reload onto another replica,
# which LocalRunner's grace already bounds (RECONNECT_GRACE_S: a reload reconnects within it),
# plus the up to one check period the count was already old when its replica died, plus a
# margin for a check that is late (a busy app server, a slow sweep or scheduler answer in the
# same thread), four more periods. Replicas and workers compare wall clocks, so this also
# assumes the machines' clocks agree to well within a few seconds (NTP keeps them to ms).
# Longer costs an abandoned run this many seconds of a worker; shorter risks stopping a live
# class's run whose replica was merely slow.
WANTED_TTL_S = RECONNECT_GRACE_S + 5 * CHECK_S
UNWANTED = "Stopped: no learner wants it any more."  # a run's Finished.message when so
UNWANTED_STOP = "unwanted"  # the run's "stopped" metadata when it was stopped for that reason


def _run_meta(run_id: str, *more: str) -> list[str]:
    return [PREFIX, "run", run_id, *more]


def _stop_name(run_id: str) -> str:
    return f"{PREFIX}-stop-{run_id}"


def _dataset_name(run_id: str) -> str:
    return f"{PREFIX}-run-{run_id}"


def _entry(learners: int, until: float | None) -> dict:
    """A replica's record of its learners: how many, and until when (wall seconds; None:
    until it says otherwise, for a runner that asks no pages and so renews nothing)."""
    return {"n": int(learners), "until": until}


def _wanted(entries: dict | None, now: float) -> int:
    """Learners wanting a run across replicas, counting only unexpired entries at `now`."""
    return sum(int(e["n"]) for e in (entries or {}).values()
               if e["until"] is None or now <= e["until"])


def _unwanted(finished: Finished) -> Finished:
    """`finished` (a stop), saying that nobody wanted the run any more."""
    return replace(finished, message=UNWANTED)


def key_hash(job: JobSpec) -> str:
    """The same short text for identical runs in every process running the same code."""
    return hashlib.sha256(repr(run_key(job)).encode()).hexdigest()[:24]


# --- the worker's side ------------------------------------------------------------------------


def train_on_worker(run_id: str, job: JobSpec, code: str) -> str:
    """Train `job` in a Dask worker and publish its progress and weights on the scheduler.

    Returns the run's ending reason. Raises if this worker runs other training code than the
    app that submitted the run (its numbers would not be the ones the run's key promises).
    """
    from distributed import Event, get_client, get_worker

    client = get_client()
    if code != code_version():
        raise RuntimeError(
            f"the worker {get_worker().address} runs other training code ({code_version()}) "
            f"than the app ({code}): start workers and app replicas from the same version")
    attempt = int(client.get_metadata(_run_meta(run_id, "attempts"), 0) or 0) + 1
    client.set_metadata(_run_meta(run_id, "attempts"), attempt)
    client.set_metadata(_run_meta(run_id, "on"), get_worker().address)  # off the line: place()
    progress: dict = {"attempt": attempt, "worker": get_worker().address, "began": False,
                      "started": None, "losses": ([], [], []), "last_epoch": None,
                      "shown": None, "finished": None, "epoch_seconds": []}

    def publish() -> None:
        client.set_metadata(_run_meta(run_id, "progress"), pickle.dumps(progress))

    def wanted() -> bool:  # one round trip; False: every replica's count is 0 or expired
        return _wanted(client.get_metadata(_run_meta(run_id, "wanted"), None), time.time()) > 0

    def stopped_why(finished: Finished) -> Finished:  # "unwanted": a stop that says so
        unwanted = client.get_metadata(_run_meta(run_id, "stopped"), None) == UNWANTED_STOP
        return _unwanted(finished) if unwanted else finished

    def unwanted() -> bool:  # no learner wants it: recorded as such, for stopped_why
        if wanted():
            return False
        log.info("training run %s stopped: no learner wants it any more", run_id)
        client.set_metadata(_run_meta(run_id, "stopped"), UNWANTED_STOP)
        return True

    stop = Event(_stop_name(run_id), client=client)
    if not stop.is_set() and unwanted():  # every learner's replica died while it waited
        stop.set()
    if stop.is_set():  # stopped while it waited for a worker
        client.set_metadata([PREFIX, "ended", run_id], time.time())
        progress["finished"] = stopped_why(_stopped_before_start())
        publish()
        return "cancelled"
    cancel, ended = threading.Event(), threading.Event()

    def watch_stop() -> None:
        while not ended.is_set():
            try:
                if stop.wait(STOP_POLL_S):
                    cancel.set()
                    return
            except Exception:  # the scheduler is gone: nobody can send a Stop any more
                if not ended.is_set():
                    log.warning("run %s: lost the scheduler; Stop no longer reaches it", run_id)
                return

    watcher = threading.Thread(target=watch_stop, name=f"stop-{run_id}", daemon=True)
    watcher.start()
    try:
        model = build_model(job.model, seed=job.seed)
        data = load(job.data)
        progress["began"] = True
        publish()
        t0 = time.perf_counter()
        for event in train(model, data.train, data.val, job.train, cancel):
            if isinstance(event, Started):
                progress["started"] = event
            elif isinstance(event, Epoch):
                now = time.perf_counter()
                progress["epoch_seconds"].append(now - t0)
                t0 = now
                for history, value in zip(progress["losses"], (
                        event.train_loss, event.val_loss, event.val_mse), strict=True):
                    history.append(value)
                progress["last_epoch"] = event
                if event.reconstructions is not None:
                    progress["shown"] = event
                if not cancel.is_set() and unwanted():  # no live replica may follow it
                    cancel.set()  # the trainer ends with "cancelled" before its next step
            else:
                if event.reason == "cancelled":
                    event = stopped_why(event)
                buffer = io.BytesIO()
                torch.save(model.state_dict(), buffer)
                client.set_metadata([PREFIX, "weights", run_id], buffer.getvalue())
                client.set_metadata([PREFIX, "ended", run_id], time.time())  # kept from now
                progress["finished"] = event
            publish()
        return progress["finished"].reason
    finally:
        ended.set()


# --- the app's side ---------------------------------------------------------------------------


@dataclass
class _Followed:
    """A run this replica follows: its spec, its future and this replica's attachments."""

    run_id: str
    job: JobSpec
    future: object | None  # distributed.Future (None: the cluster no longer holds the task)
    attachments: dict[str, _Attachment] = field(default_factory=dict)
    model: nn.Module | None = None
    final: JobView | None = None  # once done, its last view (an ended run changes no more)
    seen: JobView | None = None  # the latest view any poll fetched (for counts: no round trip)
    touched: float = 0.0  # wall time this replica last told the scheduler a page looked at it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def learners(self) -> int:
        return sum(not a.watch_only for a in self.attachments.values())


def _failure(err: BaseException, attempts: int) -> str:
    """A failed task's reason in words a page can show."""
    if type(err).__name__ == "KilledWorker":
        return (f"Training failed: the cluster's worker died while training this run "
                f"({attempts} attempt{'s' if attempts != 1 else ''}), and the cluster gave up "
                "on it. Train again; if it keeps happening, the workers may lack memory.")
    return f"Training failed: {type(err).__name__}: {err}"


def _expired(run_id: str) -> str:
    """Why a run id finds nothing, in words a page can show."""
    shown = repr(run_id)[:24] + ("…" if len(repr(run_id)) > 24 else "")
    return (f"Run {shown} is not known to the training cluster: check the link, or train "
            f"again (a finished run is kept {FINISHED_TTL_S // 60:.0f} minutes after anyone "
            "last looked at it).")


class DaskRunner:
    """Runs JobSpecs on a Dask cluster; any replica connected to the same scheduler finds
    every run by id. `address`: the scheduler's tcp://host:port, or a distributed.Client."""

    def __init__(self, address, *, grace_seconds: float = RECONNECT_GRACE_S,
                 check_seconds: float | None = CHECK_S,
                 clock: Callable[[], float] = time.monotonic,
                 timeout: float = CONNECT_TIMEOUT_S, finished_ttl: float = FINISHED_TTL_S,
                 max_finished: int = MAX_FINISHED_RUNS, sweep_seconds: float = SWEEP_EVERY_S,
                 wall: Callable[[], float] = time.time, wanted_ttl: float = WANTED_TTL_S):
        from distributed import Client, Lock

        self._own_client = not isinstance(address, Client)
        self.client = (Client(address, timeout=timeout, set_as_default=False)
                       if self._own_client else address)
        self.address = self.client.scheduler.address
        # One submit at a time across every replica: two identical submits join one run.
        self._submit_lock = Lock(f"{PREFIX}-submit", scheduler_rpc=self.client.scheduler,
                                 loop=self.client.loop)
        self.replica = secrets.token_urlsafe(6)  # this app process, in the "wanted" counts
        self.threads_per_job = 1
        self.policy = FIFO  # Dask hands free workers the oldest waiting task first
        self._grace, self._clock = grace_seconds, clock
        self._runs: dict[str, _Followed] = {}
        # Runs swept from the store that a page still holds a handle of: it keeps what it saw.
        self._held: weakref.WeakValueDictionary[str, _Followed] = weakref.WeakValueDictionary()
        self._ttl, self._max_finished, self._wall = finished_ttl, max_finished, wall
        self._sweep_seconds, self._last_sweep = sweep_seconds, 0.0
        # Counts this replica records last wanted_ttl unless renewed; with no learner checks
        # (the CLI) nothing renews them, so they last until its learners let go.
        self._wanted_ttl = None if check_seconds is None else wanted_ttl
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._monitor = None
        if check_seconds is not None:
            self._monitor = threading.Thread(target=self._watch_learners, args=(check_seconds,),
                                             name="dask-runner-learners", daemon=True)
            self._monitor.start()

    def close(self) -> None:
        """Stop asking learners and disconnect (runs go on in the cluster)."""
        self._closed.set()
        if self._monitor is not None:
            self._monitor.join(5)
        if self._own_client:
            self.client.close()

    # --- what the pages' polling reads ----------------------------------------------------

    @property
    def slots(self) -> int:
        """How many runs the cluster trains at once: its workers' RESOURCE units."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {}).values()
        return int(sum(w.get("resources", {}).get(RESOURCE, 0) for w in workers))

    def counts(self) -> tuple[int, int]:
        """(running, waiting) among the runs this replica follows, as their pages' latest
        polls saw them (no scheduler round trip: every page's poll asks)."""
        with self._lock:
            views = [r.seen for r in self._runs.values() if r.final is None and r.seen]
        return (sum(v.status == RUNNING for v in views), sum(v.status == QUEUED for v in views))

    def following(self) -> int:
        """How many of this replica's pages follow a run not seen to end (no round trip)."""
        with self._lock:
            runs = list(self._runs.values())
        return sum(len(r.attachments) for r in runs if r.final is None)

    def kept(self) -> int:
        """How many runs this replica follows."""
        with self._lock:
            return len(self._runs)

    # --- runs by id -----------------------------------------------------------------------

    def submit(self, job: JobSpec, *, alive: Callable[[], bool] | None = None,
               name: str = "") -> RunHandle:
        """Check `job` here (ValueError if bad), then join an identical run anywhere in the
        cluster (queued, running or finished with a result: handle.joined) or send it to the
        cluster; returns at once."""
        validate_job(job)
        if job.train.threads is None:
            job = replace(job, train=replace(job.train, threads=self.threads_per_job))
        key = run_key(job)
        digest = key_hash(job)
        with self._submit_lock:  # one submit at a time, cluster-wide
            same = self.client.get_metadata([PREFIX, "by_key", digest], None)
            if same is not None and self._joinable(same):
                run = self._run(same)
                return self._handle(run, self._attach(run, alive, False), joined=True)
            run_id = new_run_id()
            # Its submitter's learner is counted from the start: a worker that picks the
            # run up before the attach below must not find it unwanted.
            self.client.set_metadata(_run_meta(run_id), {
                "job": pickle.dumps(job), "attempts": 0,
                "wanted": {self.replica: self._entry(1)}})
            future = self.client.submit(train_on_worker, run_id, job, key.code,
                                        key=f"{PREFIX}-train-{run_id}", pure=False,
                                        resources={RESOURCE: 1}, fifo_timeout=0)
            self.client.publish_dataset(future, name=_dataset_name(run_id))
            self.client.set_metadata([PREFIX, "by_key", digest], run_id)
        run = _Followed(run_id, job, future)
        with self._lock:
            self._runs[run_id] = run
        return self._handle(run, self._attach(run, alive, False), joined=False)

    def attach(self, run_id: str, *, alive: Callable[[], bool] | None = None,
               watch_only: bool = False) -> RunHandle:
        """A new attachment to a run any replica started (RunNotFound if the cluster has none
        by this id): a learner keeps it going, a watcher only reads."""
        run = self._run(run_id)
        return self._handle(run, self._attach(run, alive, watch_only), joined=False,
                            watch_only=watch_only)

    def detach(self, run_id: str, who: str) -> None:
        """Attachment `who` lets go; the run ends once no learner on any replica wants it."""
        run = self._run(run_id)
        with run.lock:
            gone = run.attachments.pop(who, None)
        if gone is not None and not gone.watch_only:
            self._publish_learners(run)

    def get(self, run_id: str) -> RunHandle:
        """A handle to a run that neither keeps it going nor watches it."""
        return self._handle(self._run(run_id), None, joined=False, watch_only=True)

    def stop(self, run_id: str, *, unwanted: bool = False) -> None:
        """End the run for everyone, wherever it trains: before its next step. `unwanted`:
        because no learner wants it any more (its Finished says so)."""
        from distributed import Event

        self._run(run_id)
        self.client.set_metadata(_run_meta(run_id, "stopped"),
                                 UNWANTED_STOP if unwanted else True)
        Event(_stop_name(run_id), client=self.client).set()

    def snapshot(self, run_id: str) -> JobView:
        """The run's state as its worker last published it (one scheduler round trip)."""
        run = self._run(run_id)
        if run.final is not None:
            self._touch(run)
            return run.final
        try:
            meta = self.client.get_metadata(_run_meta(run_id), None) or {}
        except (OSError, TimeoutError) as err:  # not cached as final: the next poll retries
            return JobView(
                status=DONE, position=None, epoch=0, total_epochs=run.job.train.epochs,
                train_losses=(), val_losses=(), val_mses=(), reconstructions=None,
                reconstructions_epoch=0, started=None, last_epoch=None, finished=None,
                error=(f"The training cluster at {self.address} does not answer "
                       f"({type(err).__name__}); reload the page in a moment."),
                run_id=run_id)
        progress = pickle.loads(meta["progress"]) if meta.get("progress") else None
        finished = progress["finished"] if progress else None
        error = None
        if finished is None:
            error = self._task_error(run, int(meta.get("attempts", 0)))
            if error is None and meta.get("stopped") and not (progress and progress["began"]):
                finished = _stopped_before_start()
                if meta["stopped"] == UNWANTED_STOP:
                    finished = _unwanted(finished)
        began = bool(progress and progress["began"])
        status = DONE if finished is not None or error else (RUNNING if began else QUEUED)
        losses = progress["losses"] if progress else ([], [], [])
        shown = progress["shown"] if progress else None
        seconds = progress["epoch_seconds"] if progress else []
        local = sum(not a.watch_only for a in run.attachments.values())
        watchers = len(run.attachments) - local
        learners = _wanted(meta.get("wanted"), self._wall())
        view = JobView(
            status=status, position=self.place(run_id) if status == QUEUED else None,
            epoch=len(losses[0]),
            total_epochs=run.job.train.epochs, train_losses=tuple(losses[0]),
            val_losses=tuple(losses[1]), val_mses=tuple(losses[2]),
            reconstructions=shown.reconstructions if shown else None,
            reconstructions_epoch=shown.epoch if shown else 0,
            started=progress["started"] if progress else None,
            last_epoch=progress["last_epoch"] if progress else None,
            finished=finished, error=error, run_id=run_id,
            epoch_seconds=sum(seconds) / len(seconds) if seconds else None,
            learners=learners, watchers=watchers,
            restarts=max(int(meta.get("attempts", 0)) - 1, 0))
        run.seen = view
        if view.done:
            run.final = view
            self._touch(run)  # a failed task's worker may not have said so itself
        return view

    def place(self, run_id: str) -> int | None:
        """The run's place among the cluster's runs waiting for a worker (1 = next), in the
        order the cluster starts them; None if it is not waiting (or the scheduler does not
        answer). One round trip: the scheduler reads its own task states.

        How Dask 2026.8 holds a run: a task that asks for a resource is never root-ish, so it
        is not held back in the scheduler's "queued" state; the scheduler sends it at once to
        a worker that offers the resource (state "processing" there), and the worker keeps it
        "constrained" until its unit is free, then starts the oldest first (task priority: the
        submit's generation). The scheduler holds a task back ("no-worker") only while no
        worker offers the resource at all; a worker that joins takes those. So each worker has
        its own line, in priority order (fifo_timeout=0 at submit: every run a later generation
        than the one before), whose first task starts when that worker's run ends:
        the order counted here is every line's first, oldest first, then every line's second,
        and so on, then the tasks no worker can take yet. With one worker that is exactly the
        order they start in; with several it assumes the workers free up in turn (a worker
        that runs out of work may also steal a waiting task from another's line). A run that
        a worker has started (it says so under "on"), or that is stopped (it will end at
        once when its turn comes), does not count."""

        def on_scheduler(dask_scheduler, prefix, run_id):  # pickled by value
            runs = (dask_scheduler.task_metadata.get(prefix) or {}).get("run") or {}
            head = f"{prefix}-train-"

            def waiting(ts, worker):  # worker None: on none yet (nobody started it)
                if not (isinstance(ts.key, str) and ts.key.startswith(head)):
                    return False
                meta = runs.get(ts.key[len(head):]) or {}
                return not meta.get("stopped") and (worker is None or meta.get("on") != worker)

            order = []
            for ws in dask_scheduler.workers.values():
                line = sorted((ts for ts in ws.processing if waiting(ts, ws.address)),
                              key=lambda ts: ts.priority)
                order += [(i, ts.priority, ts.key) for i, ts in enumerate(line)]
            order.sort()
            order += sorted((len(order), ts.priority, ts.key)
                            for ts in dask_scheduler.unrunnable if waiting(ts, None))
            keys = [key for _, _, key in order]
            key = head + run_id
            return keys.index(key) + 1 if key in keys else None

        try:
            return self.client.run_on_scheduler(on_scheduler, prefix=PREFIX, run_id=run_id)
        except (OSError, TimeoutError):
            return None

    def attempts(self, run_id: str) -> int:
        """How many times a worker has started this run (more than 1: a worker died)."""
        self._run(run_id)
        return int(self.client.get_metadata(_run_meta(run_id, "attempts"), 0) or 0)

    def wait_first_epoch(self, run_id: str, timeout: float) -> bool:
        """Block up to `timeout` seconds until an epoch is in or the run ended; True if so."""
        return self._poll(run_id, timeout, lambda v: v.epoch > 0 or v.done)

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Block up to `timeout` seconds until the run has ended; True if it has."""
        return self._poll(run_id, timeout, lambda v: v.done)

    def state_dict(self, run_id: str) -> dict[str, torch.Tensor]:
        """A copy of the run's weights, once it is done."""
        model = self.model(run_id)
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    def model(self, run_id: str) -> nn.Module:
        """The trained model in eval mode (the initial one if it never trained); once done."""
        run = self._run(run_id)
        if not self.snapshot(run_id).done:
            raise RuntimeError(f"run {run_id} is still training: stop() or wait() first")
        with run.lock:
            if run.model is None:
                model = build_model(run.job.model, seed=run.job.seed)
                weights = self.client.get_metadata([PREFIX, "weights", run_id], None)
                if weights is not None:
                    model.load_state_dict(torch.load(io.BytesIO(weights), weights_only=True))
                elif run.final is not None and run.final.epoch > 0:  # swept meanwhile
                    raise RunNotFound(run_id, _expired(run_id))
                run.model = model.eval()
            return run.model

    # --- the registry ---------------------------------------------------------------------

    def _handle(self, run: _Followed, who: str | None, joined: bool,
                watch_only: bool = False) -> RunHandle:
        self._held[run.run_id] = run
        return RunHandle(runner=self, run_id=run.run_id, job=run.job, record=run, who=who,
                         joined=joined, watch_only=watch_only)

    def _run(self, run_id: str) -> _Followed:
        """This replica's record of a run, fetched from the scheduler on first use."""
        if not isinstance(run_id, str):
            run_id = repr(run_id)
        with self._lock:
            run = self._runs.get(run_id) or self._held.get(run_id)
        if run is not None:
            return run
        meta = self.client.get_metadata(_run_meta(run_id, "job"), None)
        if meta is None:
            raise RunNotFound(run_id[:64], _expired(run_id))
        try:
            future = self.client.get_dataset(_dataset_name(run_id))
        except KeyError:
            future = None
        run = _Followed(run_id, pickle.loads(meta), future)
        with self._lock:
            return self._runs.setdefault(run_id, run)

    def _attach(self, run: _Followed, alive: Callable[[], bool] | None,
                watch_only: bool) -> str:
        who = secrets.token_urlsafe(9)
        with run.lock:
            run.attachments[who] = _Attachment(alive, watch_only)
        if not watch_only:
            self._publish_learners(run)
        return who

    def _entry(self, learners: int) -> dict:
        """This replica's learner count as recorded now, with its deadline."""
        ttl = self._wanted_ttl
        return _entry(learners, None if ttl is None else self._wall() + ttl)

    def _renew_learners(self, run: _Followed) -> None:
        """Record this replica's learners again with a new deadline (one write)."""
        with run.lock:
            mine = run.learners()
        self.client.set_metadata(_run_meta(run.run_id, "wanted", self.replica),
                                 self._entry(mine))

    def _publish_learners(self, run: _Followed) -> None:
        """Record this replica's learners on the scheduler; stop the run if nobody wants it
        (no replica's unexpired count)."""
        self._renew_learners(run)
        wanted = self.client.get_metadata(_run_meta(run.run_id, "wanted"), None)
        if not _wanted(wanted, self._wall()) and not self.snapshot(run.run_id).done:
            log.info("training run %s stopped: no learner wants it any more", run.run_id)
            self.stop(run.run_id, unwanted=True)

    def _joinable(self, run_id: str) -> bool:
        try:
            view = self.snapshot(run_id)
            stopped = self.client.get_metadata(_run_meta(run_id, "stopped"), False)
        except RunNotFound:
            return False
        if view.error is not None or stopped and view.finished is None:
            return False
        if view.finished is not None:
            return view.finished.reason in JOINABLE
        return not stopped

    def _task_error(self, run: _Followed, attempts: int) -> str | None:
        """Why the run's task ended without a result, or None while it may still give one."""
        future = run.future
        if future is None:
            return ("Training failed: the cluster no longer holds this run (its scheduler "
                    "restarted?). Train again.")
        if future.status == "error":
            return _failure(future.exception(), attempts)
        if future.status in ("cancelled", "lost"):
            return f"Training failed: the cluster reports this run as {future.status}."
        if future.status == "finished":  # the task ended; did it publish its ending?
            progress = self.client.get_metadata(_run_meta(run.run_id, "progress"), None)
            if not progress or pickle.loads(progress)["finished"] is None:
                return "Training ended without a result on its worker."
        return None

    def _poll(self, run_id: str, timeout: float | None, done: Callable[[JobView], bool]) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if done(self.snapshot(run_id)):
                return True
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(POLL_S if end is None else max(0.0, min(POLL_S, end - time.monotonic())))

    def _touch(self, run: _Followed) -> None:
        """Tell the scheduler a page looked at this finished run (at most every
        TOUCH_EVERY_S per run and replica): its lifetime starts again."""
        now = self._wall()
        if now - run.touched >= TOUCH_EVERY_S:
            run.touched = now
            self.client.set_metadata([PREFIX, "ended", run.run_id], now)

    def sweep(self) -> list[str]:
        """Remove from the scheduler's store every finished run nobody looked at for the
        lifetime, and the oldest beyond the most kept; forget them here. Returns their ids.
        (One round trip: the choice and the removal happen on the scheduler.)"""

        def on_scheduler(dask_scheduler, prefix, now, ttl, most):  # pickled by value
            store = dask_scheduler.task_metadata.get(prefix) or {}
            ended = store.get("ended") or {}
            order = sorted(ended, key=ended.get)
            gone = [r for r in order if now - ended[r] > ttl]
            kept = [r for r in order if now - ended[r] <= ttl]
            gone += kept[:max(0, len(kept) - most)]
            for run_id in gone:
                for part in ("run", "weights", "ended"):
                    (store.get(part) or {}).pop(run_id, None)
            by_key = store.get("by_key") or {}
            for digest in [d for d, r in by_key.items() if r in set(gone)]:
                del by_key[digest]
            return gone

        gone = self.client.run_on_scheduler(on_scheduler, prefix=PREFIX, now=self._wall(),
                                            ttl=self._ttl, most=self._max_finished)
        for run_id in gone:
            with contextlib.suppress(KeyError):  # another replica's sweep was first
                self.client.unpublish_dataset(_dataset_name(run_id))
        with self._lock:
            for run_id in gone:
                self._runs.pop(run_id, None)  # a page holding it keeps it (_held)
        if gone:
            log.info("%d finished run(s) removed from the cluster's store", len(gone))
        return gone

    def _watch_learners(self, every: float) -> None:
        """Ask this replica's pages whether they are still there; let go of those gone for
        longer than the grace (a closed tab stops wanting its run, as with LocalRunner); renew
        the deadline of this replica's learner counts; and every sweep_seconds, sweep the
        finished runs."""
        while not self._closed.wait(every):
            if self._clock() - self._last_sweep >= self._sweep_seconds:
                self._last_sweep = self._clock()
                try:
                    self.sweep()
                except Exception:  # a scheduler blip must not end the thread
                    log.exception("sweeping the cluster's finished runs failed")
            with self._lock:
                runs = list(self._runs.values())
            for run in runs:
                try:
                    self._ask_learners(run)
                except Exception:  # a scheduler blip must not end the thread
                    log.exception("asking the learners of run %s failed", run.run_id)

    def _ask_learners(self, run: _Followed) -> None:
        """Ask the run's pages; record the learners left: at once if one let go, else renew
        the count's deadline while this replica has learners on a run not seen to end."""
        with run.lock:
            asks = [(who, a.alive) for who, a in run.attachments.items() if a.alive]
            renew = run.final is None and run.learners() > 0
        answers = [(who, _ask(alive)) for who, alive in asks]
        now, dropped = self._clock(), False
        with run.lock:
            for who, there in answers:
                a = run.attachments.get(who)
                if a is None:
                    continue
                a.gone_since = None if there else (a.gone_since or now)
                if a.gone_since is not None and now - a.gone_since >= self._grace:
                    del run.attachments[who]
                    dropped = dropped or not a.watch_only
        if dropped:
            self._publish_learners(run)
        elif renew:
            self._renew_learners(run)


# --- which runner a process uses -----------------------------------------------------------


def select(address: str | None = None, timeout: float | None = None
           ) -> tuple[LocalRunner | DaskRunner, str | None]:
    """The process-wide runner, and a note if it is not the one that was asked for.

    No address (argument or SCHEDULER_ENV): LocalRunner, in this process, as always. An
    address: a DaskRunner on that scheduler. If the scheduler cannot be reached at start-up:
    LocalRunner, with a note saying so for the pages to show; the class keeps training, only
    on this server's cores and without sharing runs with other replicas. (Refusing to start
    would leave a class with no app at all because of one missing machine.)
    """
    address = (address or os.environ.get(SCHEDULER_ENV, "")).strip()
    if not address:
        return LocalRunner(threads_per_job=1), None
    try:
        runner = DaskRunner(address, timeout=timeout or CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as err:
        note = (f"The training cluster at {address} ({SCHEDULER_ENV}) could not be reached "
                f"when this server started ({type(err).__name__}: {err}). Training runs on "
                "this server instead, and runs are not shared with other app servers.")
        log.warning(note)
        return LocalRunner(threads_per_job=1), note
    log.info("training runs on the Dask cluster at %s", address)
    return runner, None


class ClusterError(RuntimeError):
    """The cluster could not be reached or the run failed there; the message says which."""


def train_on_cluster(address: str, job: JobSpec,
                     on_epoch: Callable[[Epoch], object] | None = None
                     ) -> tuple[Finished, nn.Module, JobView]:
    """Train `job` on the cluster at `address` to its end, for the command line: calls
    `on_epoch` with the latest Epoch whenever one is in, and returns (Finished, the trained
    model, the final view with every epoch's losses). ClusterError if the scheduler cannot be
    reached or the run fails."""
    try:
        runner = DaskRunner(address, check_seconds=None)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"the training cluster at {address} could not be reached "
                           f"({type(err).__name__}: {err})") from None
    try:
        handle = runner.submit(job)
        seen = 0
        while True:
            done = handle.wait(POLL_S * 5)
            view = handle.snapshot()
            if on_epoch is not None and view.last_epoch is not None and view.epoch > seen:
                seen = view.epoch
                on_epoch(view.last_epoch)
            if done:
                break
        if view.error is not None:
            raise ClusterError(view.error)
        return view.finished, handle.model(), view
    finally:
        runner.close()
