"""The Compare page's state and live panel: which architectures, their runs, and what they show.

The runs go through the shared runner like the Train page's (lstmae_demo.ui.training): one
JobSpec per architecture, submitted together, so identical runs are joined and the server's
slots are respected (runs beyond them wait their turn, round-robin by epochs). The page holds
its attachments (RunHandles) in its session state; a fragment polls their snapshots while any
trains. The chosen architectures are in the URL (`compare=`), checked by lstmae_demo.compare,
and so are the comparison's runs while the page holds them (`cmp_runs=<id>,<id>,...`): a reload
or a copied link re-attaches to the same runs, as `?run=<id>` does for the Train page's run, if
they are exactly a comparison the page would have started (compare.match_runs).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from .. import chart_text
from ..compare import (
    PARAM,
    RUNS_PARAM,
    Entry,
    check_selection,
    match_runs,
    numbers,
    parse_run_ids,
    parse_selection,
    plan,
    row,
    table,
)
from ..compare_plots import mse_curves, reconstruction_grid
from ..config import AppConfig
from ..data import CsvConfig, DataConfig
from ..findings import RunNumbers, comparison_findings, mean_level
from ..jobs import FINISHED_TTL_S, QUEUED, JobSpec, JobView, RunHandle, RunNotFound
from ..settings import ARCHS, MODEL_FIELDS
from . import pageurl
from .cache import FIGURES, dataset
from .charts import chart
from .live import poll_seconds, teacher_forced_once
from .sidebar import CONFIG_KEY, current
from .training import (
    FIRST_EPOCH_WAIT_S,
    _session_alive,
    knob_values,
    remember,
    remembered,
    runner,
)

CHOSEN_KEY = "_compare_archs"  # the learner's choice, kept across pages (a list of names)
WIDGET_KEY = "compare_archs"  # the pills widget, a view of CHOSEN_KEY
NOTES_KEY = "_compare_notes"  # what was wrong with the link's compare= (plain text)
RUNS_KEY = "_compare_runs"  # this session's Comparison
POLL_KEY = "_compare_poll"  # (seconds, when) while the panel polls, else None
LINK_NOTE_KEY = "_compare_link_note"  # why the link's cmp_runs could not be opened (text)
# The cmp_runs values this session has held or tried (the newest, training.remember): a
# callback that starts a new comparison runs while the browser's URL still names the one
# before, which is not a link to follow.
HELD_KEY = "_compare_held"
ROW_PX = 35  # a dataframe row's height in pixels (Streamlit's default)


@dataclass(frozen=True)
class Comparison:
    """This session's runs side by side, and the settings they were started with."""

    entries: tuple[Entry, ...]  # the architectures that train (each with its JobSpec)
    handles: tuple[RunHandle, ...]  # one attachment per entry, in the same order
    config: AppConfig
    attached: bool = True  # False once Stop (or a new comparison) let go of the runs
    # Per run: another learner had started or trained exactly this run (not this page).
    joined: tuple[bool, ...] = ()

    def views(self) -> list[JobView]:
        """Every run's state now."""
        return [h.snapshot() for h in self.handles]


# --- which architectures --------------------------------------------------------------------


def _from_link() -> None:
    """On the page's first run in a session, take the choice from the URL (a bad value: all
    four, and a note)."""
    state = st.session_state
    if CHOSEN_KEY in state:
        return
    # The URL's query as this run began: the sidebar has rewritten it without the page's own
    # values by now (pageurl.capture keeps it).
    archs, notes = parse_selection((state.get(pageurl.QUERY_KEY) or {}).get(PARAM))
    state[CHOSEN_KEY] = list(archs)
    state[NOTES_KEY] = notes


def _changed() -> None:
    """The pills' callback: keep the new choice if it names architectures (the count is
    checked where Train is drawn, so a learner may pass through one on the way to two)."""
    picked = st.session_state.get(WIDGET_KEY)
    if not isinstance(picked, list) or any(a not in ARCHS for a in picked):
        return  # a forged value: the widget is set back from CHOSEN_KEY on the next draw
    st.session_state[CHOSEN_KEY] = [a for a in ARCHS if a in picked]
    st.session_state[NOTES_KEY] = []  # the learner has chosen: the link's value is moot


