"""A learner's training run in the web app: start, stop, poll, and hand the model on.

The run lives in the user's session (never shared); the queue that keeps a classroom server
fair is one object for every session (st.cache_resource). Training happens in the job's own
thread, which makes no st.* calls; the page polls job.snapshot().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..config import AppConfig
from ..jobs import TrainingJob, TrainingQueue
from ..archs import Autoencoder, build_model
from ..spec import ModelSpec
from .cache import sine_data

RUN_KEY = "_training_run"
# The Train page's polling fragment first runs one polling interval (live.POLL_SECONDS) after
# the click's own rerun has reached the browser. Waiting at most this long for the first
# epoch (~0.1 s at the defaults) lets that rerun draw the first loss point instead.
FIRST_EPOCH_WAIT_S = 0.5
STOPPED_NOTE_KEY = "_training_stopped_note"


@st.cache_resource
def shared_queue() -> TrainingQueue:
    """One fair FIFO queue for every session on this server: threads x jobs <= cores."""
    return TrainingQueue(threads_per_job=1)  # slots = cores: measured best, bench/RESULTS.md


@dataclass(frozen=True)
class Run:
    """A training job and the exact settings it was started with."""

    job: TrainingJob
    values: tuple[tuple[str, Any], ...]  # the AppConfig values, frozen
    spec: ModelSpec


def _frozen(config: AppConfig) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in config.values.items() if k != "batch"))


def current_run() -> Run | None:
    """This session's latest run, if any."""
    return st.session_state.get(RUN_KEY)


def start_run(config: AppConfig) -> Run:
    """Stop any earlier run, then queue a new one with these settings."""
    stop_run()
    data = sine_data(config.sine)
    model = build_model(config.spec, seed=config.values["seed"])
    queue = shared_queue()
    job = TrainingJob(model, data.train, data.val, config.train, queue=queue,
                      name=f"{config.spec.arch}-{id(model):x}", alive=_session_alive())
    running, waiting = queue.counts()
    run = Run(job=job.start(), values=_frozen(config), spec=config.spec)
    st.session_state[RUN_KEY] = run
    st.session_state.pop(STOPPED_NOTE_KEY, None)
    if waiting == 0 and running < queue.slots:  # it starts now, not after others' runs
        job.wait_first_epoch(FIRST_EPOCH_WAIT_S)
    return run


def _session_alive() -> Callable[[], bool]:
    """A check the job thread may call: is this browser session still connected?"""
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return lambda: True
    session_id, runtime = ctx.session_id, Runtime.instance()
    return lambda: bool(runtime.is_active_session(session_id))


def stop_run() -> None:
    """Stop this session's run (a callback for the Stop button); its curves are kept."""
    run = current_run()
    if run is not None:
        run.job.stop()


def stop_if_changed(config: AppConfig) -> None:
    """Changing any setting stops a run that is still going: its curves would not match."""
    run = current_run()
    if run is None or run.job.snapshot().done or run.values == _frozen(config):
        return
    run.job.stop()
    st.session_state[STOPPED_NOTE_KEY] = (
        "Training stopped because the settings changed; the curves so far are kept. "
        "Press Train to start again with the new settings.")


def trained_model(spec: ModelSpec) -> Autoencoder | None:
    """The model of this session's finished run, if it was trained with exactly `spec`."""
    run = current_run()
    if run is None or run.spec != spec or not run.job.snapshot().done:
        return None
    if run.job.snapshot().epoch == 0:
        return None
    return run.job.model
