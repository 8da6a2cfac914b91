"""The anomaly lab: EncDec-AD's whole procedure (arXiv 1607.00148, Section 2.2) for one trained
model and one data source.

The paper splits its data into sets: sN trains the model (normal only), vN1 gives the error
vectors N(mu, Sigma) is fitted to, vN2 (normal) and vA (anomalous) choose tau by F_beta, and
tN and tA test it. Here:

- `sine`: the run's validation series (never trained on), in three equal parts in order: vN1;
  vN2 + vA (every second series gets the learner's anomaly); tN + tA (the same).
- a bundled set (`nab_jumpsup`): the normal file's validation windows, in two halves in time
  (vN1; vN2 + vA, every second window with the learner's anomaly; the window straddling the two
  halves is left out so they share no row); the test is the labelled file cut into windows of
  T that do not overlap (stride T), with its labelled anomaly window as the truth, so each row
  is scored once and the windows laid end to end give the file's own timeline.

    choice, notes = parse_choice(raw_values, seq_len)
    sets = build_sets(data_config, choice)
    result = analyse(model, sets, choice.beta, choice.unit)
    result.best                   # Metrics of the F_beta-best tau on validation
    result.on_test(tau)           # Metrics on the test set at any tau

The unit of detection is a choice (`unit`): "step" counts time steps (points; a(i) > tau flags
step i), "series" counts windows (a window is flagged when any of its steps scores above tau,
as `threshold` counts by default). NumPy only, apart from the model's forward passes
(`scoring.reconstructions`). Bad input raises AnomalyError or DataError (ValueErrors).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import BUNDLED, BundledConfig, DataConfig, SineConfig, load, make_bundled
from ..data.bundled import read_series
from .inject import KINDS, SIZE_MEANS, inject
from .scoring import AnomalyError, ErrorModel, anomaly_scores, fit_normal, reconstructions
from .threshold import DEFAULT_BETA, Metrics, PRCurve, best_threshold, evaluate, pr_curve

if TYPE_CHECKING:  # torch is imported only where a model runs
    from ..archs import Autoencoder

SOURCES: tuple[str, ...] = ("sine", *BUNDLED)
UNITS: tuple[str, ...] = ("step", "series")
UNIT_WORDS = {"step": "time steps (points)",
              "series": "windows (flagged when any step is above tau)"}
KIND_WORDS = {"spike": "spike", "level_shift": "level shift",
              "frequency_change": "frequency change", "noise_burst": "noise burst",
              "flat_line": "flat-line dropout"}
MAX_SIZE = 5.0  # |size| limit for every kind (the series are in [-1, 1] or z-scored)
MAX_FREQUENCY = 10.0  # the highest speed factor of a frequency change
BETA_LIMITS = (0.01, 10.0)
MIN_PART = 2  # series each part of the lab needs at least

# The URL name of each choice (the page's query parameters: one place for their names).
PARAMS: Mapping[str, str] = {"data": "an_data", "kind": "an_kind", "size": "an_size",
                             "start": "an_start", "width": "an_width", "beta": "an_beta",
                             "unit": "an_unit"}


@dataclass(frozen=True)
class LabChoice:
    """What the learner chose: the data, the anomaly to inject, beta and the unit counted."""

    data: str = "sine"  # "sine" or a bundled set's name (SOURCES)
    kind: str = "level_shift"  # one of KINDS
    size: float = 1.0  # what it means depends on the kind (inject.SIZE_MEANS)
    start: int = 20  # the anomaly's first step in its window (0-based)
    width: int = 10  # steps it lasts
    beta: float = DEFAULT_BETA  # F_beta's beta: < 1 favours precision, as the paper's
    unit: str = "step"  # what precision, recall and the counts count (UNITS)

    def to_params(self) -> dict[str, str]:
        """The URL query of the values that differ from the defaults."""
        base = LabChoice()
        return {PARAMS[name]: _text(getattr(self, name)) for name in PARAMS
                if getattr(self, name) != getattr(base, name)}


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shown(raw: Any) -> str:
    text = repr(str(raw))
    return text if len(text) <= 40 else text[:35] + "…' (cut)"


def _number(name: str, raw: Any, low: float, high: float, whole: bool) -> int | float:
    """raw as a number in [low, high] (a whole one if `whole`), or ValueError saying so."""
    noun = "a whole number" if whole else "a number"
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be {noun} from {low:g} to {high:g}, got {_shown(raw)}")
    try:
        value = float(str(raw).strip()) if not isinstance(raw, numbers.Real) else float(raw)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be {noun} from {low:g} to {high:g}, "
                         f"got {_shown(raw)}") from None
    if not math.isfinite(value) or not low <= value <= high or (whole and value != int(value)):
        raise ValueError(f"{name} must be {noun} from {low:g} to {high:g}, got {_shown(raw)}")
    return int(value) if whole else value


def _size_problem(kind: str, size: float) -> str | None:
    """Why `size` does not suit `kind` (None: it does)."""
    if kind == "frequency_change" and not (0 < size <= MAX_FREQUENCY and size != 1):
        return f"for a frequency change the size is {SIZE_MEANS[kind]}, at most {MAX_FREQUENCY:g}"
    if kind in ("spike", "level_shift") and size == 0:
        return f"for a {KIND_WORDS[kind]} the size is {SIZE_MEANS[kind]}"
    if kind == "noise_burst" and size <= 0:
        return f"for a noise burst the size is {SIZE_MEANS[kind]}"
    return None


def parse_choice(raw: Mapping[str, Any], seq_len: int) -> tuple[LabChoice, list[str]]:
    """A LabChoice from raw values (URL text or widget values) keyed by field name; each bad
    value becomes the default with a note saying what was wrong and what is allowed, and a
    window that does not fit T steps is moved or shortened to fit (with a note)."""
    base, values, notes = LabChoice(), {}, []
    checks = {
        "data": lambda v: _pick("data", v, SOURCES),
        "kind": lambda v: _pick("kind", v, KINDS),
        "unit": lambda v: _pick("unit", v, UNITS),
        "size": lambda v: _number("size", v, -MAX_SIZE, MAX_SIZE, whole=False),
        "start": lambda v: _number("start", v, 0, 10_000, whole=True),
        "width": lambda v: _number("width", v, 1, 10_000, whole=True),
        "beta": lambda v: _number("beta", v, *BETA_LIMITS, whole=False),
    }
    for name, check in checks.items():
        if name not in raw or raw[name] is None:
            continue
        try:
            values[name] = check(raw[name])
        except ValueError as err:
            notes.append(f"{err}; using {_text(getattr(base, name))}")
    choice = replace(base, **values)
    if (problem := _size_problem(choice.kind, choice.size)) is not None:
        fallback = 2.0 if choice.kind == "frequency_change" else base.size
        notes.append(f"{problem}; got {choice.size:g}, using {fallback:g}")
        choice = replace(choice, size=fallback)
    return fit_window(choice, seq_len, notes), notes


def _pick(name: str, raw: Any, allowed: tuple[str, ...]) -> str:
    text = str(raw).strip()
    if text not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {_shown(raw)}")
    return text


def fit_window(choice: LabChoice, seq_len: int, notes: list[str] | None = None) -> LabChoice:
    """The choice with its window inside T steps (a frequency change needs 2 steps)."""
    notes = notes if notes is not None else []
    least = 2 if choice.kind == "frequency_change" else 1
    width = min(max(choice.width, least), seq_len)
    start = min(choice.start, seq_len - width)
    if (width, start) != (choice.width, choice.start):
        notes.append(f"The anomaly window (start {choice.start}, width {choice.width}) must fit "
                     f"in T = {seq_len} steps: using start {start}, width {width}.")
    return replace(choice, width=width, start=start)


def data_config(source: str, sine: SineConfig) -> DataConfig:
    """The data a run trains on for this source: the app's sine config, or the bundled set
    with the same T (the model's seq_len)."""
    if source == "sine":
        return sine
    if source not in BUNDLED:
        raise AnomalyError(f"data must be one of {', '.join(SOURCES)}, got {_shown(source)}")
    return BundledConfig(name=source, seq_len=sine.seq_len)


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class LabSets:
    """The lab's series: (n, T, F) float32 arrays and (n, T) bool masks of anomalous steps."""

    fit: np.ndarray  # vN1: normal; N(mu, Sigma) is fitted to their errors
    val: np.ndarray  # vN2 + vA: tau is chosen on these
    val_mask: np.ndarray
    test: np.ndarray  # tN + tA: precision, recall and the counts are measured on these
    test_mask: np.ndarray
    test_clean: np.ndarray  # the test series before any injection (= test for labelled data)
    labelled: bool  # True: the test anomalies are a bundled set's labels, not injected
    test_rows: np.ndarray | None = None  # (n_test, T) row of the labelled file of each step
    source: str = "sine"


def _with_anomalies(base: np.ndarray, choice: LabChoice, seed: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Every second series of `base` (the 2nd, 4th, ...) with the chosen anomaly injected."""
    out = np.array(base, dtype=np.float32, copy=True)
    masks = np.zeros(base.shape[:2], dtype=bool)
    for i in range(1, len(base), 2):
        done = inject(base[i], choice.kind, choice.size, choice.start, choice.width,
                      seed=seed + i)
        out[i], masks[i] = done.series, done.mask
    return out, masks


def _check_parts(parts: Mapping[str, np.ndarray], what: str) -> None:
    for name, part in parts.items():
        if len(part) < MIN_PART:
            raise AnomalyError(f"{what} leaves only {len(part)} series for the {name} set; "
                               f"each set needs at least {MIN_PART}. {_MORE_DATA}")


_MORE_DATA = "Use more training series (a quarter as many more validate) or a shorter T."


def build_sets(config: DataConfig, choice: LabChoice, seed: int = 0) -> LabSets:
    """The fit, validation and test sets for `config` (the run's data) and the choice."""
    if isinstance(config, BundledConfig):
        return _bundled_sets(config, choice, seed)
    if not isinstance(config, SineConfig):
        raise AnomalyError(f"the lab works on sine or bundled data, got {type(config).__name__}")
    pool = load(config).val  # (n_val, T, F): never trained on
    third = len(pool) // 3
    fit, val_base, test_base = pool[:third], pool[third:2 * third], pool[2 * third:3 * third]
    _check_parts({"fit": fit, "validation": val_base, "test": test_base},
                 f"Splitting {len(pool)} validation series in three")
    val, val_mask = _with_anomalies(val_base, choice, seed)
    test, test_mask = _with_anomalies(test_base, choice, seed + 10_000)
    return LabSets(fit=fit, val=val, val_mask=val_mask, test=test, test_mask=test_mask,
                   test_clean=np.array(test_base), labelled=False, source="sine")


def _bundled_sets(config: BundledConfig, choice: LabChoice, seed: int) -> LabSets:
    data = make_bundled(config)
    stride = config.stride if config.stride is not None else max(1, config.seq_len // 2)
    pool = data.val
    half = len(pool) // 2
    skip = -(-config.seq_len // stride) - 1  # windows sharing rows with the last fit window
    fit, val_base = pool[:half], pool[half + skip:]
    _check_parts({"fit": fit, "validation": val_base},
                 f"Cutting the normal file's last {config.val_share:.0%} of rows into windows")
    val, val_mask = _with_anomalies(val_base, choice, seed)
    tiled = make_bundled(replace(config, stride=config.seq_len))  # same scaling, no overlap
    rows = tiled.test_starts[:, None] + np.arange(config.seq_len)[None, :]
    return LabSets(fit=fit, val=val, val_mask=val_mask, test=tiled.test,
                   test_mask=tiled.test_mask, test_clean=tiled.test, labelled=True,
                   test_rows=rows, source=config.name)


def unit_scores(step_scores: np.ndarray, mask: np.ndarray,
                unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels (n,) of the unit counted: every step, or each series' highest step."""
    if unit == "step":
        return step_scores.reshape(-1), mask.reshape(-1)
    if unit == "series":
        return step_scores.max(axis=1), mask.any(axis=1)
    raise AnomalyError(f"unit must be one of {', '.join(UNITS)}, got {_shown(unit)}")


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class ErrorRatio:
    """How much worse the anomalous test steps are reconstructed than the normal ones."""

    anomalous: float  # mean |x - x'| over the anomalous test steps (all features)
    normal: float  # the same over the normal test steps
    score_anomalous: float  # mean anomaly score a(i) over the anomalous test steps
    score_normal: float  # the same over the normal test steps
    outside: float  # share of the anomalous test steps with a value outside [-1, 1]

    @property
    def ratio(self) -> float:
        """anomalous / normal mean error (inf when the normal steps are reconstructed exactly)."""
        return self.anomalous / self.normal if self.normal > 0 else math.inf


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class LabResult:
    """Everything the lab computed for one model, data set and choice."""

    sets: LabSets
    normal_fit: ErrorModel  # N(mu, Sigma) of the vN1 errors
    val_scores: np.ndarray  # (n_val, T) a(i)
    test_scores: np.ndarray  # (n_test, T) a(i)
    test_recon: np.ndarray  # (n_test, T, F) x'
    beta: float
    unit: str
    best: Metrics  # the F_beta-best tau on validation, and its counts there
    test_curve: PRCurve  # every threshold's outcome on the test set
    errors: ErrorRatio

    def on_test(self, tau: float) -> Metrics:
        """Counts, precision, recall and F_beta of threshold `tau` on the test set."""
        scores, labels = unit_scores(self.test_scores, self.sets.test_mask, self.unit)
        return evaluate(scores, labels, tau, self.beta)

    def tau_range(self) -> tuple[float, float]:
        """The lowest and highest score of validation and test, for a threshold slider."""
        every = np.concatenate([self.val_scores.reshape(-1), self.test_scores.reshape(-1)])
        return float(every.min()), float(every.max())


def analyse(model: Autoencoder, sets: LabSets, beta: float = DEFAULT_BETA,
            unit: str = "step") -> LabResult:
    """EncDec-AD on the lab's sets: fit N(mu, Sigma) on vN1's errors, score every step, choose
    the F_beta-best tau on validation, and measure every threshold on the test set."""
    fit_errors = np.abs(sets.fit - reconstructions(model, sets.fit))
    normal_fit = fit_normal(fit_errors)
    val_errors = np.abs(sets.val - reconstructions(model, sets.val))
    test_recon = reconstructions(model, sets.test)
    test_errors = np.abs(sets.test - test_recon)
    val_scores = anomaly_scores(val_errors, normal_fit)
    test_scores = anomaly_scores(test_errors, normal_fit)
    best = best_threshold(*unit_scores(val_scores, sets.val_mask, unit), beta)
    curve = pr_curve(*unit_scores(test_scores, sets.test_mask, unit), beta)
    return LabResult(sets=sets, normal_fit=normal_fit, val_scores=val_scores,
                     test_scores=test_scores, test_recon=test_recon, beta=float(beta),
                     unit=unit, best=best, test_curve=curve,
                     errors=error_ratio(sets.test, test_errors, test_scores, sets.test_mask))


def error_ratio(values: np.ndarray, errors: np.ndarray, scores: np.ndarray,
                mask: np.ndarray) -> ErrorRatio:
    """Mean error and score of the anomalous and of the normal steps of series `values`
    (n, T, F), with their errors (n, T, F), scores (n, T) and anomaly mask (n, T)."""
    if not mask.any() or mask.all():
        raise AnomalyError("comparing anomalous and normal steps needs both kinds of steps")
    per_step = errors.mean(axis=2)  # (n, T): mean over features
    outside = (np.abs(values) > 1).any(axis=2)  # (n, T)
    return ErrorRatio(anomalous=float(per_step[mask].mean()),
                      normal=float(per_step[~mask].mean()),
                      score_anomalous=float(scores[mask].mean()),
                      score_normal=float(scores[~mask].mean()),
                      outside=float(outside[mask].mean()))


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class Timeline:
    """One stretch of the test data to draw: values, reconstruction, scores and truth."""

    x: np.ndarray  # (L,) step numbers, or datetime64 timestamps for a bundled file
    values: np.ndarray  # (L, F) the test input
    clean: np.ndarray  # (L, F) before injection (= values for labelled data)
    recon: np.ndarray  # (L, F) x'
    scores: np.ndarray  # (L,) a(i)
    mask: np.ndarray  # (L,) bool: the anomaly's steps
    title: str


def timeline(result: LabResult, series: int = 0) -> Timeline:
    """The whole labelled file (its windows end to end), or test series number `series`."""
    sets = result.sets
    n, t, f = sets.test.shape
    if sets.test_rows is not None:
        stamps = _timestamps(sets.source)[sets.test_rows.reshape(-1)]
        return Timeline(x=stamps, values=sets.test.reshape(n * t, f),
                        clean=sets.test_clean.reshape(n * t, f),
                        recon=result.test_recon.reshape(n * t, f),
                        scores=result.test_scores.reshape(-1),
                        mask=sets.test_mask.reshape(-1),
                        title=f"{BUNDLED[sets.source].test_file}: {n} windows of {t} steps "
                              "end to end (z-scored)")
    if not 0 <= series < n:
        raise AnomalyError(f"series must be a test series number from 0 to {n - 1}, "
                           f"got {series!r}")
    kind = "with the injected anomaly" if sets.test_mask[series].any() else "normal"
    return Timeline(x=np.arange(1, t + 1), values=sets.test[series], clean=sets.test_clean[series],
                    recon=result.test_recon[series], scores=result.test_scores[series],
                    mask=sets.test_mask[series], title=f"test series {series + 1} of {n} ({kind})")


def _timestamps(name: str) -> np.ndarray:
    """The timestamps of a bundled set's labelled file, one per row."""
    return read_series(BUNDLED[name].test_file).timestamps


COPY_CLOSE = 1.5  # anomalous / normal error below this: reconstructed about as well


def copy_verdict(errors: ErrorRatio) -> str:
    """What the run's numbers say about a model that can copy its input (the embedding design
    whose decoder reads every output); its quantiser puts values outside [-1, 1] into its end
    bins, so those are the steps it cannot give back."""
    ratio = errors.ratio
    if ratio < COPY_CLOSE:
        return (f"In this run it reconstructs the anomalous steps about as well as the normal "
                f"ones (their mean error is {ratio:.2f} times the normal steps'), so their "
                "scores hardly rise: a model that copies gives back whatever it is shown, and "
                "no τ flags the anomaly without flagging normal steps too.")
    if errors.outside > 0:
        return (f"In this run the anomalous steps' mean error is {ratio:.2f} times the normal "
                f"steps', but {errors.outside:.0%} of them lie outside [−1, 1], where the "
                "quantiser puts every value into its first or last bin: those are what it "
                "cannot give back, whatever it learned. An anomaly inside [−1, 1] (a frequency "
                "change or a flat-line dropout on the sine data) shows the copying.")
    return (f"In this run the anomalous steps' mean error is still {ratio:.2f} times the normal "
            "steps', so this model has not copied this anomaly away: the more exactly it "
            "copies, the closer that ratio gets to 1.")
