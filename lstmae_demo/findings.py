"""Findings in words, computed from runs' own numbers: what a learner should notice.

    level = mean_level(data.train, data.val)        # MSE of outputting the average series
    run = RunNumbers(spec, train_losses, val_losses, val_mses, total_epochs, reason, ...)
    run_findings(run, level)                        # one finished run (the Train page)
    comparison_findings(runs, level)                # runs side by side (the Compare page)

Each rule looks at the numbers and returns a finding only when they show it; nothing is said
about an architecture by its name alone. The rules:

- divergence: the trainer stopped on a nan/inf, or the loss exploded on the way;
- mean plateau: the validation MSE sat at the level of outputting the average series (the
  best any model can do without reading its input) for several epochs;
- copying trap: a model whose decoder can read more than a fixed code smaller than the input
  reconstructs well (or best of all), so a low error proves nothing about a summary;
- teacher-forcing gap: a conditional decoder, fed the true previous values as in training,
  reconstructs the same validation series much better than free-running, as at inference;
- state start: a decoder started from the encoder's state reaches a stage of learning sooner
  than every decoder fed a repeated copy of the code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .archs import private_copy
from .settings import KNOBS
from .shapes.trace import Trace, trace
from .spec import ModelSpec

EXPLODED = 100.0  # a training loss this many times the first epoch's has exploded
PLATEAU_BAND = 0.05  # validation MSE within 5% of the mean level: sitting on the plateau
PLATEAU_EPOCHS = 3  # epochs in a row on the plateau worth a word (one or two are a start)
LEFT_MEAN = 0.9  # validation MSE below 90% of the mean level: it has left the plateau
LEARNED = 0.1  # validation MSE below 10% of the mean level: it reconstructs the series
TEACHER_GAP = 1.5  # free-running MSE this many times the teacher-forced one: a gap to explain
# "Sooner" needs both: at least this many epochs fewer, and at most this share of them.
SOONER_EPOCHS = 2
SOONER_SHARE = 0.75
MILESTONES = (0.05, 0.01)  # validation MSE levels the Compare page's table and findings use
# Errors, warnings and notes, in the order a page shows them.
TONES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing to notice: a key naming the rule, how loud it is, and its words (Markdown
    written here, with the run's numbers and the app's own architecture names)."""

    key: str  # divergence | mean_plateau | copying_trap | teacher_forcing | state_start
    tone: str  # one of TONES
    text: str
    label: str = ""  # the run it is about ("" for a finding about several runs)


@dataclass(frozen=True)
class RunNumbers:
    """What the findings read of one run: its model and its own numbers, per epoch."""

    spec: ModelSpec
    train_losses: tuple[float, ...]  # the model's own training loss (loss_name)
    val_losses: tuple[float, ...]
    val_mses: tuple[float, ...]  # reconstruction MSE in the data's units: every model's
    total_epochs: int
    reason: str | None = None  # how it ended (training.REASONS), "error", or None: not yet
    message: str = ""  # the trainer's words about a divergence
    loss_name: str = "MSE"
    slot_seconds: tuple[float, ...] = ()  # seconds on a training slot when each epoch ended
    epoch_seconds: float | None = None  # wall seconds per epoch on a slot
    # A conditional decoder's MSE on the validation series when fed the true previous values
    # (teacher forcing, as in training): measured by teacher_forced_mse (None: not measured).
    teacher_forced_mse: float | None = None

    @cached_property
    def trace(self) -> Trace:
        """The model's shapes and code, from the tracer."""
        return trace(self.spec, 1)

    @property
    def label(self) -> str:
        """The architecture and its choices, e.g. "encdec_ad (h, conditional)"."""
        choices = choice_values(self.spec)
        return self.spec.arch + (f" ({', '.join(choices)})" if choices else "")

    @property
    def name(self) -> str:
        """The label as Markdown: the architecture in code style."""
        choices = choice_values(self.spec)
        return f"`{self.spec.arch}`" + (f" ({', '.join(choices)})" if choices else "")

    @property
    def done(self) -> bool:
        """Whether the run has ended."""
        return self.reason is not None

    @property
    def epochs(self) -> int:
        """Completed epochs."""
        return len(self.val_mses)

    @property
    def final_mse(self) -> float:
        """The last validation MSE (nan before the first epoch)."""
        return self.val_mses[-1] if self.val_mses else math.nan

    @property
    def decoder_start(self) -> str:
        """What the decoder is started from or fed: "repeated" (a copy of the code at every
        step), "state" (the encoder's final state) or "outputs" (the encoder's outputs)."""
        records = self.trace.layers
        if any(r.passes == "repeat" for r in records):
            return "repeated"
        code = self.trace.record(self.trace.latent)
        return "state" if code.passes in ("state", "h_state", "sequence_state") else "outputs"

    @property
    def teacher_forced(self) -> bool:
        """Whether its decoder is fed the true previous values in training."""
        return self.spec.uses("decoder") and self.spec.decoder == "conditional"


