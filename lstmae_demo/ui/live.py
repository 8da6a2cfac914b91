"""The live part of the Train page: progress, loss curves, reconstructions, summary, downloads.

Drawn by a fragment that reruns on its own every POLL_SECONDS while the run trains, so the
rest of the page stays usable; once the run is done the whole page reruns once and polling
stops.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from .. import chart_text
from ..archs import get_arch
from ..compare import numbers
from ..config import AppConfig
from ..data import CsvConfig, DataConfig, DataError, settings_of
from ..findings import Finding, divergence_text, mean_level, run_findings, teacher_forced_mse
from ..jobs import JobView, RunHandle
from ..plots import loss_figure, reconstruction_figure
from ..shapes.trace import trace
from ..weights import SUFFIX
from ..weights import save as save_weights
from .cache import FIGURES, dataset
from .charts import chart
from .registry import PAGE_PATHS
from .sidebar import current
from .training import LOADED, Run, current_run, runner

# Once a second: the first point comes with the Train click's own rerun (training.py waits
# for the first epoch), so polling faster only costs the server and the learner's browser
# (bench/RESULTS.md, section 4). Every poll redraws the whole panel (a fragment's elements are
# replaced on each of its runs). Measured with AppTest sessions running this panel on one
# finished 20-epoch run of the default model (2-core machine, load average 9-17 from other
# work): building the figures each time cost 36-42 ms per session and poll (a loss figure
# ~6 ms, the reconstructions ~28 ms, and st.plotly_chart's Figure.to_dict, which converts the
# numpy arrays, most of the rest); 10 sessions polling once took 370-420 ms. With the figures
# built and frozen once per (run, epoch, figure) for the whole server (cache.FIGURES), a poll
# that finds nothing new costs 4.3-4.5 ms per session (AppTest's own empty rerun: ~2 ms), and
# a new epoch drawn by 10 sessions 87 ms in all.
POLL_SECONDS = 1.0
# Slower when busy, at most MAX_POLL_SECONDS: every poll of every page costs the server and
# that page's browser, whether the class trains many runs or follows one (one shared run
# watched by 20 learners slowed an idle learner's rerun 13x; bench/RESULTS.md, section 7).
# With more runs active than the server's two slots, polls also compete with training for
# one Python process: one extra second per RUNS_PER_EXTRA_SECOND runs beyond QUIET_RUNS, or
# per PAGES_PER_EXTRA_SECOND pages following a run beyond QUIET_PAGES, whichever is more.
QUIET_RUNS = 2
RUNS_PER_EXTRA_SECOND = 4
QUIET_PAGES = 5
PAGES_PER_EXTRA_SECOND = 5
MAX_POLL_SECONDS = 3.0
INTERVAL_HOLD_S = 15.0
POLL_KEY = "_poll_every"  # (seconds, when set) while the panel polls, else None
MEASURED_KEY = "_teacher_forced"  # run id -> its trained model's teacher-forced MSE


def teacher_forced_once(handle: RunHandle, val: np.ndarray) -> float:
    """A finished run's teacher-forced validation MSE (findings.teacher_forced_mse: one
    forward pass of its trained model), measured once per run in this session."""
    measured = st.session_state.setdefault(MEASURED_KEY, {})
    if handle.run_id not in measured:
        measured[handle.run_id] = teacher_forced_mse(handle.model(), val)
    return measured[handle.run_id]


def _time_left(view: JobView) -> str:
    if view.last_epoch is None or view.epoch == 0:
        return "estimating time left…"
    per_epoch = view.last_epoch.elapsed / view.epoch
    return f"about {per_epoch * (view.total_epochs - view.epoch):.0f} s left"


def _progress(view: JobView) -> None:
    if view.status == "queued":
        st.progress(0.0, text=view.summary() + " Other learners' runs go first; yours starts "
                    "by itself.")
    elif view.status == "running":
        st.progress(view.epoch / view.total_epochs,
                    text=f"epoch {view.epoch} of {view.total_epochs} — {_time_left(view)}")


def restart_note(view: JobView) -> str:
    """Why a curve went back to its first epoch: the worker training it died."""
    times = "once" if view.restarts == 1 else f"{view.restarts} times"
    return (f"The worker process training this run died, so the cluster started the run "
            f"again from epoch 1 ({times}). Same data, seed and settings: the curve repeats "
            "the numbers it had and goes on from there.")


def trouble(view: JobView) -> str | None:
    """What went wrong with the losses of this run, in words, or None if nothing did."""
    return divergence_text(view.train_losses, view.val_losses,
                           view.finished.reason if view.finished else None)


def noticed(run: Run, view: JobView) -> list[Finding]:
    """What this finished run shows beyond its ending (findings.run_findings: the mean
    plateau, the copying trap, the teacher-forcing gap), from its own numbers."""
    data = run.job.job.data
    data_set = dataset(data)
    forced = None
    if run.spec.uses("decoder") and run.spec.decoder == "conditional" and view.epoch:
        forced = teacher_forced_once(run.job, data_set.val)
    found = run_findings(numbers(run.spec, view, forced), mean_level(data_set.train,
                                                                      data_set.val))
    return [f for f in found if f.key != "divergence"]  # trouble() has said it


def _losses_csv(view: JobView) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["epoch", "train_loss", "val_loss", "val_mse"])
    for i, row in enumerate(zip(view.train_losses, view.val_losses, view.val_mses,
                                strict=False), start=1):
        writer.writerow([i, *row])
    return out.getvalue().encode()


def weights_file(run: Run, view: JobView) -> bytes:
    """The run's model as one safetensors file: weights, spec, data and training settings
    and losses (weights.save); reading it back runs no code."""
    job = run.job.job
    training = job.train.to_dict() | (
        {"started_from": job.init.sha256} if job.init is not None else {})
    losses = {"train": view.train_losses, "val": view.val_losses, "val_mse": view.val_mses}
    return save_weights(run.job.model(), data=settings_of(job.data), training=training,
                        losses=losses)


def _summary(run: Run, view: JobView) -> None:
    """Final numbers and downloads of a finished run."""
    f = view.finished
    if view.error:
        st.error("Training stopped with an error:")
        st.code(view.error, language="text", wrap_lines=True)  # an exception's own text
        return
    problem = trouble(view)
    if problem:
        st.error(problem + (f" {f.message}" if f.message else ""))  # the trainer's own words
    elif f.reason == "cancelled":
        st.info(f"Stopped after {f.epochs} epoch(s); the curves so far are kept.")
    elif f.reason == LOADED:
        st.success(f"A model loaded from a file: trained elsewhere for {f.epochs} epoch(s) "
                   "(its losses as the file records them); below, its reconstructions of the "
                   "sidebar's validation series.")
    else:
        st.success(f"Done: {f.epochs} epochs in {f.seconds:.1f} s.")
    if not problem and f.reason != LOADED:
        for finding in noticed(run, view):
            getattr(st, finding.tone)(finding.text)  # our words and the run's numbers
    loss_name = get_arch(run.spec.arch).model.loss_name
    a, b, c, d = st.columns(4)
    a.metric(f"final train loss ({loss_name})", f"{f.train_loss:.4g}")
    b.metric("final validation MSE", f"{f.val_mse:.4g}",
             help="mean squared error of the reconstruction, in the data's units: the same "
                  "measure for every architecture")
    loaded = f.reason == LOADED  # trained elsewhere: no time of ours, no Started event
    c.metric("time", "—" if loaded else f"{f.seconds:.1f} s",
             help="trained elsewhere: the file does not record how long" if loaded else None)
    params = (view.started.params_torch if view.started else
              trace(run.spec, 1).params_torch if loaded else None)
    d.metric("parameters", "—" if params is None else f"{params:,}")
    settings = {"spec": run.spec.to_dict(), "settings": dict(run.values)}
    x, y, z = st.columns(3)
    x.download_button("Losses (CSV)", _losses_csv(view), "losses.csv", "text/csv",
                      key="dl_losses", width="stretch")
    # The weights are serialised only when someone clicks (a callable): not on every rerun.
    y.download_button(f"Weights ({SUFFIX})", functools.partial(weights_file, run, view),
                      f"{run.spec.arch}{SUFFIX}",
                      "application/octet-stream", key="dl_weights",
                      width="stretch", disabled=view.epoch == 0 and f.reason != LOADED)
    z.download_button("Spec (JSON)", json.dumps(settings, indent=2, default=str),
                      "spec.json", "application/json", key="dl_spec",
                      width="stretch")


def reading_notes(config: AppConfig) -> list[str]:
    """What a learner must know to read this model's curves (Markdown, our own words)."""
    spec = config.spec
    notes = []
    loss_name = get_arch(spec.arch).model.loss_name
    if loss_name != "MSE":
        notes.append(f"This model is trained on **{loss_name}** over the {spec.bins} bins (the "
                     "left axis), not on the MSE of the values; the dashed green curve (right "
                     "axis) is its validation MSE in the data's units, the measure every "
                     "architecture shares.")
    if not trace(spec, 1).has_bottleneck:
        notes.append("**A low validation MSE does not prove this model learned anything:** it "
                     "has no bottleneck, so it can copy its input to its output (the copying "
                     "trap). Compare it with a model that has one before trusting the number.")
    if spec.uses("decoder") and spec.decoder == "conditional":
        notes.append("**Why the validation loss sits above the training loss:** while "
                     "training, this conditional decoder is fed the true previous values "
                     "(teacher forcing); on the validation series it is fed its own "
                     "predictions (free-running), so its errors add up over the steps. The "
                     "gap comes from that difference; by itself it does not mean "
                     "overfitting.")
    return notes


