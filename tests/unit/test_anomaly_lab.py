"""Tests for lstmae_demo.anomaly.lab: the learner's choice checked like a URL value, the lab's
sets against how they are said to be built, the scores against the paper's formulas computed
directly from a real model's reconstructions, and the threshold against a brute force."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from lstmae_demo.anomaly import DEFAULT_BETA, inject, lab
from lstmae_demo.archs import build_model
from lstmae_demo.data import BundledConfig, SineConfig, load, make_bundled
from lstmae_demo.data.bundled import read_series
from lstmae_demo.spec import ModelSpec

SINE = SineConfig(n_series=16, n_val=30, seq_len=12, n_features=2, seed=3)


# --- the choice --------------------------------------------------------------------------------


def test_no_values_give_the_defaults_and_the_papers_beta():
    choice, notes = lab.parse_choice({}, seq_len=50)
    assert choice == lab.LabChoice() and notes == []
    assert choice.beta == DEFAULT_BETA


@pytest.mark.parametrize("raw, field", [
    ({"data": "mnist"}, "data"), ({"kind": "earthquake"}, "kind"), ({"unit": "days"}, "unit"),
    ({"size": "nan"}, "size"), ({"size": "99"}, "size"), ({"start": "1.5"}, "start"),
    ({"width": "0"}, "width"), ({"beta": "0"}, "beta"), ({"beta": "<img src=x>"}, "beta"),
    ({"start": True}, "start"),
])
def test_a_bad_value_falls_back_to_its_default_with_a_note(raw, field):
    choice, notes = lab.parse_choice(raw, seq_len=50)
    assert getattr(choice, field) == getattr(lab.LabChoice(), field)
    assert len(notes) == 1 and notes[0].startswith(field)


def test_a_size_the_kind_cannot_take_is_replaced():
    choice, notes = lab.parse_choice({"kind": "frequency_change", "size": "1"}, seq_len=50)
    assert choice.kind == "frequency_change" and choice.size == 2.0
    assert "frequency change" in notes[0]


def test_the_window_is_moved_and_shortened_to_fit_t():
    choice, notes = lab.parse_choice({"start": "45", "width": "10"}, seq_len=50)
    assert (choice.start, choice.width) == (40, 10) and notes
    choice, _ = lab.parse_choice({"start": "3", "width": "30"}, seq_len=12)
    assert (choice.start, choice.width) == (0, 12)


def test_the_url_round_trips():
    choice = lab.LabChoice(data="nab_jumpsup", kind="spike", size=-2.5, start=3, width=4,
                           beta=0.5, unit="series")
    params = choice.to_params()
    raw = {name: params[lab.PARAMS[name]] for name in lab.PARAMS if lab.PARAMS[name] in params}
    assert lab.parse_choice(raw, seq_len=50) == (choice, [])
    assert lab.LabChoice().to_params() == {}


# --- the sets ----------------------------------------------------------------------------------


def test_sine_sets_are_the_thirds_of_the_validation_series_with_every_second_injected():
    choice = lab.LabChoice(kind="level_shift", size=0.7, start=2, width=5)
    sets = lab.build_sets(SINE, choice, seed=4)
    pool = load(SINE).val
    np.testing.assert_array_equal(sets.fit, pool[:10])
    np.testing.assert_array_equal(sets.test_clean, pool[20:30])
    for part, base, seed in ((sets.val, pool[10:20], 4), (sets.test, pool[20:30], 10_004)):
        mask = sets.val_mask if part is sets.val else sets.test_mask
        for i in range(10):
            if i % 2 == 0:
                np.testing.assert_array_equal(part[i], base[i])
                assert not mask[i].any()
            else:
                done = inject(base[i], "level_shift", 0.7, 2, 5, seed=seed + i)
                np.testing.assert_allclose(part[i], done.series, rtol=1e-6)
                np.testing.assert_array_equal(mask[i], (np.arange(12) >= 2)
                                              & (np.arange(12) < 7))
                np.testing.assert_allclose(part[i][2:7] - base[i][2:7], 0.7, rtol=1e-5)
    assert not sets.labelled


def test_bundled_sets_test_on_the_labelled_file_laid_end_to_end():
    config = BundledConfig(name="nab_jumpsup", seq_len=50)
    sets = lab.build_sets(config, lab.LabChoice(data="nab_jumpsup"))
    whole = read_series("art_daily_jumpsup.csv")
    scaled = make_bundled(config)
    n = len(whole.values) // 50
    assert sets.test.shape == (n, 50, 1) and sets.labelled
    flat = sets.test.reshape(-1)
    np.testing.assert_allclose(flat, scaled.scale(whole.values[:n * 50]).reshape(-1), rtol=1e-6)
    np.testing.assert_array_equal(sets.test_mask.reshape(-1), whole.mask[:n * 50])
    np.testing.assert_array_equal(sets.test_rows.reshape(-1), np.arange(n * 50))
    assert sets.test_mask.any() and not sets.test_mask.all()


def test_bundled_fit_and_validation_windows_share_no_row():
    config = BundledConfig(name="nab_jumpsup", seq_len=50)
    data = make_bundled(config)
    sets = lab.build_sets(config, lab.LabChoice(data="nab_jumpsup", kind="spike", start=0,
                                                width=3))
    half = len(data.val) // 2
    np.testing.assert_array_equal(sets.fit, data.val[:half])
    last_fit_row = data.val_starts[half - 1] + 49
    first = next(i for i, start in enumerate(data.val_starts) if start > last_fit_row)
    assert len(sets.val) == len(data.val) - first
    np.testing.assert_array_equal(sets.val[::2], data.val[first::2])
    assert sets.val_mask[1::2].any(axis=1).all() and not sets.val_mask[::2].any()


def test_a_data_set_too_small_for_three_parts_says_what_to_change():
    small = replace(SINE, n_val=5)
    with pytest.raises(ValueError, match="at least 2"):
        lab.build_sets(small, lab.LabChoice(start=0, width=2))


# --- the scores and the threshold --------------------------------------------------------------


def direct_scores(model, sets):
    """The paper's formulas by explicit loops over the series and steps of real reconstructions."""
    with torch.no_grad():
        rebuilt = {name: model.reconstruct(torch.from_numpy(getattr(sets, name))).double().numpy()
                   for name in ("fit", "val", "test")}
    errors = {name: np.abs(getattr(sets, name).astype(np.float64) - rebuilt[name])
              for name in rebuilt}
    vectors = [e for series in errors["fit"] for e in series]
    mu = sum(vectors) / len(vectors)
    sigma = sum(np.outer(v - mu, v - mu) for v in vectors) / len(vectors)
    inverse = np.linalg.inv(sigma)
    scores = {name: np.array([[(e - mu) @ inverse @ (e - mu) for e in series]
                              for series in errors[name]]) for name in ("val", "test")}
    return mu, sigma, scores, errors


