"""EncDec-AD's anomaly score (Malhotra et al. 2016, arXiv 1607.00148, Section 2.2).

    e(i) = |x(i) - x'(i)|                      the error vector of step i (F values)
    N(mu, Sigma)                                fitted to the e(i) of normal validation series
    a(i) = (e(i) - mu)^T Sigma^-1 (e(i) - mu)  the anomaly score of step i

mu and Sigma are the maximum-likelihood estimates (Sigma divides by the number of error
vectors, not that number minus one). NumPy only; `reconstructions` (and `step_errors`, built on
it) run a model.

A singular or near-singular Sigma (a feature whose error never varies, two features whose errors
move together, or an autoencoder that copies its input exactly so every error is 0) has no
inverse. Then, and only then, a small ridge r*I is added to Sigma, with r = RIDGE_SHARE times the
mean error variance (at least MIN_RIDGE). A pseudo-inverse would instead ignore a direction in
which the normal errors never vary, scoring 0 for any error there however large; the ridge
scores such an error very highly, as it should. F = 1 is the same formula with a 1 x 1 Sigma:
a(i) = (e(i) - mu)^2 / var.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported only where a model runs
    from ..archs import Autoencoder

MAX_CONDITION = 1e10  # Sigma's condition number above which it counts as singular
RIDGE_SHARE = 1e-6  # the ridge, as a share of the mean error variance
MIN_RIDGE = 1e-12  # the smallest ridge: all errors equal (variance 0) still gives a finite score
ERROR_BATCH = 256  # series per forward pass in step_errors (bounds the memory one call takes)


class AnomalyError(ValueError):
    """Bad input to the anomaly scoring; the message says what is wrong and what is allowed."""


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == has no single answer
class ErrorModel:
    """N(mu, Sigma) fitted to normal error vectors, and the inverse the scores use."""

    mean: np.ndarray  # (F,) mu
    cov: np.ndarray  # (F, F) Sigma, the maximum-likelihood estimate (before any ridge)
    inverse: np.ndarray  # (F, F) the inverse used: Sigma^-1, or (Sigma + ridge * I)^-1
    ridge: float  # 0.0 when Sigma was invertible as it is
    n_vectors: int  # error vectors the fit used (normal series x time steps)

    @property
    def n_features(self) -> int:
        """F: values per error vector."""
        return int(self.mean.shape[0])


def as_errors(errors: object, name: str = "errors") -> np.ndarray:
    """Return errors as a finite float64 (N, T, F) array, or raise AnomalyError."""
    array = np.asarray(errors, dtype=np.float64)
    if array.ndim != 3 or 0 in array.shape:
        raise AnomalyError(f"{name} must be a non-empty (series, time steps, features) array, "
                           f"got shape {array.shape}")
    if not np.isfinite(array).all():
        raise AnomalyError(f"{name} hold NaN or infinite values; every error must be finite")
    return array


def fit_normal(errors: object) -> ErrorModel:
    """Fit N(mu, Sigma) by maximum likelihood to the error vectors of normal series (N, T, F)."""
    vectors = as_errors(errors).reshape(-1, np.shape(errors)[-1])  # (N*T, F)
    if len(vectors) < 2:
        raise AnomalyError("fitting N(mu, Sigma) needs at least 2 error vectors (time steps), "
                           f"got {len(vectors)}")
    mean = vectors.mean(axis=0)  # (F,)
    centred = vectors - mean
    cov = centred.T @ centred / len(vectors)  # (F, F), maximum likelihood: divide by n
    ridge = _ridge(cov)
    inverse = np.linalg.inv(cov + ridge * np.eye(len(mean)))
    inverse = (inverse + inverse.T) / 2  # exactly symmetric, so every score is real and >= 0
    return ErrorModel(mean=mean, cov=cov, inverse=inverse, ridge=ridge,
                      n_vectors=len(vectors))


def _ridge(cov: np.ndarray) -> float:
    """0.0 when cov is safely invertible, else the ridge that makes it so."""
    if np.linalg.cond(cov) <= MAX_CONDITION:
        return 0.0
    return max(RIDGE_SHARE * float(np.trace(cov)) / len(cov), MIN_RIDGE)


def anomaly_scores(errors: object, fit: ErrorModel) -> np.ndarray:
    """a(i) = (e(i) - mu)^T Sigma^-1 (e(i) - mu) for every step: (N, T, F) -> (N, T)."""
    array = as_errors(errors)
    if array.shape[-1] != fit.n_features:
        raise AnomalyError(f"the errors have {array.shape[-1]} features per step but the normal "
                           f"fit has {fit.n_features}; score errors of the same model and data")
    centred = array - fit.mean  # (N, T, F)
    scores = np.einsum("ntf,fg,ntg->nt", centred, fit.inverse, centred)  # (N, T)
    return np.maximum(scores, 0.0)  # rounding can leave -1e-17 where the score is 0


def reconstructions(model: Autoencoder, x: object) -> np.ndarray:
    """x' for every series, as float64 (N, T, F), with the model in eval mode.

    `model` is any `lstmae_demo.archs.Autoencoder`; its `reconstruct` gives x'. The model's
    train/eval mode is restored afterwards. The one function here that runs a model.
    """
    import torch  # only here: the rest of the scoring is NumPy

    values = np.asarray(x, dtype=np.float32)
    spec = model.spec
    if values.ndim != 3 or values.shape[1:] != (spec.seq_len, spec.n_features):
        raise AnomalyError(f"the model takes (series, {spec.seq_len}, {spec.n_features}) arrays "
                           f"(seq_len, n_features), got shape {values.shape}")
    if not np.isfinite(values).all():
        raise AnomalyError("the series hold NaN or infinite values; every value must be finite")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            parts = [model.reconstruct(torch.from_numpy(values[i:i + ERROR_BATCH])).numpy()
                     for i in range(0, len(values), ERROR_BATCH)]
    finally:
        model.train(was_training)
    rebuilt = np.concatenate(parts) if parts else np.empty_like(values)
    return rebuilt.astype(np.float64)


def step_errors(model: Autoencoder, x: object) -> np.ndarray:
    """e(i) = |x(i) - x'(i)| of every step, as float64 (N, T, F) (x' from `reconstructions`)."""
    rebuilt = reconstructions(model, x)
    return np.abs(np.asarray(x, dtype=np.float32).astype(np.float64) - rebuilt)
