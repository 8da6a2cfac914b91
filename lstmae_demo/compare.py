"""Compare: two to four architectures trained on the same data, with the same seed and the same
budget, and read side by side.

    archs, notes = parse_selection(url_value)   # the URL's compare=, checked
    entries = plan(config, archs)               # a JobSpec per architecture, or why not
    run = numbers(entry.spec, view)             # a run's own numbers (findings.RunNumbers)
    rows = [row(run) for run in runs]           # the table, from the runs and the tracer
    table(rows)                                 # the same, as cells to show

Every architecture takes the sidebar's settings with its own current choices (what the
embedding decoder reads, the encdec_ad hand-off and decoder); what it ignores stays at the
default. The axis every model shares is the validation MSE in the data's units: the embedding
model trains on a cross-entropy over bins, but the trainer measures every model's
reconstruction MSE after every epoch (training.Epoch.val_mse), so no model needs another loss.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .archs import get_arch
from .config import AppConfig, training_budget
from .findings import MILESTONES, RunNumbers, epochs_to
from .jobs import JobSpec, JobView, validate_job
from .settings import ARCHS, KNOB, KNOBS, shown
from .shapes.trace import trace

PARAM = "compare"  # the URL parameter: architectures separated by commas
RUNS_PARAM = "cmp_runs"  # the URL parameter: the comparison's run ids separated by commas
MIN_ARCHS, MAX_ARCHS = 2, 4
DEFAULT: tuple[str, ...] = ARCHS  # all four
# What a run id may look like in a link (the runners' ids are 12 URL-safe characters): a
# value of anything else is refused before any runner is asked.
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _allowed() -> str:
    return (f"{PARAM} must name {MIN_ARCHS} to {MAX_ARCHS} different architectures out of "
            f"{', '.join(ARCHS)}, separated by commas")


def check_selection(archs: Sequence[str]) -> tuple[str, ...]:
    """The architectures in the app's order if they are 2 to 4 different known ones; else
    ValueError saying what is wrong and what is allowed."""
    if isinstance(archs, str):
        raise ValueError(f"{_allowed()}; got a single string")
    names = [str(a) for a in archs]
    unknown = [a for a in names if a not in ARCHS]
    if unknown:
        raise ValueError(f"{_allowed()}; {shown(unknown[0])} is not one of them")
    if len(set(names)) != len(names):
        raise ValueError(f"{_allowed()}; each at most once")
    if not MIN_ARCHS <= len(names) <= MAX_ARCHS:
        raise ValueError(f"{_allowed()}; got {len(names)}")
    return tuple(a for a in ARCHS if a in names)


def parse_selection(raw: str | None) -> tuple[tuple[str, ...], list[str]]:
    """The URL's compare= value as architectures; a bad value gives all four and a note
    quoting it (plain text for the page) that says what is allowed."""
    if raw is None or str(raw).strip() == "":
        return DEFAULT, []
    parts = [p.strip() for p in str(raw).split(",")]
    try:
        return check_selection(parts), []
    except ValueError as err:
        return DEFAULT, [f"{err} (the link has {shown(raw)}); comparing all four"]


def to_param(archs: Sequence[str]) -> str | None:
    """The URL's compare= value for these architectures (None: the default, all four)."""
    archs = check_selection(archs)
    return None if archs == DEFAULT else ",".join(archs)


def parse_run_ids(raw: str) -> tuple[str, ...]:
    """The URL's cmp_runs= value as run ids (2 to 4 different ones); else ValueError saying
    what is wrong and what is allowed (quoting the value as shortened plain text)."""
    parts = [p.strip() for p in str(raw).split(",")]
    allowed = (f"{RUNS_PARAM} must list {MIN_ARCHS} to {MAX_ARCHS} run ids separated by "
               "commas")
    if not MIN_ARCHS <= len(parts) <= MAX_ARCHS:
        raise ValueError(f"{allowed}; got {len(parts)}")
    bad = next((p for p in parts if not RUN_ID.fullmatch(p)), None)
    if bad is not None:
        raise ValueError(f"{allowed}; {shown(bad)} is not a run id (letters, digits, - and _)")
    if len(set(parts)) != len(parts):
        raise ValueError(f"{allowed}; each at most once")
    return tuple(parts)


