"""The threshold tau, and how well it separates anomalous from normal series.

The unit of detection is the **series** (a window of T steps), as in the paper's evaluation:
a series is flagged when any of its steps scores above tau (max_i a(i) > tau, strictly, as the
paper writes a(i) > tau), and it is anomalous when any of its steps is labelled anomalous.
"Anomalous" is the positive class. `series_scores` and `series_labels` reduce per-step scores
and masks to one value per series; every count, rate and curve here is over series.
`flag_steps` shows which steps of a series cross tau (for a plot), not a separate count.

F_beta = (1 + beta^2) P R / (beta^2 P + R). beta < 1 favours precision, as the paper asks
(docs/sources.md); DEFAULT_BETA = 0.1 is the value the paper is reported to use for most of its
data sets, and the default of public EncDec-AD implementations. With nothing flagged the
precision is taken as 0 (no true positive), and F_beta is 0 whenever there is no true positive.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .scoring import AnomalyError

DEFAULT_BETA = 0.1  # precision-favouring, as the paper's beta < 1


@dataclass(frozen=True)
class Metrics:
    """Confusion counts, precision, recall and F_beta of one threshold (per series)."""

    tau: float
    beta: float
    tp: int  # anomalous series flagged
    fp: int  # normal series flagged
    fn: int  # anomalous series missed
    tn: int  # normal series not flagged
    precision: float  # tp / (tp + fp); 0 when nothing is flagged
    recall: float  # tp / (tp + fn)
    f_beta: float


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class PRCurve:
    """Every distinct outcome of a threshold, by ascending tau (recall falls along it)."""

    beta: float
    thresholds: np.ndarray  # (k,) ascending; the first flags every series, the last none
    tp: np.ndarray  # (k,) int
    fp: np.ndarray  # (k,) int
    fn: np.ndarray  # (k,) int
    tn: np.ndarray  # (k,) int
    precision: np.ndarray  # (k,)
    recall: np.ndarray  # (k,)
    f_beta: np.ndarray  # (k,)


def series_scores(step_scores: object) -> np.ndarray:
    """One score per series: its highest step score, (N, T) -> (N,)."""
    scores = np.asarray(step_scores, dtype=np.float64)
    if scores.ndim != 2 or 0 in scores.shape:
        raise AnomalyError(f"step scores must be a non-empty (series, time steps) array, "
                           f"got shape {scores.shape}")
    return scores.max(axis=1)


def series_labels(step_mask: object) -> np.ndarray:
    """One label per series: anomalous when any step is, (N, T) bool -> (N,) bool."""
    mask = np.asarray(step_mask)
    if mask.ndim != 2 or mask.dtype != bool:
        raise AnomalyError(f"an anomaly mask must be a (series, time steps) bool array, "
                           f"got {mask.dtype} of shape {mask.shape}")
    return mask.any(axis=1)


def flag_steps(step_scores: object, tau: float) -> np.ndarray:
    """Which steps score above tau: (N, T) bool."""
    return np.asarray(step_scores, dtype=np.float64) > tau


def flag_series(step_scores: object, tau: float) -> np.ndarray:
    """Which series are flagged: any step above tau, (N,) bool."""
    return series_scores(step_scores) > tau


def f_beta(precision: float, recall: float, beta: float = DEFAULT_BETA) -> float:
    """(1 + beta^2) P R / (beta^2 P + R), and 0 when P and R are both 0."""
    _check_beta(beta)
    denominator = beta**2 * precision + recall
    return 0.0 if denominator == 0 else (1 + beta**2) * precision * recall / denominator


def evaluate(scores: object, labels: object, tau: float, beta: float = DEFAULT_BETA) -> Metrics:
    """The counts and rates of threshold tau on series scores (N,) against labels (N,) bool."""
    values, truth = _check_pair(scores, labels)
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or math.isnan(tau):
        raise AnomalyError(f"tau must be a number, got {tau!r}")
    flagged = values > tau
    tp = int(np.sum(flagged & truth))
    fp = int(np.sum(flagged & ~truth))
    fn = int(np.sum(~flagged & truth))
    tn = int(np.sum(~flagged & ~truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return Metrics(tau=float(tau), beta=float(beta), tp=tp, fp=fp, fn=fn, tn=tn,
                   precision=precision, recall=recall, f_beta=f_beta(precision, recall, beta))


def pr_curve(scores: object, labels: object, beta: float = DEFAULT_BETA) -> PRCurve:
    """Counts, precision, recall and F_beta at every threshold that changes the outcome.

    The thresholds are the largest number below the lowest score (every series flagged) and
    each distinct score (flagging the series strictly above it).
    """
    values, truth = _check_pair(scores, labels)
    _check_beta(beta)
    distinct = np.unique(values)  # ascending
    thresholds = np.concatenate([[np.nextafter(distinct[0], -np.inf)], distinct])
    positives = np.sort(values[truth])
    negatives = np.sort(values[~truth])
    tp = len(positives) - np.searchsorted(positives, thresholds, side="right")  # scores > tau
    fp = len(negatives) - np.searchsorted(negatives, thresholds, side="right")
    fn, tn = len(positives) - tp, len(negatives) - fp
    flagged = tp + fp
    precision = np.divide(tp, flagged, out=np.zeros(len(thresholds)), where=flagged > 0)
    recall = tp / len(positives) if len(positives) else np.zeros(len(thresholds))
    score = np.array([f_beta(p, r, beta) for p, r in zip(precision, recall, strict=True)])
    return PRCurve(beta=float(beta), thresholds=thresholds, tp=tp, fp=fp, fn=fn, tn=tn,
                   precision=precision, recall=recall, f_beta=score)


def best_threshold(scores: object, labels: object, beta: float = DEFAULT_BETA) -> Metrics:
    """The tau that maximises F_beta on a validation set holding normal and anomalous series.

    Among equally good thresholds the highest is chosen (the fewest alarms).
    """
    _, truth = _check_pair(scores, labels)
    if truth.all() or not truth.any():
        raise AnomalyError("choosing tau needs validation series of both kinds, normal and "
                           f"anomalous; got {int(truth.sum())} anomalous of {truth.size}")
    curve = pr_curve(scores, labels, beta)
    best = int(np.flatnonzero(curve.f_beta == curve.f_beta.max())[-1])  # the highest tau
    return evaluate(scores, labels, float(curve.thresholds[best]), beta)


def _check_pair(scores: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N,) finite floats and labels (N,) bools of the same length, or AnomalyError."""
    values = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(labels)
    if values.ndim != 1 or values.size == 0:
        raise AnomalyError(f"scores must be a non-empty 1-D array (one per series), "
                           f"got shape {values.shape}; use series_scores for (N, T) step scores")
    if truth.dtype != bool or truth.shape != values.shape:
        raise AnomalyError(f"labels must be a bool array of the scores' shape {values.shape}, "
                           f"got {truth.dtype} of shape {truth.shape}")
    if not np.isfinite(values).all():
        raise AnomalyError("scores hold NaN or infinite values; every score must be finite")
    return values, truth


def _check_beta(beta: object) -> None:
    """Raise AnomalyError unless beta is a finite number > 0."""
    if (isinstance(beta, bool) or not isinstance(beta, numbers.Real)
            or not math.isfinite(beta) or beta <= 0):
        raise AnomalyError(f"beta must be a finite number > 0 (the paper uses {DEFAULT_BETA}), "
                           f"got {beta!r}")
