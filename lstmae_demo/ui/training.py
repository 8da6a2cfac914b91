"""A learner's training run in the web app: start, join, reattach, watch, let go, and hand the
model on.

Runs belong to the process-wide runner (jobs.shared_runner), not to a page, and never to a
Streamlit cache, which any client can clear. A page session keeps one attachment to a run (a
RunHandle) in its session state and the run's id in the URL (`?run=<id>`), so a reload, a new
tab or a second device attaches to the same run again; `?run=<id>&watch=1` watches it
read-only. Training happens in the runner's threads, which make no st.* calls; the page polls
the run's snapshot().
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..archs import Autoencoder
from ..config import AppConfig
from ..data import BundledConfig, CsvConfig, DataConfig, SineConfig
from ..jobs import QUEUED, JobSpec, LocalRunner, RunHandle, RunNotFound, shared_runner
from ..jobs.local import shared_runner_note
from ..settings import KNOB, KNOBS, MODEL_FIELDS
from ..spec import ModelSpec
from ..weights import WeightsFile
from .sidebar import CONFIG_KEY, RUN_NOTE_KEY, RUN_PARAMS_KEY, current

RUN_KEY = "_training_run"
LOADED = "loaded"  # the Finished reason of a run that holds a model loaded from a file
# The Train page's polling fragment first runs one polling interval (live.poll_seconds: up to
# 3 s when a class follows runs) after the click's own rerun has reached the browser. Waiting
# up to this long for the first epoch of a run that trains now (~0.1 s at the defaults on a
# quiet server, seconds when a class shares the cores) lets that rerun draw the first loss
# point, the moment it is in. The wait holds only this session's script thread, asleep.
# Measured with 30 protocol learners on one shared run (bench/RESULTS.md): with 0.5 s the
# epoch often missed the window and every learner's first point came with the first poll,
# 5.2-6.4 s after the click.
FIRST_EPOCH_WAIT_S = 3.0
STOPPED_NOTE_KEY = "_training_stopped_note"
TRIED_KEY = "_run_link_tried"  # the (run id, watch) of the link this session last followed
# Ids of runs this session has held: a callback that moves the session to another run (Continue
# training, a loaded model) runs while the browser's URL still names the one before, which
# follow_link must not take for a link to follow. The newest KEPT_IDS are remembered.
KEPT_KEY = "_runs_kept"
KEPT_IDS = 50
# The data and training knobs, with the field of the JobSpec each one is read from.
SINE_FIELDS = ("n_series", "freq_min", "freq_max", "noise", "seed")
CUT_FIELDS = ("stride",)  # of a bundled series or an uploaded file
TRAIN_FIELDS = ("epochs", "batch_size")


def runner() -> LocalRunner:
    """The process-wide runner: its slots keep torch threads x running runs <= cores (or a
    DaskRunner, same methods, when LSTMAE_DASK_SCHEDULER names a reachable cluster)."""
    return shared_runner()


def fallback_note() -> str | None:
    """Why training runs on this server though a cluster was configured (None otherwise)."""
    runner()
    return shared_runner_note()


@dataclass(frozen=True)
class Run:
    """This session's attachment to a run and the exact settings the run trains."""

    job: RunHandle  # snapshot(), stop(), state_dict(), model()
    values: tuple[tuple[str, Any], ...]  # the AppConfig values, frozen (without "batch")
    spec: ModelSpec
    config: AppConfig  # the whole configuration it was started with
    joined: bool = False  # someone else had started exactly this run: no new training
    attached: bool = True  # False once this page has let go (Stop, or the settings changed)

    @property
    def watching(self) -> bool:
        """Whether this page only watches the run ("watch my run" link): no Train, no Stop."""
        return self.job.watch_only

    @property
    def run_id(self) -> str:
        """The id that finds the run again (the URL's `run`)."""
        return self.job.run_id


def _frozen(config: AppConfig) -> tuple[tuple[str, Any], ...]:
    """The settings a run trains, comparable with ==: the knobs and the uploaded file's hash."""
    upload = config.upload.sha256 if config.upload is not None else None
    return tuple(sorted((k, v) for k, v in config.values.items() if k != "batch")) + (
        ("_upload", upload),)