def _loss_chart(view: JobView | None, run_id: str, loss_name: str, total_epochs: int,
                log_y: bool) -> go.Figure:
    """The loss curves, built once per run, epoch and scale for every session (FIGURES)."""
    train, val, mses = ((view.train_losses, view.val_losses, view.val_mses) if view
                        else ((), (), ()))
    return FIGURES.get(("loss", run_id, loss_name, total_epochs, log_y), len(train),
                       lambda: loss_figure(train, val, log_y, total_epochs, loss_name, mses))


def _recon_chart(view: JobView | None, run_id: str, data: DataConfig,
                 run: Run | None = None) -> go.Figure:
    """The validation series and their latest reconstructions, built once per snapshot (for a
    model loaded from a file: its reconstructions of these series, computed here)."""
    recon = None if view is None or view.reconstructions is None else np.asarray(
        view.reconstructions)
    loaded = (run is not None and view is not None and view.finished is not None
              and view.finished.reason == LOADED)
    title = (f"Reconstructions after epoch {view.reconstructions_epoch}" if recon is not None
             else "Reconstructions by the loaded model" if loaded
             else "Validation series (no reconstruction yet)")

    def build() -> go.Figure:
        originals = dataset(data).val[: 4 if recon is None else len(recon)]
        shown = recon
        if loaded:
            with torch.no_grad():
                shown = run.job.model().reconstruct(torch.from_numpy(originals)).numpy()
        # Below: in the Train page's column, narrower than the page (and on a phone), the
        # title and a legend beside it run into each other.
        return reconstruction_figure(originals, shown, title=title, legend_below=True)

    # An uploaded file's config holds its bytes: the figure cache keys on its hash instead.
    key = data if not isinstance(data, CsvConfig) else (
        "csv", data.file.sha256, data.seq_len, data.stride, data.val_share)
    return FIGURES.get(("recon", run_id, key), view.reconstructions_epoch if view else 0,
                       build)


