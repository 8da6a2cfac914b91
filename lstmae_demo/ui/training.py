"""A learner's training run in the web app: start, stop, poll, and hand the model on.

The run's handle lives in the user's session (never shared); the runner that keeps a
classroom server fair is one object for the whole process (jobs.shared_runner), not a
Streamlit cache, which any client can clear. Training happens in the runner's threads, which
make no st.* calls; the page polls the run's snapshot().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..archs import Autoencoder
from ..config import AppConfig
from ..jobs import QUEUED, JobSpec, LocalRunner, RunHandle, shared_runner
from ..spec import ModelSpec

RUN_KEY = "_training_run"
# The Train page's polling fragment first runs one polling interval (live.POLL_SECONDS) after
# the click's own rerun has reached the browser. Waiting at most this long for the first
# epoch (~0.1 s at the defaults) lets that rerun draw the first loss point instead.
FIRST_EPOCH_WAIT_S = 0.5
STOPPED_NOTE_KEY = "_training_stopped_note"


def runner() -> LocalRunner:
    """The process-wide runner: one fair FIFO queue, threads x runs <= cores."""
    return shared_runner()


@dataclass(frozen=True)
class Run:
    """A submitted run and the exact settings it was started with."""

    job: RunHandle  # snapshot(), stop(), state_dict(), model()
    values: tuple[tuple[str, Any], ...]  # the AppConfig values, frozen (without "batch")
    spec: ModelSpec
    config: AppConfig  # the whole configuration it was started with


def _frozen(config: AppConfig) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in config.values.items() if k != "batch"))


def job_spec(config: AppConfig) -> JobSpec:
    """The run these settings describe: model, sine data and training settings."""
    return JobSpec(model=config.spec, data=config.sine, train=config.train)


def current_run() -> Run | None:
    """This session's latest run, if any."""
    return st.session_state.get(RUN_KEY)


def start_run(config: AppConfig) -> Run:
    """Stop any earlier run, then queue a new one with these settings."""
    stop_run()
    handle = runner().submit(job_spec(config), alive=_session_alive())
    run = Run(job=handle, values=_frozen(config), spec=config.spec, config=config)
    st.session_state[RUN_KEY] = run
    st.session_state.pop(STOPPED_NOTE_KEY, None)
    if handle.snapshot().status != QUEUED:  # it trains now, not after others' runs
        handle.wait_first_epoch(FIRST_EPOCH_WAIT_S)
    return run


def _session_alive() -> Callable[[], bool]:
    """A check the runner's thread may call: is this browser session still connected?"""
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
    if run is None or run.spec != spec:
        return None
    view = run.job.snapshot()
    if not view.done or view.epoch == 0:
        return None
    return run.job.model()
