"""Tests for lstmae_demo.anomaly: the scores held to the paper's formulas computed directly, the
threshold search to a brute force over every threshold, and each injected anomaly to what it says
it does, inside its window and nowhere else."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmae_demo.anomaly import (
    DEFAULT_BETA,
    KINDS,
    AnomalyError,
    anomaly_scores,
    best_threshold,
    evaluate,
    f_beta,
    fit_normal,
    flag_series,
    flag_steps,
    inject,
    inject_batch,
    pr_curve,
    series_labels,
    series_scores,
    step_errors,
)
from lstmae_demo.anomaly.scoring import MIN_RIDGE
from lstmae_demo.archs import build_model
from lstmae_demo.settings import ARCHS
from lstmae_demo.spec import ModelSpec


def correlated_errors(seed: int, shape: tuple[int, int, int]) -> np.ndarray:
    """Positive error vectors whose features are correlated (a full, invertible Sigma)."""
    rng = np.random.default_rng(seed)
    n_features = shape[-1]
    mixing = rng.normal(size=(n_features, n_features)) + 2 * np.eye(n_features)
    return np.abs(rng.normal(size=shape) @ mixing.T) + 0.1


def direct_fit(errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mu and the maximum-likelihood Sigma by explicit sums over every error vector."""
    vectors = [errors[i, t] for i in range(errors.shape[0]) for t in range(errors.shape[1])]
    mu = sum(vectors) / len(vectors)
    sigma = sum(np.outer(v - mu, v - mu) for v in vectors) / len(vectors)
    return mu, sigma


# --- the score -------------------------------------------------------------------------------


@pytest.mark.parametrize("n_features", [2, 3, 5])
def test_fit_is_the_maximum_likelihood_normal(n_features):
    errors = correlated_errors(1, (7, 11, n_features))
    fit = fit_normal(errors)
    mu, sigma = direct_fit(errors)
    np.testing.assert_allclose(fit.mean, mu, rtol=1e-12)
    np.testing.assert_allclose(fit.cov, sigma, rtol=1e-10)
    assert fit.ridge == 0.0
    assert fit.n_vectors == 7 * 11


@pytest.mark.parametrize("n_features", [2, 3, 5])
def test_scores_are_the_mahalanobis_distance_with_an_explicit_inverse(n_features):
    normal = correlated_errors(2, (9, 6, n_features))
    test = correlated_errors(3, (4, 6, n_features)) * 1.5
    mu, sigma = direct_fit(normal)
    inverse = np.linalg.inv(sigma)
    expected = np.array([[(test[i, t] - mu) @ inverse @ (test[i, t] - mu) for t in range(6)]
                         for i in range(4)])
    scores = anomaly_scores(test, fit_normal(normal))
    assert scores.shape == (4, 6)
    np.testing.assert_allclose(scores, expected, rtol=1e-9)


def test_one_feature_scores_are_the_squared_deviation_over_the_variance():
    normal = np.random.default_rng(4).random((8, 10, 1))
    test = np.random.default_rng(5).random((3, 10, 1)) * 2
    values = normal.ravel()
    mean = values.sum() / values.size
    variance = ((values - mean) ** 2).sum() / values.size
    scores = anomaly_scores(test, fit_normal(normal))
    np.testing.assert_allclose(scores, (test[..., 0] - mean) ** 2 / variance, rtol=1e-10)


def test_a_singular_sigma_gets_a_ridge_that_still_scores_the_dead_direction_high():
    rng = np.random.default_rng(6)
    first = rng.random((10, 20, 1))
    normal = np.concatenate([first, first], axis=-1)  # feature 1 always equals feature 0
    fit = fit_normal(normal)
    assert np.linalg.matrix_rank(fit.cov) == 1
    assert fit.ridge > 0
    np.testing.assert_allclose(fit.inverse, np.linalg.inv(fit.cov + fit.ridge * np.eye(2)),
                               rtol=1e-8)
    step = 0.2
    along = fit.mean + step  # both features move together: the direction normal errors take
    across = fit.mean + np.array([step, -step])  # the features disagree: never seen
    scores = anomaly_scores(np.array([[along, across]]), fit)[0]
    assert np.isfinite(scores).all()
    assert scores[1] > 1e3 * scores[0]