def _charts(view: JobView | None, config: AppConfig, total_epochs: int,
            data: DataConfig, run_id: str = "", run: Run | None = None) -> None:
    """The loss curves and the first validation series (four at most) with their
    reconstructions.

    Drawn before the first run too (empty curves, the series alone), so the browser has
    loaded its charting code before Train is pressed and the first point shows at once.
    """
    # Side by side, so the curve and the series it describes are on one screen at 1280x720
    # (a phone, narrower than 640 px, stacks the columns).
    loss_side, recon_side = st.columns([2, 3])
    with loss_side:
        log_y = st.toggle("Log scale", value=True, key="loss_log")
        loss_name = get_arch(config.spec.arch).model.loss_name
        losses = _loss_chart(view, run_id, loss_name, total_epochs, log_y)
        chart(losses, chart_text.loss_text(losses), key="loss_chart", width="stretch")
    series = _recon_chart(view, run_id, data, run)
    chart(series, chart_text.reconstruction_text(series), key="recon_chart", where=recon_side,
          width="stretch", config={"displayModeBar": False})
    for note in reading_notes(config):
        st.caption(note)


def _same_settings(a: AppConfig, b: AppConfig) -> bool:
    """Whether two configurations train the same run (the shapes' batch aside)."""
    return {**a.values, "batch": 0} == {**b.values, "batch": 0}


def app_base() -> str:
    """The app's address as the browser sees it, without the page's path (empty where
    there is no browser, as under AppTest: links are then relative to the server's root)."""
    base = (st.context.url or "").rstrip("/")
    page = base.rsplit("/", 1)[-1]
    if "/" in base and page in PAGE_PATHS:  # the browser's URL names the page it is on
        base = base.rsplit("/", 1)[0]
    return base


def watch_link(run: Run) -> str:
    """The "watch my run" link: the Train page showing this run read-only."""
    return f"{app_base()}/train?run={run.run_id}&watch=1"