def choose_archs() -> tuple[tuple[str, ...], str | None]:
    """Draw the choice; return the architectures chosen and, if they cannot be compared, why."""
    _from_link()
    state = st.session_state
    chosen = list(state[CHOSEN_KEY])
    if state.get(WIDGET_KEY) != chosen:
        state[WIDGET_KEY] = chosen
    st.pills("Architectures to compare", ARCHS, selection_mode="multi", key=WIDGET_KEY,
             on_change=_changed, help="two to four; each with its own choices from the sidebar")
    try:
        archs = check_selection(chosen)
    except ValueError as err:
        return tuple(chosen), str(err)
    pageurl.to_url(PARAM, ",".join(archs), ",".join(ARCHS))  # every run: the sidebar drops it
    return archs, None


def link_notes() -> None:
    """The link's compare= was not valid, or its cmp_runs could not be opened: say so (until
    the learner chooses, or trains), as plain text."""
    _from_link()
    notes = st.session_state.get(NOTES_KEY) or []
    if notes:
        with st.container(border=True):
            st.warning("The comparison in the link was not valid:")
            for note in notes:
                st.text(note)  # it quotes the link: text, never Markdown
    if note := st.session_state.get(LINK_NOTE_KEY):
        with st.container(border=True):
            st.warning("The runs in the link could not be opened:")
            st.text(note)  # it quotes the link: text, never Markdown


# --- the runs in the URL --------------------------------------------------------------------


def _ids(handles: Sequence[RunHandle]) -> str:
    return ",".join(h.run_id for h in handles)


def _config_of(jobs: Sequence[JobSpec]) -> AppConfig:
    """The sidebar's settings that plan these runs: each run's data and training settings,
    and each architecture's own choices from its run (the knobs it ignores are not its)."""
    now = current()
    values = dict(now.values)
    for job in jobs:
        found = knob_values(job, now.values)
        values |= {name: value for name, value in found.items() if name != "arch" and (
            name not in MODEL_FIELDS or job.model.uses(name)) and value != now.values[name]}
    upload = next((j.data.file for j in jobs if isinstance(j.data, CsvConfig)), None)
    return AppConfig(values, upload=upload or now.upload)


def follow_link() -> None:
    """If the URL names a comparison's runs (`cmp_runs=<id>,<id>,...`), re-attach to them once
    per session and value, choose their architectures and set the sidebar to their settings.
    A value that is not run ids, an unknown or expired id, or runs that are not exactly a
    comparison this page would start become a note in words (nothing is started, nothing
    kept), never an exception."""
    state = st.session_state
    raw = (state.get(pageurl.QUERY_KEY) or {}).get(RUNS_PARAM)
    if not raw:
        return
    old = current_comparison()
    if remembered(HELD_KEY, str(raw)) or (old is not None and _ids(old.handles) == str(raw)):
        return
    remember(HELD_KEY, str(raw))
    state.pop(LINK_NOTE_KEY, None)
    handles: list[RunHandle] = []
    try:
        for run_id in parse_run_ids(raw):
            handles.append(runner().attach(run_id, alive=_session_alive()))
        jobs = [h.job for h in handles]
        config = _config_of(jobs)
        entries = match_runs(config, jobs)
    except (RunNotFound, ValueError) as err:
        for handle in handles:
            handle.stop()  # only this attachment: the runs go on for whoever wants them
        state[LINK_NOTE_KEY] = str(err)
        return
    by_arch = {h.job.model.arch: h for h in handles}
    ordered = tuple(by_arch[e.arch] for e in entries)
    if old is not None:
        _let_go(old)
    state[RUNS_KEY] = Comparison(entries, ordered, config, joined=(False,) * len(ordered))
    state[CHOSEN_KEY] = [e.arch for e in entries]
    state[NOTES_KEY] = []  # the runs name the architectures
    remember(HELD_KEY, _ids(ordered))
    if config != current():
        state[CONFIG_KEY] = config
        st.rerun()  # the sidebar, drawn already on this run, shows the runs' settings


def runs_to_url() -> None:
    """Put the comparison's runs in the URL while this page holds them (every run: the
    sidebar rewrites the query)."""
    comparison = current_comparison()
    if comparison is not None and comparison.attached:
        st.query_params[RUNS_PARAM] = _ids(comparison.handles)
    else:
        st.query_params.pop(RUNS_PARAM, None)


# --- runs -----------------------------------------------------------------------------------


def current_comparison() -> Comparison | None:
    """This session's latest comparison, if any."""
    return st.session_state.get(RUNS_KEY)


def _let_go(comparison: Comparison) -> None:
    if comparison.attached:
        for handle in comparison.handles:
            handle.stop()  # each run goes on only if other learners want it


