"""EncDec-AD anomaly detection (Malhotra et al. 2016, arXiv 1607.00148, Section 2.2).

- `scoring`: the reconstructions x' (`reconstructions`, the one function that runs a model),
  per-step error vectors e(i) = |x(i) - x'(i)| (`step_errors`), N(mu, Sigma) fitted to normal
  errors (`fit_normal`) and the Mahalanobis score a(i) = (e(i) - mu)^T Sigma^-1 (e(i) - mu)
  (`anomaly_scores`)
- `threshold`: by default the unit of detection is the series (flagged when any step scores
  above tau; the lab can count steps instead); counts, precision, recall, F_beta at any tau
  (`evaluate`), the tau maximising F_beta on validation series (`best_threshold`), the
  precision-recall curve (`pr_curve`)
- `inject`: anomalies of five kinds put into a series, with their window as a mask
- `lab`: the whole procedure for one trained model and data source (the Anomalies page's core):
  the fit, validation and test sets, the scores, the best tau, the test metrics at any tau
- `figures`: Plotly figures of the lab's results (imported by the page, not here)

NumPy only, apart from `reconstructions` and `step_errors` (torch) and `figures` (Plotly). Bad
input raises `AnomalyError` (a ValueError).
"""

from __future__ import annotations

from .inject import KINDS, SIZE_MEANS, Injected, inject, inject_batch
from .scoring import (
    AnomalyError,
    ErrorModel,
    anomaly_scores,
    fit_normal,
    reconstructions,
    step_errors,
)
from .threshold import (
    DEFAULT_BETA,
    Metrics,
    PRCurve,
    best_threshold,
    evaluate,
    f_beta,
    flag_series,
    flag_steps,
    pr_curve,
    series_labels,
    series_scores,
)

__all__ = [
    "DEFAULT_BETA",
    "KINDS",
    "SIZE_MEANS",
    "AnomalyError",
    "ErrorModel",
    "Injected",
    "Metrics",
    "PRCurve",
    "anomaly_scores",
    "best_threshold",
    "evaluate",
    "f_beta",
    "fit_normal",
    "flag_series",
    "flag_steps",
    "inject",
    "inject_batch",
    "pr_curve",
    "reconstructions",
    "series_labels",
    "series_scores",
    "step_errors",
]