def _sharing(view: JobView) -> str:
    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    return f"{count(view.learners, 'learner')} and {count(view.watchers, 'watcher')}"


def _whose(run: Run, view: JobView) -> None:
    """Whose run this is: watched, joined, or this learner's own (with its watch link)."""
    # Who shares it is counted while it trains: a page closed after the end is not noticed.
    shared = "" if view.done else f" (now shared by {_sharing(view)})"
    if not run.attached:
        st.caption("You let go of this run: its curves are kept as they were.")
        return
    if run.watching:
        st.info(f"You are watching someone's run, read-only{shared}. Change any setting to "
                "leave it and train your own.", icon=":material/visibility:")
        return
    if run.joined:
        verb = ("already trained exactly this run; you see its result" if view.done else
                "started exactly this run; you are watching it train")
        st.info(f"Someone in your class {verb} (computed once for {view.learners} "
                f"learner{'' if view.learners == 1 else 's'}).", icon=":material/group:")
    st.caption("Watch my run: this link shows the run live, read-only, to anyone you share it "
               f"with{shared}.")
    st.code(watch_link(run), language=None, wrap_lines=True)
    if run.config.source == "csv":
        st.caption("Your CSV file is part of this run, so this link shows it while the server "
                   "keeps the run; the address bar's link carries only the settings, never the "
                   "file: whoever opens it must upload the file too.")


def _panel_body() -> None:
    # The top slot holds whatever the state needs (a hint, the progress bar, a note), so the
    # charts below keep their places from one run of the panel to the next. (While the page
    # reruns after a run has ended, Streamlit still shows the previous chart, stale, for a
    # few frames beside the new one: tests/browser judge the page once it has settled.)
    status = st.container()
    run = current_run()
    config = current()
    if run is None:
        try:
            data = config.data
        except DataError:  # no file uploaded: the page above says so
            return
        shown = min(config.train.n_show, len(dataset(data).val))
        what = {1: "one validation series", 4: "four validation series"}.get(
            shown, f"{shown} validation series")
        status.info(f"Press **Train** to start. The loss curves and the reconstructions of "
                    f"{what} appear here and update while the model learns.")
        _charts(None, config, config.train.epochs, data)
        return
    view = run.job.snapshot()
    with status:
        _whose(run, view)
        if run.attached:
            _progress(view)
        if view.restarts:
            st.caption(restart_note(view))
        if view.done and not _same_settings(run.config, config):
            st.caption(f"These curves are from your last run (`{run.spec.arch}`, other "
                       "settings than the sidebar's now). Press Train to train the current "
                       "settings.")
    _charts(view, run.config, view.total_epochs, run.job.job.data, run.run_id, run)
    if view.done:
        _summary(run, view)
    polling = _polls(run, view)
    if not polling and st.session_state.get(POLL_KEY):
        st.session_state[POLL_KEY] = None
        st.rerun(scope="app")  # once: redraw the buttons, and stop polling
    elif polling and _interval_changed():
        st.rerun(scope="app")  # the server's load moved: poll at the new interval


def _polls(run: Run | None, view: JobView | None = None) -> bool:
    """Whether the panel polls: this page follows a run that has not ended, or has let go of
    one that is ending (nobody else wants it: Stop shows how it ended)."""
    if run is None:
        return False
    view = view or run.job.snapshot()
    return not view.done and (run.attached or view.learners == 0)


def poll_seconds() -> float:
    """Seconds between polls: once a second on a quiet server, slower with many runs active
    or many pages following runs."""
    running, waiting = runner().counts()
    extra = max(0.0, (running + waiting - QUIET_RUNS) / RUNS_PER_EXTRA_SECOND,
                (runner().following() - QUIET_PAGES) / PAGES_PER_EXTRA_SECOND)
    return min(MAX_POLL_SECONDS, POLL_SECONDS + extra)


def _interval_changed() -> bool:
    """Whether the load moved the interval by a step since the panel was set up (at most
    once per INTERVAL_HOLD_S, so a run starting or ending does not rerun every page)."""
    every, since = st.session_state.get(POLL_KEY) or (None, 0.0)
    now = time.monotonic()
    if every is None or now - since < INTERVAL_HOLD_S:
        return False
    return abs(poll_seconds() - every) >= 0.5


def training_panel() -> None:
    """Draw the run's state; poll while it trains, less often when the server is busy."""
    every = poll_seconds() if _polls(current_run()) else None
    st.session_state[POLL_KEY] = None if every is None else (every, time.monotonic())
    st.fragment(run_every=every)(_panel_body)()