def _same_run(planned: JobSpec, run: JobSpec) -> bool:
    """Whether `run` is the run `planned` describes (a runner fills in the torch thread count
    a JobSpec leaves open)."""
    if planned.train.threads is None:
        planned = replace(planned, train=replace(planned.train, threads=run.train.threads))
    return planned == run


def match_runs(config: AppConfig, jobs: Sequence[JobSpec]) -> tuple[Entry, ...]:
    """The entries of the comparison `config` plans for these runs' architectures, if the
    runs are exactly that comparison's (the same JobSpec each: model with its choices, data,
    seed and budget, no saved weights to start from); else ValueError saying why. So a link
    can only re-attach to what the Compare page would itself have started."""
    why = "the runs in the link are not one comparison of this app"
    try:
        archs = check_selection([job.model.arch for job in jobs])
    except ValueError as err:
        raise ValueError(f"{why}: their architectures do not fit ({err})") from None
    entries = tuple(e for e in plan(config, archs) if e.job is not None)
    by_arch = {job.model.arch: job for job in jobs}
    if tuple(e.arch for e in entries) != archs or not all(
            _same_run(e.job, by_arch[e.arch]) for e in entries):
        raise ValueError(f"{why}: they were not trained on the same data, seed and budget as "
                         "the Compare page trains them")
    return entries


@dataclass(frozen=True)
class Entry:
    """One architecture in a comparison: its run's JobSpec, or why it cannot train."""

    arch: str
    config: AppConfig  # the sidebar's settings with this architecture
    job: JobSpec | None
    problem: str | None = None  # plain text: why not (the settings' own check)

    @property
    def spec(self):
        """The model it trains."""
        return self.config.spec


def plan(config: AppConfig, archs: Sequence[str]) -> tuple[Entry, ...]:
    """Each architecture's run at these settings: the same data source (sine series with one
    feature for an architecture that takes one), the same TrainConfig (seed, epochs, batch,
    lr)."""
    entries = []
    for arch in check_selection(archs):
        values = {**config.values, "arch": arch}
        low, why = KNOB["seq_len"].low_for.get(arch, (KNOB["seq_len"].low, ""))
        if values["seq_len"] < low:
            entries.append(Entry(arch, config, None, f"{arch} needs a sequence length of at "
                                 f"least {low} ({why}); the settings have "
                                 f"{values['seq_len']}."))
            continue
        mine = replace(config, values=values)  # the same data source (an upload too)
        try:
            job = validate_job(JobSpec(model=mine.spec, data=mine.data, train=mine.train))
        except ValueError as err:
            entries.append(Entry(arch, mine, None, str(err)))
            continue
        too_big = training_budget(mine, trace(mine.spec, 1).params_torch)
        entries.append(Entry(arch, mine, None if too_big else job, too_big))
    return tuple(entries)


def numbers(spec, view: JobView, teacher_forced_mse: float | None = None) -> RunNumbers:
    """A run's own numbers, from its view (and, for a conditional decoder, its measured
    teacher-forced MSE)."""
    f = view.finished
    reason = "error" if view.error else (f.reason if f is not None else None)
    if reason is None and view.done:
        reason = "error"
    return RunNumbers(
        spec=spec, train_losses=tuple(view.train_losses), val_losses=tuple(view.val_losses),
        val_mses=tuple(view.val_mses), total_epochs=view.total_epochs, reason=reason,
        message=f.message if f is not None else "",
        loss_name=get_arch(spec.arch).model.loss_name, slot_seconds=tuple(view.slot_seconds),
        epoch_seconds=view.epoch_seconds, teacher_forced_mse=teacher_forced_mse)


@dataclass(frozen=True)
class Reach:
    """When a run first reached a validation MSE: epochs and seconds on a slot."""

    mse: float
    epoch: int | None  # None: not (yet)
    seconds: float | None


@dataclass(frozen=True)
class Row:
    """One line of the table: the model's sizes from the tracer, the run's own numbers."""

    label: str
    params_keras: int
    params_torch: int
    code_per_example: int
    input_per_example: int
    compression: float  # numbers in the input / numbers the decoder can read
    has_bottleneck: bool
    decoder_reads: str  # the registry's words for the code
    fixed_size: bool
    epoch_seconds: float | None
    reaches: tuple[Reach, ...]  # one per MILESTONES
    final_mse: float
    gap: float  # final validation loss / final training loss, in the model's own loss
    loss_name: str
    epochs: int
    total_epochs: int
    reason: str | None