def test_errors_that_never_vary_get_the_floor_ridge():
    """A model that copies its input has error 0 everywhere: Sigma is 0, and any error is huge."""
    fit = fit_normal(np.zeros((5, 8, 1)))
    assert fit.ridge == MIN_RIDGE
    scores = anomaly_scores(np.array([[[0.0], [1e-3]]]), fit)
    assert scores[0, 0] == 0.0
    np.testing.assert_allclose(scores[0, 1], 1e-6 / MIN_RIDGE)


@pytest.mark.parametrize(("errors", "message"), [
    (np.zeros((1, 1, 2)), "at least 2 error vectors"),
    (np.full((2, 3, 1), np.nan), "NaN or infinite"),
    (np.zeros((4, 3)), "(series, time steps, features)"),
    (np.zeros((0, 3, 1)), "non-empty"),
])
def test_bad_errors_are_refused_with_a_message(errors, message):
    with pytest.raises(AnomalyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_normal(errors)


def test_scores_need_as_many_features_as_the_fit():
    fit = fit_normal(correlated_errors(7, (3, 5, 2)))
    with pytest.raises(AnomalyError, match="3 features per step but the normal fit has 2"):
        anomaly_scores(np.ones((1, 5, 3)), fit)


def spec_for(arch: str) -> ModelSpec:
    """A small spec of `arch`: T = 6, F = 2 where the architecture allows it."""
    n_features = 1 if arch == "embedding" else 2
    return ModelSpec(arch=arch, seq_len=6, n_features=n_features, units=5)


@pytest.mark.parametrize("arch", ARCHS)
def test_step_errors_are_the_absolute_reconstruction_error_in_eval_mode(arch):
    spec = spec_for(arch)
    model = build_model(spec, seed=3)
    x = np.random.default_rng(8).uniform(-1, 1, (300, spec.seq_len, spec.n_features))
    x = x.astype(np.float32)
    model.train()
    errors = step_errors(model, x)  # 300 > one batch of 256: the batches are joined in order
    assert model.training, "the caller's train mode must be restored"
    model.eval()
    with torch.no_grad():
        rebuilt = model.reconstruct(torch.from_numpy(x)).numpy()
    assert errors.shape == x.shape
    np.testing.assert_allclose(errors, np.abs(x.astype(np.float64) - rebuilt), atol=1e-6)


def test_step_errors_use_the_free_running_decoder_not_teacher_forcing():
    spec = ModelSpec(arch="encdec_ad", seq_len=6, n_features=1, units=4, decoder="conditional")
    model = build_model(spec, seed=1)
    x = np.random.default_rng(9).uniform(-1, 1, (4, 6, 1)).astype(np.float32)
    model.train()
    with torch.no_grad():
        forced = model.reconstruct(torch.from_numpy(x)).numpy()
    errors = step_errors(model, x)
    assert not np.allclose(errors, np.abs(x - forced), atol=1e-6)


def test_step_errors_refuse_series_of_another_shape():
    model = build_model(spec_for("repeatvector"))
    with pytest.raises(AnomalyError, match=r"takes \(series, 6, 2\).*got shape \(3, 7, 2\)"):
        step_errors(model, np.zeros((3, 7, 2), dtype=np.float32))


# --- the threshold ---------------------------------------------------------------------------


def brute_force_counts(scores, labels, tau):
    """tp, fp, fn, tn of 'flagged when score > tau' by a loop over the series."""
    tp = fp = fn = tn = 0
    for score, anomalous in zip(scores, labels, strict=True):
        flagged = score > tau
        tp += flagged and anomalous
        fp += flagged and not anomalous
        fn += (not flagged) and anomalous
        tn += (not flagged) and not anomalous
    return tp, fp, fn, tn


def paper_f_beta(tp, fp, fn, beta):
    """F_beta = (1 + beta^2) P R / (beta^2 P + R) from the counts (0 without a true positive)."""
    if tp == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def every_threshold(scores):
    """Every tau that could matter and more: each score, the midpoints, and beyond both ends."""
    distinct = np.unique(scores)
    middles = (distinct[1:] + distinct[:-1]) / 2
    return np.concatenate([[distinct[0] - 1.0], distinct, middles, [distinct[-1] + 1.0]])


@pytest.mark.parametrize(("seed", "beta"), list(itertools.product(range(6), [0.1, 0.5, 1.0, 2.0])))
def test_best_threshold_matches_a_brute_force_over_every_tau(seed, beta):
    rng = np.random.default_rng(seed)
    labels = rng.random(40) < 0.3
    labels[:2] = [True, False]  # both kinds present
    scores = np.round(rng.normal(size=40) + 1.5 * labels, 1)  # rounding makes ties
    best = best_threshold(scores, labels, beta)
    found = {}
    for tau in every_threshold(scores):
        tp, fp, fn, _ = brute_force_counts(scores, labels, tau)
        found[tau] = paper_f_beta(tp, fp, fn, beta)
    top = max(found.values())
    assert best.f_beta == pytest.approx(top, rel=1e-12)
    # Ties go to the highest tau (the fewest alarms): the same outcome as the highest best tau.
    highest = max(tau for tau, value in found.items() if value >= top - 1e-12)
    assert brute_force_counts(scores, labels, best.tau) == brute_force_counts(
        scores, labels, highest)
    assert (best.tp, best.fp, best.fn, best.tn) == brute_force_counts(scores, labels, best.tau)


@pytest.mark.parametrize("tau", [-5.0, 0.0, 0.3, 0.55, 1.0, 9.0])
def test_evaluate_counts_and_rates_at_any_tau(tau):
    rng = np.random.default_rng(11)
    labels = rng.random(30) < 0.4
    scores = rng.random(30) + 0.3 * labels
    metrics = evaluate(scores, labels, tau, beta=0.5)
    tp, fp, fn, tn = brute_force_counts(scores, labels, tau)
    assert (metrics.tp, metrics.fp, metrics.fn, metrics.tn) == (tp, fp, fn, tn)
    assert metrics.precision == (tp / (tp + fp) if tp + fp else 0.0)
    assert metrics.recall == tp / (tp + fn)
    assert metrics.f_beta == pytest.approx(paper_f_beta(tp, fp, fn, 0.5), rel=1e-12)


def test_the_pr_curve_holds_every_distinct_outcome_in_order():
    rng = np.random.default_rng(12)
    labels = rng.random(25) < 0.5
    scores = np.round(rng.random(25) + 0.4 * labels, 1)
    curve = pr_curve(scores, labels, beta=DEFAULT_BETA)
    assert np.all(np.diff(curve.thresholds) > 0)
    assert len(curve.thresholds) == len(np.unique(scores)) + 1
    assert curve.tp[0] + curve.fp[0] == 25  # the first threshold flags every series
    assert curve.tp[-1] + curve.fp[-1] == 0  # the last flags none
    assert np.all(np.diff(curve.recall) <= 0)
    for k, tau in enumerate(curve.thresholds):
        metrics = evaluate(scores, labels, float(tau), DEFAULT_BETA)
        row = (curve.tp[k], curve.fp[k], curve.fn[k], curve.tn[k])
        assert row == (metrics.tp, metrics.fp, metrics.fn, metrics.tn)
        assert curve.precision[k] == pytest.approx(metrics.precision)
        assert curve.recall[k] == pytest.approx(metrics.recall)
        assert curve.f_beta[k] == pytest.approx(metrics.f_beta)


def test_f_beta_is_the_formula_and_beta_one_is_the_harmonic_mean():
    assert f_beta(0.8, 0.4, 1.0) == pytest.approx(2 * 0.8 * 0.4 / (0.8 + 0.4))
    assert f_beta(0.8, 0.4, 0.1) == pytest.approx(1.01 * 0.32 / (0.01 * 0.8 + 0.4))
    assert f_beta(0.0, 0.0) == 0.0
    # beta < 1 favours precision: swapping P and R changes F_beta in precision's favour.
    assert f_beta(0.9, 0.3, DEFAULT_BETA) > f_beta(0.3, 0.9, DEFAULT_BETA)


def test_a_small_beta_prefers_the_threshold_with_fewer_false_alarms():
    # Three anomalous series score 5, 5 and 1; the normal ones 2 and 0.
    scores = np.array([5.0, 5.0, 1.0, 2.0, 0.0])
    labels = np.array([True, True, True, False, False])
    assert best_threshold(scores, labels, beta=0.1).tau == 2.0  # P = 1, R = 2/3
    assert best_threshold(scores, labels, beta=10.0).tau < 1.0  # R = 1 at the cost of a false alarm


def test_series_are_the_unit_of_detection():
    step_scores = np.array([[0.1, 3.0, 0.2], [0.5, 0.4, 0.3]])
    mask = np.array([[False, True, False], [False, False, False]])
    np.testing.assert_array_equal(series_scores(step_scores), [3.0, 0.5])
    np.testing.assert_array_equal(series_labels(mask), [True, False])
    np.testing.assert_array_equal(flag_series(step_scores, 0.45), [True, True])
    np.testing.assert_array_equal(flag_steps(step_scores, 0.45),
                                  [[False, True, False], [True, False, False]])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: best_threshold([1.0, 2.0], np.array([True, True])), "both kinds"),
    (lambda: best_threshold([1.0, 2.0], np.array([False, False])), "both kinds"),
    (lambda: evaluate([1.0, 2.0], [1, 0], 0.5), "labels must be a bool array"),
    (lambda: evaluate([[1.0, 2.0]], np.array([[True, False]]), 0.5), "use series_scores"),
    (lambda: evaluate([1.0, np.inf], np.array([True, False]), 0.5), "NaN or infinite"),
    (lambda: evaluate([1.0, 2.0], np.array([True, False]), float("nan")), "tau must be"),
    (lambda: pr_curve([1.0, 2.0], np.array([True, False]), beta=0), "beta must be"),
    (lambda: series_labels(np.zeros((2, 3))), "bool array"),
])
def test_bad_threshold_input_is_refused_with_a_message(call, message):
    with pytest.raises(AnomalyError, match=message):
        call()