def choice_values(spec: ModelSpec) -> list[str]:
    """The architecture's own choices (what the decoder reads, the hand-off, ...), as values."""
    return [str(getattr(spec, k.name)) for k in KNOBS
            if k.group == "model" and k.choices and k.name not in ("arch", "activation")
            and spec.uses(k.name)]


# --- measurements --------------------------------------------------------------------------


def mean_level(train: np.ndarray, val: np.ndarray) -> float:
    """MSE on the validation series of outputting the training data's mean value at every
    step, whatever the input: where a model that has not yet learned to read its input sits
    (the "predict the mean" plateau)."""
    x, v = (np.asarray(a, dtype=np.float64) for a in (train, val))  # (N, T, F) each
    if x.size == 0 or v.size == 0:
        return math.nan
    return float(np.mean((v - x.mean(axis=(0, 1), keepdims=True)) ** 2))


@torch.no_grad()
def teacher_forced_mse(model: nn.Module, x: np.ndarray, chunk: int = 512) -> float:
    """MSE of the reconstruction of `x` (N, T, F) with the decoder in training mode: a
    conditional decoder is then fed the true previous values (teacher forcing).

    Runs on a private copy (archs.private_copy), so a trained model other learners share is
    never switched to training mode under them, nor runs a hook another page holds on it."""
    twin = private_copy(model).train()
    data = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    total = 0.0
    for part in torch.split(data, chunk):
        total += F.mse_loss(twin.reconstruct(part), part, reduction="sum").item()
    return total / data.numel()


# --- helpers ---------------------------------------------------------------------------------


def _g(value: float) -> str:
    return f"{value:.3g}"


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def epochs_to(values: Sequence[float], level: float) -> int | None:
    """The first epoch (1-based) whose value is at or below `level`, or None."""
    return next((i for i, v in enumerate(values, 1) if math.isfinite(v) and v <= level), None)


def plateau(values: Sequence[float], level: float) -> tuple[int, int] | None:
    """(first epoch, length) of the longest stretch within PLATEAU_BAND of `level`."""
    if not level > 0:
        return None
    best, start = None, None
    for i, v in enumerate([*values, math.inf], 1):
        on = math.isfinite(v) and abs(v / level - 1) <= PLATEAU_BAND
        if on and start is None:
            start = i
        elif not on and start is not None:
            if best is None or i - start > best[1]:
                best = (start, i - start)
            start = None
    return best


# --- one run ---------------------------------------------------------------------------------


def divergence_text(train_losses: Sequence[float], val_losses: Sequence[float],
                    reason: str | None) -> str | None:
    """What went wrong with a run's losses, in words, or None if nothing did."""
    if reason == "diverged":
        return "The loss diverged."
    losses = list(train_losses) + list(val_losses)
    if any(not math.isfinite(v) for v in losses):
        return "The loss became infinite or not a number."
    if train_losses:
        first, peak = train_losses[0], max(train_losses)
        if first > 0 and peak > EXPLODED * first:
            epoch = list(train_losses).index(peak) + 1
            return (f"The loss exploded: {peak:.3g} in epoch {epoch}, more than {EXPLODED:g} "
                    f"times the first epoch's {first:.3g}. Whatever it ended at, this run did "
                    "not learn steadily: try a lower learning rate or tanh instead of relu.")
    return None


def divergence(run: RunNumbers) -> Finding | None:
    """The run diverged or its loss exploded."""
    text = divergence_text(run.train_losses, run.val_losses, run.reason)
    if text is None:
        return None
    return Finding("divergence", "error", f"{run.name}: {text}"
                   + (f" {run.message}" if run.message else ""), run.label)