def job_spec(config: AppConfig, init: WeightsFile | None = None,
             data: DataConfig | None = None) -> JobSpec:
    """The run these settings describe: model, data (the sidebar's source, unless `data`
    names another, e.g. the Anomalies page's own choice) and training settings; `init`:
    start from these saved weights instead of the seed's."""
    return JobSpec(model=config.spec, data=config.data if data is None else data,
                   train=config.train, init=init)


def current_run() -> Run | None:
    """This session's latest run, if any."""
    return st.session_state.get(RUN_KEY)


def remember(key: str, value: str) -> None:
    """Add `value` to the newest KEPT_IDS values this session keeps under `key`: run ids (or
    a comparison's ids) it has held or tried, which a link in the URL must not bring back."""
    kept = [v for v in st.session_state.get(key, ()) if v != value]
    st.session_state[key] = tuple(kept[-(KEPT_IDS - 1):]) + (value,)


def remembered(key: str, value: str) -> bool:
    """Whether `value` is among those `remember` keeps under `key`."""
    return value in st.session_state.get(key, ())


def _keep(run: Run) -> Run:
    """Make `run` this session's run and put its id in the URL (`watch=1` for a watcher)."""
    st.session_state[RUN_KEY] = run
    params = {"run": run.run_id} | ({"watch": "1"} if run.watching else {})
    st.session_state[RUN_PARAMS_KEY] = params
    st.session_state[TRIED_KEY] = (run.run_id, run.watching)
    remember(KEPT_KEY, run.run_id)
    # Now, not only when the sidebar rewrites the URL: from a Train button's callback,
    # follow_link must not find the previous run's id in this very script run and go back to it.
    st.query_params.update(params)
    if not run.watching:
        st.query_params.pop("watch", None)
    return run


def start_run(config: AppConfig, init: WeightsFile | None = None,
              data: DataConfig | None = None) -> Run:
    """Queue a run with these settings, or join the identical one (a Train button's callback);
    with `init`, the run continues training those saved weights; `data` as in job_spec.

    Submits first: pressing Train again with the same settings finds the same run and keeps it
    going; only a run with another id is let go of (it goes on if other learners want it).
    """
    old = current_run()
    handle = runner().submit(job_spec(config, init, data), alive=_session_alive())
    st.session_state.pop(STOPPED_NOTE_KEY, None)
    st.session_state.pop(RUN_NOTE_KEY, None)
    if old is not None and old.run_id == handle.run_id and old.attached and not old.watching:
        handle.stop()  # this page holds the run already: one attachment is enough
        if old.job.snapshot().done:
            st.session_state[STOPPED_NOTE_KEY] = (
                "This run is already done with exactly these settings; training it again "
                "would give the same numbers. Change the seed or another setting for a new run.")
        return _keep(old)
    if old is not None and old.attached:
        old.job.stop()
    ours = old is not None and old.run_id == handle.run_id  # let go of, and back to it
    run = _keep(Run(job=handle, values=_frozen(config), spec=config.spec, config=config,
                    joined=handle.joined and not ours))
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


def _let_go(run: Run) -> Run:
    """This page stops wanting `run` (the run goes on if other learners want it)."""
    if run.attached:
        run.job.stop()
    run = dataclasses.replace(run, attached=False)
    st.session_state[RUN_KEY] = run
    st.session_state.pop(RUN_PARAMS_KEY, None)
    return run


def stop_run() -> None:
    """Let go of this session's run (the Stop button); its curves are kept."""
    run = current_run()
    if run is not None and not run.watching:
        _let_go(run)


def stop_if_changed(config: AppConfig) -> None:
    """Settings changed while a run is attached: let go of it (its curves would not match;
    the run goes on for other learners who want it) and take its id off the URL."""
    run = current_run()
    if run is None or not run.attached or run.values == _frozen(config):
        return
    going = not run.job.snapshot().done
    _let_go(run)
    if going:
        what = ("stopped watching the run" if run.watching else
                "let go of its run (it goes on only if other learners share it)")
        st.session_state[STOPPED_NOTE_KEY] = (
            f"The settings changed, so this page {what}; the curves so far are kept. Press "
            "Train to start again with the new settings.")