def start(config: AppConfig, archs: Sequence[str]) -> None:
    """Submit one run per architecture (the Train button's callback); identical runs are
    joined. Submits first, then lets go of the previous comparison's runs, so runs both share
    are kept."""
    entries = tuple(e for e in plan(config, archs) if e.job is not None)
    alive = _session_alive()
    handles = tuple(runner().submit(e.job, alive=alive, name=f"compare-{e.arch}")
                    for e in entries)
    old = current_comparison()
    ours = {h.run_id for h in old.handles} if old is not None else set()
    if old is not None:
        _let_go(old)
    joined = tuple(h.joined and h.run_id not in ours for h in handles)
    st.session_state[RUNS_KEY] = Comparison(entries, handles, config, joined=joined)
    st.session_state.pop(LINK_NOTE_KEY, None)
    remember(HELD_KEY, _ids(handles))
    # Now, not only when the page draws: the script run after this callback must not find
    # the previous comparison's ids in the URL and follow them back.
    runs_to_url()
    if any(h.snapshot().status != QUEUED for h in handles):
        handles[0].wait_first_epoch(FIRST_EPOCH_WAIT_S)


def stop() -> None:
    """Let go of the runs (the Stop button); their curves are kept."""
    comparison = current_comparison()
    if comparison is not None:
        _let_go(comparison)
        st.session_state[RUNS_KEY] = replace(comparison, attached=False)
        runs_to_url()


def _teacher_forced(handle: RunHandle, view: JobView, entry: Entry) -> float | None:
    """A conditional decoder's teacher-forced MSE on the validation series, measured once per
    run with its trained model (a forward pass, no training)."""
    spec = entry.spec
    if not (spec.uses("decoder") and spec.decoder == "conditional") or not view.done \
            or view.epoch == 0 or view.error:
        return None
    return teacher_forced_once(handle, dataset(handle.job.data).val)


def run_numbers(comparison: Comparison, views: Sequence[JobView]) -> list[RunNumbers]:
    """Each run's own numbers, for the table, the curves and the findings."""
    return [numbers(e.spec, v, _teacher_forced(h, v, e))
            for e, h, v in zip(comparison.entries, comparison.handles, views, strict=True)]


# --- the live panel -------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _level(data: DataConfig) -> float:
    """The "predict the mean" level of this data (deterministic, so safe to share)."""
    data_set = dataset(data)
    return mean_level(data_set.train, data_set.val)


def _status(comparison: Comparison, views: Sequence[JobView]) -> None:
    done = sum(v.done for v in views)
    epochs = sum(v.epoch for v in views)
    total = sum(v.total_epochs for v in views)
    if done < len(views) and comparison.attached:
        waiting = sum(v.waiting for v in views)
        turns = (f" The server trains {runner().slots} runs at a time; the others wait their "
                 f"turn ({waiting} waiting now)." if waiting else "")
        st.progress(epochs / max(1, total), text=f"{epochs} of {total} epochs trained, "
                    f"{done} of {len(views)} runs done.{turns}")
    joined = [e.arch for e, j in zip(comparison.entries, comparison.joined, strict=False)
              if j]
    if joined:
        st.caption("Someone had already started or trained exactly these runs: "
                   f"{', '.join(joined)} (computed once, shared).")
    if not comparison.attached:
        st.caption("You let go of these runs (Stop, or a new comparison): the curves so far "
                   "are kept.")
    if comparison.attached:
        st.caption("The address bar's link names these runs (`cmp_runs`): a reload, or "
                   "anyone you share it with, sees them again while the server keeps them "
                   f"({FINISHED_TTL_S // 60} minutes after anyone last looked at a finished "
                   "one). Pressing Train again with the same settings finds them too.")
    for entry, view in zip(comparison.entries, views, strict=True):
        if view.error:
            st.error(f"{entry.arch}: training stopped with an error:")
            st.code(view.error, language="text", wrap_lines=True)


def _curves(runs: Sequence[RunNumbers], level: float | None, total_epochs: int,
            key: str) -> None:
    version = tuple(r.epochs for r in runs)
    by_epoch, by_seconds = st.tabs(["by epoch", "by seconds"])
    with by_epoch:
        fig = FIGURES.get(("compare-epoch", key, total_epochs), version,
                          lambda: mse_curves(runs, "epoch", level, total_epochs))
        chart(fig, chart_text.lines_text(fig, "Validation MSE by epoch"),
              key="compare_by_epoch", width="stretch")
    with by_seconds:
        fig = FIGURES.get(("compare-seconds", key, total_epochs), version,
                          lambda: mse_curves(runs, "seconds", level, total_epochs))
        chart(fig, chart_text.lines_text(fig, "Validation MSE by seconds on a training slot"),
              key="compare_by_seconds", width="stretch")
    st.caption("Validation MSE in the data's units: the one measure every model shares (the "
               "embedding model trains on a cross-entropy over bins; this is its "
               "reconstruction's MSE). Seconds are those each run spent on a training slot, "
               "so runs that took turns are timed fairly.")