# --- injected anomalies ----------------------------------------------------------------------


def sine(n_steps: int, cycles: float, n_features: int = 1) -> np.ndarray:
    """(T, F) sines with `cycles` cycles over the series, each feature at another phase."""
    t = np.arange(n_steps)[:, None]
    return np.sin(2 * np.pi * cycles * t / n_steps + np.arange(n_features)[None, :])


def assert_only_window_changed(before, after, mask):
    """Outside the mask the series is bit for bit the same; inside every step changed."""
    np.testing.assert_array_equal(after[~mask], before[~mask])
    assert np.all(after[mask] != before[mask])


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_labels_exactly_its_window(kind):
    series = sine(60, 3, n_features=2)
    size = {"frequency_change": 3.0, "flat_line": 0.0}.get(kind, 0.7)
    done = inject(series, kind, size, start=17, width=9, seed=4)
    assert done.series.shape == series.shape
    np.testing.assert_array_equal(np.flatnonzero(done.mask), np.arange(17, 26))
    np.testing.assert_array_equal(done.series[~done.mask], series[~done.mask])
    assert not np.array_equal(done.series[done.mask], series[done.mask])


def test_a_spike_is_a_triangle_of_the_given_height():
    series = sine(40, 2)[:, 0]
    done = inject(series, "spike", 1.5, start=10, width=5)
    added = done.series - series
    np.testing.assert_allclose(added[10:15], 1.5 * np.array([1, 2, 3, 2, 1]) / 3)
    assert_only_window_changed(series, done.series, done.mask)
    one = inject(series, "spike", -2.0, start=7, width=1)
    np.testing.assert_allclose(one.series - series, np.where(np.arange(40) == 7, -2.0, 0.0))