def knob_values(job: JobSpec, fallback: Mapping[str, Any]) -> dict[str, Any]:
    """The sidebar's knob values that describe `job`; a knob the job's value does not fit
    (a frequency capped below the knob's range) keeps its `fallback` value. (An uploaded
    file is not a knob: see `follow_link`.)"""
    found = {name: getattr(job.model, name) for name in MODEL_FIELDS}
    if isinstance(job.data, SineConfig):
        found |= {name: getattr(job.data, name) for name in SINE_FIELDS} | {"data": "sine"}
    elif isinstance(job.data, BundledConfig | CsvConfig):
        found |= {name: getattr(job.data, name) for name in CUT_FIELDS if
                  getattr(job.data, name) is not None}
        found |= {"data": job.data.name if isinstance(job.data, BundledConfig) else "csv",
                  "seed": job.train.seed}
    else:
        raise ValueError("this run trains on data the app's settings cannot show")
    found |= {name: getattr(job.train, name) for name in TRAIN_FIELDS}
    found["lr"] = next((c for c in KNOB["lr"].choices if float(c) == job.train.lr), job.train.lr)
    values = dict(fallback)
    for knob in KNOBS:
        if knob.name in found:
            try:
                values[knob.name] = knob.parse(found[knob.name])
            except ValueError:
                continue
    return values


def follow_link() -> None:
    """If the URL names a run (`?run=<id>`, `&watch=1` to watch), attach to it once per page
    session and set the sidebar to that run's settings; an unknown or expired id becomes a
    note in words (RUN_NOTE_KEY), never an exception."""
    params = st.query_params
    run_id = params.get("run")
    if not run_id:
        return
    watch = params.get("watch") == "1"
    run = current_run()
    if (run is not None and run.run_id == run_id) or st.session_state.get(TRIED_KEY) == (
            run_id, watch) or remembered(KEPT_KEY, run_id):
        return
    st.session_state[TRIED_KEY] = (run_id, watch)
    try:
        handle = runner().attach(run_id, alive=_session_alive(), watch_only=watch)
    except RunNotFound as err:
        st.session_state[RUN_NOTE_KEY] = str(err)
        st.session_state.pop(RUN_PARAMS_KEY, None)
        return
    try:
        values = knob_values(handle.job, current().values)
    except ValueError as err:
        handle.stop()
        st.session_state[RUN_NOTE_KEY] = f"Run {run_id} cannot be opened here: {err}."
        st.session_state.pop(RUN_PARAMS_KEY, None)
        return
    if run is not None and run.attached:
        run.job.stop()
    upload = handle.job.data.file if isinstance(handle.job.data, CsvConfig) else None
    config = AppConfig(values, upload=upload or current().upload)
    st.session_state[CONFIG_KEY] = config
    st.session_state.pop(RUN_NOTE_KEY, None)
    _keep(Run(job=handle, values=_frozen(config), spec=handle.job.model, config=config))


def trained_model(spec: ModelSpec, data: DataConfig | None = None) -> Autoencoder | None:
    """The model of this session's finished run (started, joined or reattached by its link,
    or loaded from a weights file), if it was trained with exactly `spec` (and, when given,
    on exactly `data`)."""
    run = current_run()
    if run is None or run.spec != spec or (data is not None and run.job.job.data != data):
        return None
    view = run.job.snapshot()
    loaded = view.finished is not None and view.finished.reason == LOADED
    if not view.done or (view.epoch == 0 and not loaded):
        return None
    return run.job.model()


def adopt_loaded(config: AppConfig, job: JobSpec, model: Autoencoder,
                 losses: Mapping[str, list[float]], name: str) -> Run:
    """Make a model loaded from a weights file this session's run (finished, findable by its
    id like a trained one), so trained_model(spec) and current_run() hand it on; the run
    this page held before is let go of."""
    old = current_run()
    handle = runner().adopt(job, model, dict(losses),
                            message=f"Loaded from the file {name!r}, trained elsewhere.")
    if old is not None and old.attached:
        old.job.stop()
    st.session_state.pop(STOPPED_NOTE_KEY, None)
    st.session_state.pop(RUN_NOTE_KEY, None)
    return _keep(Run(job=handle, values=_frozen(config), spec=job.model, config=config))