def brute_force(scores, labels, tau, beta):
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s > tau and y)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s > tau and not y)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s <= tau and y)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0
    return tp, fp, fn, f


@pytest.mark.parametrize("unit", lab.UNITS)
def test_scores_and_threshold_match_the_paper_computed_directly(unit):
    model = build_model(ModelSpec(arch="encdec_ad", seq_len=12, n_features=2, units=5), seed=1)
    model.eval()
    sets = lab.build_sets(SINE, lab.LabChoice(kind="spike", size=1.5, start=3, width=4))
    result = lab.analyse(model, sets, beta=0.3, unit=unit)
    mu, sigma, scores, errors = direct_scores(model, sets)
    np.testing.assert_allclose(result.normal_fit.mean, mu, rtol=1e-6)
    np.testing.assert_allclose(result.normal_fit.cov, sigma, rtol=1e-5)
    np.testing.assert_allclose(result.val_scores, scores["val"], rtol=1e-5)
    np.testing.assert_allclose(result.test_scores, scores["test"], rtol=1e-5)

    def per_unit(step_scores, mask):
        if unit == "step":
            return list(step_scores.reshape(-1)), list(mask.reshape(-1))
        return ([max(row) for row in step_scores], [bool(row.any()) for row in mask])

    val_scores, val_labels = per_unit(result.val_scores, sets.val_mask)
    candidates = [min(val_scores) - 1.0, *sorted(set(val_scores))]
    best_f = max(brute_force(val_scores, val_labels, tau, 0.3)[3] for tau in candidates)
    assert result.best.f_beta == pytest.approx(best_f, abs=1e-12)
    assert brute_force(val_scores, val_labels, result.best.tau, 0.3)[3] == pytest.approx(best_f)
    test_scores, test_labels = per_unit(result.test_scores, sets.test_mask)
    for tau in (result.best.tau, float(np.median(test_scores)), 0.0):
        got = result.on_test(tau)
        tp, fp, fn, f = brute_force(test_scores, test_labels, tau, 0.3)
        assert (got.tp, got.fp, got.fn) == (tp, fp, fn)
        assert got.tn == len(test_scores) - tp - fp - fn
        assert got.f_beta == pytest.approx(f)