def test_a_level_shift_adds_its_size_to_every_step_of_the_window():
    series = sine(50, 2, n_features=3)
    done = inject(series, "level_shift", -0.4, start=30, width=20)
    np.testing.assert_allclose((done.series - series)[30:], -0.4)
    assert_only_window_changed(series, done.series, np.repeat(done.mask[:, None], 3, axis=1))


def test_a_frequency_change_plays_the_window_faster_and_multiplies_its_frequency():
    series = sine(128, 8)[:, 0]  # the window 32 .. 95 holds exactly 4 cycles
    done = inject(series, "frequency_change", 2.0, start=32, width=64)
    window = series[32:96]
    np.testing.assert_allclose(done.series[32:96], [window[(2 * k) % 64] for k in range(64)])
    spectrum = np.abs(np.fft.rfft(done.series[32:96]))
    assert int(np.argmax(spectrum)) == 8  # 4 cycles in the window became 8
    np.testing.assert_array_equal(done.series[~done.mask], series[~done.mask])


def test_a_noise_burst_has_the_given_spread_and_is_seeded():
    series = np.zeros(4000)
    done = inject(series, "noise_burst", 0.3, start=500, width=3000, seed=7)
    assert_only_window_changed(series, done.series, done.mask)
    assert np.std(done.series[done.mask]) == pytest.approx(0.3, rel=0.05)
    again = inject(series, "noise_burst", 0.3, start=500, width=3000, seed=7)
    other = inject(series, "noise_burst", 0.3, start=500, width=3000, seed=8)
    np.testing.assert_array_equal(done.series, again.series)
    assert not np.array_equal(done.series, other.series)