def reach(run: RunNumbers, mse: float) -> Reach:
    """When `run` first had a validation MSE at or below `mse`."""
    epoch = epochs_to(run.val_mses, mse)
    seconds = (run.slot_seconds[epoch - 1] if epoch is not None
               and epoch <= len(run.slot_seconds) else None)
    return Reach(mse, epoch, seconds)


def row(run: RunNumbers) -> Row:
    """The table's line for one run."""
    tr = run.trace
    gap = (run.val_losses[-1] / run.train_losses[-1]
           if run.val_losses and run.train_losses and run.train_losses[-1] > 0 else math.nan)
    return Row(label=run.label, params_keras=tr.params_keras, params_torch=tr.params_torch,
               code_per_example=tr.latent_per_example, input_per_example=tr.input_per_example,
               compression=tr.compression, has_bottleneck=tr.has_bottleneck,
               decoder_reads=tr.code.where, fixed_size=tr.code.fixed_size,
               epoch_seconds=run.epoch_seconds, reaches=tuple(reach(run, m) for m in MILESTONES),
               final_mse=run.final_mse, gap=gap, loss_name=run.loss_name, epochs=run.epochs,
               total_epochs=run.total_epochs, reason=run.reason)


def _status(r: Row) -> str:
    if r.reason is None:
        return f"training: {r.epochs} of {r.total_epochs} epochs" if r.epochs else "waiting"
    if r.reason == "error":
        return "failed"
    return f"{r.reason.replace('_', ' ')} after {r.epochs}"


def _reach_text(r: Reach, row_: Row) -> str:
    if r.epoch is None:
        return "not yet" if row_.reason is None else f"not in {row_.epochs} epochs"
    seconds = f", {r.seconds:.1f} s" if r.seconds is not None else ""
    return f"epoch {r.epoch}{seconds}"


def _number(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "—"


def table(rows: Sequence[Row]) -> list[Mapping[str, str]]:
    """The table as cells to show: one line per measure, one column per model (the models sit
    side by side however narrow the screen)."""
    columns = [_cells(r) for r in rows]
    measures = list(columns[0]) if columns else []
    return [{"measure": measure} | {r.label: cells[measure] for r, cells in zip(rows, columns,
                                                                        strict=True)}
            for measure in measures]


def _cells(r: Row) -> dict[str, str]:
    """One model's cells, by measure."""
    cells = {
        "parameters (Keras)": f"{r.params_keras:,}",
        "parameters (PyTorch)": f"{r.params_torch:,}",
        "code per example": f"{r.code_per_example:,} (input {r.input_per_example:,})",
        "compression": (f"{r.compression:.3g}x" if r.has_bottleneck else
                        f"{r.compression:.3g}x: no bottleneck"),
        "what the decoder can read": r.decoder_reads + (
            "" if r.fixed_size else " (grows with T)"),
        "seconds per epoch": (f"{r.epoch_seconds:.2f}" if r.epoch_seconds is not None
                              else "—"),
    }
    for reached in r.reaches:
        cells[f"to validation MSE {reached.mse:g}"] = _reach_text(reached, r)
    cells["final validation MSE"] = _number(r.final_mse)
    cells["validation ÷ training loss"] = (f"{r.gap:.2f} ({r.loss_name})"
                                           if math.isfinite(r.gap) else "—")
    cells["status"] = _status(r)
    return cells


def choices_text(entries: Sequence[Entry]) -> str:
    """The architectures' own choices in words (empty if none of them has one), e.g.
    "embedding: what the decoder reads: attention over every output"."""
    parts = []
    for entry in entries:
        spec = entry.spec
        said = [f"{k.label.lower()}: {k.label_of(getattr(spec, k.name))}" for k in KNOBS
                if k.group == "model" and k.choices and k.name not in ("arch", "activation")
                and spec.uses(k.name)]
        if said:
            parts.append(f"{entry.arch}: {'; '.join(said)}")
    return ". ".join(parts)


def data_notes(entries: Sequence[Entry]) -> list[str]:
    """Where the runs' data differ (an architecture that takes one feature per step)."""
    trained = [e for e in entries if e.job is not None]
    features = {e.job.data.n_features for e in trained}
    if len(features) <= 1:
        return []
    return [f"{e.arch} takes {e.job.data.n_features} feature per step, so it trains on sines "
            f"with {e.job.data.n_features} feature; the others on {max(features)}."
            for e in trained if e.job.data.n_features < max(features)]