def test_error_ratio_is_the_mean_error_inside_over_outside_the_window():
    model = build_model(ModelSpec(arch="repeatvector", seq_len=12, n_features=2, units=4),
                        seed=2)
    sets = lab.build_sets(SINE, lab.LabChoice(kind="level_shift", size=1.2, start=1, width=6))
    result = lab.analyse(model, sets)
    _, _, scores, errors = direct_scores(model, sets)
    per_step = errors["test"].mean(axis=2)
    inside = [per_step[i, t] for i in range(10) for t in range(12) if sets.test_mask[i, t]]
    outside = [per_step[i, t] for i in range(10) for t in range(12) if not sets.test_mask[i, t]]
    assert result.errors.anomalous == pytest.approx(np.mean(inside), rel=1e-5)
    assert result.errors.normal == pytest.approx(np.mean(outside), rel=1e-5)
    assert result.errors.ratio == pytest.approx(np.mean(inside) / np.mean(outside), rel=1e-5)
    beyond = (np.abs(sets.test) > 1).any(axis=2)[sets.test_mask]
    assert result.errors.outside == pytest.approx(beyond.mean())


def test_the_copy_verdict_follows_the_numbers():
    close = lab.ErrorRatio(anomalous=0.011, normal=0.010, score_anomalous=1.1, score_normal=1.0,
                           outside=0.0)
    clipped = replace(close, anomalous=0.5, outside=0.25)
    apart = replace(close, anomalous=0.05)
    assert "about as well" in lab.copy_verdict(close) and "1.10" in lab.copy_verdict(close)
    assert "25%" in lab.copy_verdict(clipped) and "50.00" in lab.copy_verdict(clipped)
    assert "5.00" in lab.copy_verdict(apart) and "about as well" not in lab.copy_verdict(apart)


def test_a_model_that_copies_exactly_reconstructs_an_anomaly_inside_its_range_as_well():
    """A model whose reconstruction is its input: the anomalous steps' error equals the normal
    steps' (0 both), so every step scores the same and the best threshold's precision is no
    better than flagging every step: the share of anomalous steps."""

    class Copier(torch.nn.Module):
        spec = ModelSpec(arch="encdec_ad", seq_len=12, n_features=2)

        def reconstruct(self, x):
            return x.clone()

    sets = lab.build_sets(SINE, lab.LabChoice(kind="frequency_change", size=2.0, start=0,
                                              width=12))
    result = lab.analyse(Copier(), sets)
    assert result.errors.anomalous == result.errors.normal == 0.0
    assert np.ptp(result.test_scores) == 0.0
    outcome = result.on_test(result.best.tau)
    assert outcome.precision == pytest.approx(sets.test_mask.mean())
    assert outcome.fn == 0 and outcome.tn == 0


def test_the_bundled_timeline_is_the_labelled_file_in_time_order():
    config = BundledConfig(name="nab_jumpsup", seq_len=40)
    model = build_model(ModelSpec(arch="encdec_ad", seq_len=40, units=4), seed=0)
    result = lab.analyse(model, lab.build_sets(config, lab.LabChoice(data="nab_jumpsup")))
    line = lab.timeline(result)
    whole = read_series("art_daily_jumpsup.csv")
    n = len(line.x)
    np.testing.assert_array_equal(line.x, whole.timestamps[:n])
    np.testing.assert_array_equal(line.mask, whole.mask[:n])
    assert line.values.shape == line.recon.shape == (n, 1) and line.scores.shape == (n,)


def test_a_sine_timeline_is_one_test_series_and_a_bad_number_is_refused():
    model = build_model(ModelSpec(arch="encdec_ad", seq_len=12, n_features=2, units=4), seed=0)
    result = lab.analyse(model, lab.build_sets(SINE, lab.LabChoice(start=0, width=3)))
    line = lab.timeline(result, 1)
    np.testing.assert_array_equal(line.values, result.sets.test[1])
    np.testing.assert_array_equal(line.mask, result.sets.test_mask[1])
    with pytest.raises(ValueError, match="from 0 to 9"):
        lab.timeline(result, 10)