# Why a long flat start is no surprise, by what the decoder is fed or started from
# (RunNumbers.decoder_start); a decoder reading the encoder's outputs has no such reason.
FLAT_START = {
    "repeated": " (a flat start is common for a decoder fed a repeated vector: the same "
                "input at every step gives it no sense of where in the series it is)",
    "state": " (a decoder started from the encoder's state has to learn to read that state "
             "before its output can depend on the input)",
}


def mean_plateau(run: RunNumbers, level: float) -> Finding | None:
    """The validation MSE sat at the mean level for PLATEAU_EPOCHS or more in a row."""
    found = plateau(run.val_mses, level)
    if found is None or found[1] < PLATEAU_EPOCHS:
        return None
    start, length = found
    end = start + length - 1
    where = (f"epochs {start}–{end}" if length > 1 else f"epoch {start}")
    what = (f"{run.name} sat on the \"predict the mean\" plateau for {_epochs(length)} "
            f"({where}): its validation MSE stayed within {PLATEAU_BAND:.0%} of {_g(level)}, "
            "what outputting the average series gives whatever the input.")
    left = epochs_to(run.val_mses[end:], LEFT_MEAN * level)
    if left is None:  # still on it, or only just below it, at the end
        where_now = ("It was still there when the run ended" if end == run.epochs else
                     f"It ended close to it ({_g(run.final_mse)}), never below "
                     f"{LEFT_MEAN:.0%} of it")
        return Finding("mean_plateau", "warning", what + f" {where_now}: so far it has "
                       "learned the average, not the series. More epochs may get it off"
                       f"{FLAT_START.get(run.decoder_start, '')}, or another learning rate "
                       "or seed.", run.label)
    return Finding("mean_plateau", "info", what + f" It then left it: "
                   f"{_g(run.val_mses[end + left - 1])} in epoch {end + left}, "
                   f"{_g(run.final_mse)} at the end. A flat start is not a dead model.",
                   run.label)


def _no_bottleneck(run: RunNumbers) -> str:
    tr = run.trace
    grows = "" if tr.code.fixed_size else ", and that grows with the sequence length"
    return (f"its decoder can read {tr.code.where}: {tr.latent_per_example:,} numbers per "
            f"example against {tr.input_per_example:,} in the input{grows}")


def copying_trap(run: RunNumbers, level: float) -> Finding | None:
    """A model without a bottleneck that reconstructs well: it may simply copy."""
    if run.trace.has_bottleneck or not run.done or not run.final_mse <= LEARNED * level:
        return None
    return Finding("copying_trap", "warning",
                   f"{run.name} reconstructs the validation series with MSE "
                   f"{_g(run.final_mse)} (outputting the average gives {_g(level)}), but it "
                   f"has no bottleneck: {_no_bottleneck(run)}. It can copy instead of "
                   "summarising, so this low error does not show that it learned a code (the "
                   "copying trap). Compare it with a model that has a bottleneck.", run.label)


def teacher_forcing(run: RunNumbers) -> Finding | None:
    """A conditional decoder does much better fed the truth than fed its own predictions."""
    forced = run.teacher_forced_mse
    if not run.teacher_forced or forced is None or not run.done or not forced > 0:
        return None
    free = run.final_mse
    if not free >= TEACHER_GAP * forced:
        return None
    return Finding("teacher_forcing", "info",
                   f"{run.name}: on the same validation series, fed the true previous values "
                   f"(teacher forcing, as in training) its decoder reconstructs with MSE "
                   f"{_g(forced)}; fed its own predictions (free-running, as at inference) "
                   f"with {_g(free)}, {free / forced:.1f} times worse. That is the gap between "
                   "its training and validation curves: each error is fed back in and adds "
                   "up over the steps. It comes from how the decoder is fed, not from "
                   "overfitting: the series are the same.", run.label)


def run_findings(run: RunNumbers, level: float) -> list[Finding]:
    """What a finished run shows (nothing for a run still training or that failed)."""
    if not run.done or run.reason == "error" or not run.val_mses:
        return []
    diverged = divergence(run)
    if diverged is not None:
        return [diverged]
    found = [mean_plateau(run, level), copying_trap(run, level), teacher_forcing(run)]
    return [f for f in found if f is not None]


# --- runs side by side --------------------------------------------------------------------


def _by_mse(run: RunNumbers) -> float:
    return run.final_mse if math.isfinite(run.final_mse) else math.inf