def _grid(comparison: Comparison, views: Sequence[JobView], key: str) -> None:
    shared = comparison.entries[0].job.data
    data = dataset(shared)
    n_show = comparison.config.train.n_show
    rows = [(e.arch, e.arch, None if v.reconstructions is None else np.asarray(
        v.reconstructions), v.reconstructions_epoch)
        for e, v in zip(comparison.entries, views, strict=True) if e.job.data == shared]
    version = tuple(v.reconstructions_epoch for v in views)
    fig = FIGURES.get(("compare-grid", key), version,
                      lambda: reconstruction_grid(data.val[:n_show], rows))
    chart(fig, chart_text.grid_text(fig), key="compare_grid", width="stretch",
          config={"displayModeBar": False})
    apart = [e.arch for e in comparison.entries if e.job.data != shared]
    if apart:
        st.caption(f"Not in the grid: {', '.join(apart)}, trained on other series (one "
                   "value per step).")


def _body() -> None:
    comparison = current_comparison()
    if comparison is None:
        st.info("Press **Train** to train the chosen architectures side by side. Their "
                "validation MSE curves, a table of their sizes and speeds, the same validation "
                "series reconstructed by each, and what the numbers show appear here.")
        # Drawn empty, so the browser has loaded its charting code when the first point comes.
        config = current()
        _curves([], None, config.train.epochs, "empty")
        return
    views = comparison.views()
    key = "|".join(h.run_id for h in comparison.handles)
    _status(comparison, views)
    if comparison.config.values != current().values:
        st.caption("These runs are from the settings when Train was pressed, not the "
                   "sidebar's now. Press Train to compare at the current settings.")
    runs = run_numbers(comparison, views)
    level = _level(comparison.entries[0].job.data)
    st.header("Validation MSE")
    _curves(runs, level, comparison.config.train.epochs, key)
    st.header("The table")
    cells = table([row(r) for r in runs])
    st.dataframe(cells, hide_index=True, width="stretch",
                 height=ROW_PX * (len(cells) + 2))  # every measure and the header, no scroll
    st.caption("Parameters, code size and what the decoder reads come from the tracer; the "
               "rest are this run's own numbers. Compression: numbers in the input ÷ numbers "
               "the decoder can read (below 1: it reads more than the input). The last loss "
               "ratio is each model's own loss: above 1, it does worse on the validation "
               "series than on those it trained on.")
    st.header("The same validation series, reconstructed by each")
    _grid(comparison, views, key)
    st.header("What the numbers show")
    found = comparison_findings(runs, level)
    if not all(r.done for r in runs):
        st.caption("Findings appear when every run has ended.")
    elif not found:
        st.caption("Nothing stands out in these runs: no plateau, no divergence, no copying, "
                   "no gap worth a word.")
    for f in found:
        getattr(st, f.tone)(f.text)  # our own words and the runs' numbers
    polling = _polls(comparison, views)
    if not polling and st.session_state.get(POLL_KEY):
        st.session_state[POLL_KEY] = None
        st.rerun(scope="app")  # once: redraw the buttons, and stop polling


def _polls(comparison: Comparison | None, views: Sequence[JobView] | None = None) -> bool:
    """Whether the panel polls: its runs are still going and this page follows them."""
    if comparison is None:
        return False
    views = views if views is not None else comparison.views()
    return any(not v.done for v in views) and (
        comparison.attached or all(v.learners == 0 for v in views if not v.done))


def panel() -> None:
    """Draw the comparison; poll while its runs train."""
    runs_to_url()
    every = poll_seconds() if _polls(current_comparison()) else None
    st.session_state[POLL_KEY] = None if every is None else (every, time.monotonic())
    st.fragment(run_every=every)(_body)()


def going() -> bool:
    """Whether this page's comparison is still training (for the Stop button)."""
    comparison = current_comparison()
    return comparison is not None and comparison.attached and any(
        not v.done for v in comparison.views())