def test_a_flat_line_holds_the_value_before_the_window():
    series = sine(40, 3)[:, 0]
    done = inject(series, "flat_line", 0.0, start=12, width=8)
    np.testing.assert_array_equal(done.series[12:20], np.full(8, series[11]))
    np.testing.assert_array_equal(done.series[~done.mask], series[~done.mask])
    first = inject(series, "flat_line", 0.0, start=0, width=4)
    np.testing.assert_array_equal(first.series[:4], np.full(4, series[0]))


def test_one_feature_can_be_chosen_and_the_others_stay_as_they_were():
    series = sine(30, 2, n_features=3)
    done = inject(series, "level_shift", 1.0, start=5, width=5, feature=1)
    np.testing.assert_array_equal(done.series[:, [0, 2]], series[:, [0, 2]])
    np.testing.assert_allclose(done.series[5:10, 1] - series[5:10, 1], 1.0)


def test_inject_batch_changes_the_chosen_share_and_labels_each_window():
    batch = sine(40, 2, n_features=2)[None].repeat(10, axis=0).astype(np.float32)
    out, masks = inject_batch(batch, "level_shift", 0.5, width=6, share=0.3, seed=2)
    assert out.dtype == np.float32 and masks.shape == (10, 40)
    changed = np.any(out != batch, axis=2)  # (N, T): which steps differ in any feature
    np.testing.assert_array_equal(changed, masks)
    assert masks.any(axis=1).sum() == 3
    assert set(masks.sum(axis=1)) == {0, 6}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "wobble"}, "kind must be one of spike, level_shift"),
    ({"size": 0.0}, "for level_shift, size is the amount added"),
    ({"kind": "frequency_change", "size": 1.0}, "the speed factor"),
    ({"kind": "noise_burst", "size": -1.0}, "standard deviation"),
    ({"start": 25}, "ends at step 34, past the series' last step 29"),
    ({"width": 0}, "width must be a whole number >= 1"),
    ({"start": -1}, "start must be a whole number >= 0"),
    ({"feature": 2}, "feature must be a whole number from 0 to 1"),
    ({"kind": "frequency_change", "size": 2.0, "width": 1}, "at least 2 steps"),
    ({"size": float("inf")}, "size must be a finite number"),
])
def test_bad_injections_are_refused_with_a_message(kwargs, message):
    args = {"kind": "level_shift", "size": 0.5, "start": 5, "width": 10} | kwargs
    with pytest.raises(AnomalyError, match=message):
        inject(sine(30, 2, n_features=2), **args)


# --- the whole pipeline ----------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
def test_the_pipeline_separates_a_large_level_shift_for_every_architecture(arch):
    """Errors of a real model -> N(mu, Sigma) on normal series -> scores -> tau: a shift far
    outside anything the normal series hold is flagged, and no normal series is."""
    spec = spec_for(arch)
    model = build_model(spec, seed=0)
    rng = np.random.default_rng(13)
    normal = rng.uniform(-0.5, 0.5, (40, spec.seq_len, spec.n_features)).astype(np.float32)
    fit = fit_normal(step_errors(model, normal[:20]))
    series, masks = inject_batch(normal[20:], "level_shift", 10.0, width=2, share=0.5, seed=1)
    scores = anomaly_scores(step_errors(model, series), fit)
    labels = series_labels(masks)
    best = best_threshold(series_scores(scores), labels)
    assert (best.tp, best.fp, best.fn, best.tn) == (10, 0, 0, 10)
    flagged = flag_steps(scores, best.tau)
    assert not flagged[~labels].any()  # nothing flagged in a normal series
    assert np.all(flagged[labels].any(axis=1))


def test_scoring_and_thresholds_run_without_torch():
    """Only step_errors needs torch: the rest of the package imports without it."""
    import subprocess
    import sys

    code = "import sys, lstmae_demo.anomaly; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"