def copying_wins(runs: Sequence[RunNumbers], level: float) -> Finding | None:
    """The best reconstruction comes from a model without a bottleneck."""
    fine = [r for r in runs if r.done and r.val_mses and divergence(r) is None]
    with_code = [r for r in fine if r.trace.has_bottleneck]
    without = [r for r in fine if not r.trace.has_bottleneck]
    if not with_code or not without:
        return None
    best = min(fine, key=_by_mse)
    rival = min(with_code, key=_by_mse)
    if best.trace.has_bottleneck or not best.final_mse < rival.final_mse:
        return None
    times = (f", {rival.final_mse / best.final_mse:.3g} times lower than" if best.final_mse > 0
             else " against")
    return Finding("copying_trap", "warning",
                   f"{best.name} reconstructs best: validation MSE {_g(best.final_mse)}{times} "
                   f"the best model with a bottleneck, {rival.name} ({_g(rival.final_mse)}). "
                   f"But {best.name} has no bottleneck: {_no_bottleneck(best)}. It can copy "
                   "its input instead of summarising it, so the lowest reconstruction error "
                   "here does not prove that an autoencoder learned anything: that is the "
                   "copying trap, and why the bottleneck matters more than the error.",
                   best.label)


def _stages(level: float) -> list[tuple[str, float]]:
    return [("left the \"predict the mean\" level", LEFT_MEAN * level)] + [
        (f"reached validation MSE {m:g}", m) for m in MILESTONES]


def _when(n: int | None, total: int) -> str:
    return f"after {_epochs(n)}" if n is not None else f"not within {_epochs(total)}"


def state_start(runs: Sequence[RunNumbers], level: float) -> Finding | None:
    """A state-started decoder (with a bottleneck) reaches a stage sooner than every decoder
    fed a repeated vector."""
    fine = [r for r in runs if r.done and r.val_mses and divergence(r) is None]
    started = [r for r in fine if r.decoder_start == "state" and r.trace.has_bottleneck]
    repeated = [r for r in fine if r.decoder_start == "repeated"]
    if not started or not repeated:
        return None
    sooner, later = [], []
    for stage, threshold in _stages(level):
        reach = {r.label: epochs_to(r.val_mses, threshold) for r in started + repeated}
        reached = [r for r in started if reach[r.label] is not None]
        if not reached:
            continue
        best = min(reached, key=lambda r: reach[r.label])
        mine = reach[best.label]
        others = [(r, reach[r.label]) for r in repeated]
        if all(n is None or (mine + SOONER_EPOCHS <= n and mine <= SOONER_SHARE * n)
               for _, n in others):
            sooner.append((stage, best, mine, others))
        elif any(n is not None and n < mine for _, n in others):
            later.append((stage, best, mine, others))
    if not sooner:
        return None
    stage, best, mine, others = sooner[0]
    theirs = ", ".join(f"{r.name} {_when(n, r.total_epochs)}" for r, n in others)
    text = (f"A decoder started from the encoder's state learned sooner here: {best.name} "
            f"{stage} after {_epochs(mine)}; fed a repeated copy of the code at every step "
            f"(their decoders start from zeros), {theirs}.")
    for stage, best2, mine2, _ in sooner[1:]:
        text += f" It also {stage} sooner ({best2.name}: {_epochs(mine2)})."
    if later:
        stage, best2, mine2, others2 = later[0]
        quick = min((n for _, n in others2 if n is not None))
        first = next(r for r, n in others2 if n == quick)
        text += (f" Not at every stage: {best2.name} {stage} after {_epochs(mine2)}, "
                 f"{first.name} after {_epochs(quick)}.")
    return Finding("state_start", "info", text)


def comparison_findings(runs: Sequence[RunNumbers], level: float) -> list[Finding]:
    """What runs trained side by side show, once every one has ended: each run's own
    findings, then those about the runs together; errors first."""
    if not runs or not all(r.done for r in runs):
        return []
    together = [f for f in (copying_wins(runs, level), state_start(runs, level)) if f]
    covered = {f.label for f in together if f.key == "copying_trap"}
    own = [f for r in runs for f in run_findings(r, level)
           if not (f.key == "copying_trap" and f.label in covered)]
    found = own + together
    return sorted(found, key=lambda f: TONES.index(f.tone))
