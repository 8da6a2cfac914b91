"""The latent space core: codes from the real modules, decoding through the real forward pass,
PCA against constructions with known variance, and the neighbourhood check on codes built to
show and not to show it."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from lstmae_demo import latent
from lstmae_demo.archs import build_model
from lstmae_demo.data import SineConfig, make_sine
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ModelSpec

VARIANTS = [
    ModelSpec(arch="repeatvector"),
    ModelSpec(arch="repeatvector", activation="relu"),
    ModelSpec(arch="hidden_n"),
    ModelSpec(arch="encdec_ad", handoff="h", decoder="conditional"),
    ModelSpec(arch="encdec_ad", handoff="hc", decoder="conditional"),
    ModelSpec(arch="encdec_ad", handoff="h", decoder="unconditioned"),
    ModelSpec(arch="encdec_ad", handoff="hc", decoder="unconditioned"),
    ModelSpec(arch="embedding", reads="state"),
    ModelSpec(arch="embedding", reads="attention"),
    ModelSpec(arch="embedding", reads="steps"),
]
IDS = [f"{s.arch}-{s.handoff if s.arch == 'encdec_ad' else s.reads}-{s.decoder}-{s.activation}"
       for s in VARIANTS]


def small(spec: ModelSpec, n_features: int = 1) -> ModelSpec:
    f = n_features if spec.arch != "embedding" else 1
    return replace(spec, seq_len=9, units=5, n_features=f, bins=16)


def series(n: int, spec: ModelSpec, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.9, 0.9, (n, spec.seq_len, spec.n_features)
                                               ).astype(np.float32)


def caught_latent(model, spec: ModelSpec, x: np.ndarray):
    """What the module holding the code (the trace names it) really returned in a forward."""
    record = trace(spec, len(x)).code.record
    module = model.get_submodule(trace(spec, 1).record(record).module)
    out = {}
    handle = module.register_forward_hook(lambda _m, _i, o: out.setdefault("value", o))
    try:
        with torch.no_grad():
            model(torch.from_numpy(x))
    finally:
        handle.remove()
    return out["value"]


# ---------------------------------------------------------------------------------------------
# Encode: the real modules' outputs


@pytest.mark.parametrize("n_features", [1, 3])
@pytest.mark.parametrize("spec", VARIANTS, ids=IDS)
def test_codes_are_what_the_code_module_really_hands_on(spec: ModelSpec, n_features: int):
    spec = small(spec, n_features)
    model = build_model(spec, seed=1).eval()
    x = series(4, spec)
    codes = latent.encode(model, x)
    out = caught_latent(model, spec, x)
    u, t = spec.units, spec.seq_len
    if spec.arch in ("repeatvector", "hidden_n"):
        parts = [out]  # (B, U): the last output / h_n[-1]
    elif spec.arch == "encdec_ad":
        h, c = out  # (1, B, U) each
        parts = [h[0]] if spec.handoff == "h" else [h[0], c[0]]
        if spec.handoff == "h":
            assert torch.count_nonzero(c) == 0  # the decoder's c starts at zero: not handed over
    elif spec.reads == "state":
        h, c = out
        parts = [h[0], c[0]]
    elif spec.reads == "steps":
        assert out.shape == (4, t, u)
        parts = [out.flatten(1)]
    else:
        outputs, (h, c) = out
        assert outputs.shape == (4, t, u)
        parts = [outputs.flatten(1), h[0], c[0]]
    expected = torch.cat(parts, dim=1).double().numpy()
    assert codes.shape == expected.shape == (4, latent.code_layout(spec).size)
    assert codes.shape[1] == trace(spec, 4).code.per_example
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-6)


def test_the_layout_says_when_the_code_grows_with_t():
    for reads, grows in (("state", False), ("attention", True), ("steps", True)):
        short = latent.code_layout(ModelSpec(arch="embedding", reads=reads, seq_len=10))
        long = latent.code_layout(ModelSpec(arch="embedding", reads=reads, seq_len=20))
        assert short.fixed_size == (not grows)
        assert (long.size > short.size) == grows
    hc = latent.code_layout(ModelSpec(arch="encdec_ad", handoff="hc", units=7))
    assert [p.name for p in hc.parts] == ["h_E(L)", "c_E(L)"] and hc.size == 14
    text = latent.code_explanation(ModelSpec(arch="embedding", reads="steps", seq_len=10),
                                   latent.code_layout(ModelSpec(arch="embedding", reads="steps",
                                                                seq_len=10)))
    assert "grows with T" in text and "10 steps x 32 units" in text


# ---------------------------------------------------------------------------------------------
# Decode: the real forward pass from a code


@pytest.mark.parametrize("spec", VARIANTS, ids=IDS)
def test_decoding_a_series_code_gives_its_reconstruction(spec: ModelSpec):
    spec = small(spec)
    model = build_model(spec, seed=2).eval()
    x = series(5, spec, seed=3)
    decoded = latent.decode(model, latent.encode(model, x))
    with torch.no_grad():
        expected = model.reconstruct(torch.from_numpy(x)).double().numpy()
    np.testing.assert_allclose(decoded, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("spec", VARIANTS, ids=IDS)
def test_only_the_code_reaches_the_decoder_and_the_shared_model_is_left_alone(spec: ModelSpec):
    spec = small(spec)
    model = build_model(spec, seed=4)
    model.train()  # a conditional EncDec-AD decoder would read x here (teacher forcing)
    codes = latent.encode(model, series(3, spec, seed=5))
    zeros = latent.decode(model, codes)
    other = latent.decode(model, codes, placeholder=series(3, spec, seed=6))
    np.testing.assert_array_equal(zeros, other)
    assert model.training
    assert not any(m._forward_hooks for m in model.modules())


def test_a_hook_another_page_holds_on_the_shared_model_does_not_reach_decode():
    spec = small(ModelSpec(arch="hidden_n"))
    model = build_model(spec, seed=9).eval()
    codes = latent.encode(model, series(2, spec, seed=10))

    def elsewhere(_module, _inputs, _output):
        raise AssertionError("another page's hook ran inside decode")

    handle = model.enc2.register_forward_hook(elsewhere)
    try:
        decoded = latent.decode(model, codes)
    finally:
        handle.remove()
    assert decoded.shape == (2, spec.seq_len, 1)


@pytest.mark.parametrize("spec", VARIANTS, ids=IDS)
def test_the_ends_of_the_line_decode_like_the_codes_themselves(spec: ModelSpec):
    spec = small(spec)
    model = build_model(spec, seed=7).eval()
    codes = latent.encode(model, series(2, spec, seed=8))
    positions, path, decoded = latent.morph(model, codes[0], codes[1], steps=5)
    np.testing.assert_array_equal(positions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(path[0], codes[0])
    np.testing.assert_allclose(path[-1], codes[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(path[2], (codes[0] + codes[1]) / 2, rtol=0, atol=1e-12)
    ends = latent.decode(model, codes)
    np.testing.assert_allclose(decoded[[0, -1]], ends, rtol=0, atol=1e-5)
    assert decoded.shape == (5, spec.seq_len, spec.n_features)


def test_a_code_of_the_wrong_size_is_refused_in_words():
    model = build_model(small(ModelSpec(arch="hidden_n")), seed=0)
    with pytest.raises(ValueError, match=r"codes must be \(M, 5\)"):
        latent.decode(model, np.zeros((2, 6)))
    with pytest.raises(ValueError, match="at least 2"):
        latent.line_between(np.zeros(3), np.ones(3), 1)


# ---------------------------------------------------------------------------------------------
# PCA


def standardised(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """k columns of n values, each of mean 0 and sample variance 1, orthogonal to each other."""
    raw = rng.standard_normal((n, k))
    raw -= raw.mean(axis=0)
    q, _ = np.linalg.qr(raw)  # orthonormal columns, still of mean 0
    return q * math.sqrt(n - 1)


def test_pca_finds_the_directions_and_shares_of_a_known_variance():
    rng = np.random.default_rng(0)
    n, d = 200, 6
    stds = np.array([3.0, 2.0, 1.0])  # variances 9, 4, 1: 14 in all
    latent_coords = standardised(rng, n, 3) * stds
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    offset = rng.standard_normal(d) * 5
    codes = latent_coords @ rotation[:, :3].T + offset  # (N, D)
    view = latent.pca_2d(codes)
    assert view.total_variance == pytest.approx(14.0)
    assert view.shares == pytest.approx((9 / 14, 4 / 14))
    assert view.share == pytest.approx(13 / 14)
    for axis, direction in zip(view.axes, rotation[:, :2].T, strict=True):
        assert abs(axis @ direction) == pytest.approx(1.0)  # the same line, either sign
    assert view.points.var(axis=0, ddof=1) == pytest.approx([9.0, 4.0])
    np.testing.assert_allclose(view.project(codes), view.points, atol=1e-9)
    np.testing.assert_allclose(view.mean, codes.mean(axis=0))
    again = latent.pca_2d(codes.copy())  # the sign is fixed: the same picture every time
    np.testing.assert_array_equal(again.points, view.points)


def test_pca_of_one_number_or_of_identical_codes():
    one = latent.pca_2d(np.arange(5.0)[:, None])
    assert one.shares == (pytest.approx(1.0), 0.0)
    np.testing.assert_allclose(one.points[:, 1], 0)
    same = latent.pca_2d(np.ones((4, 3)))
    assert same.shares == (0.0, 0.0) and same.total_variance == 0.0
    assert np.all(np.isfinite(same.points))


# ---------------------------------------------------------------------------------------------
# Do similar values sit together?


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation for values without ties, by the textbook formula."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    n = len(a)
    return 1 - 6 * float(((ra - rb) ** 2).sum()) / (n * (n * n - 1))


def test_codes_ordered_by_frequency_are_found_near():
    rng = np.random.default_rng(1)
    freq = rng.uniform(1, 3, 60)
    codes = np.c_[freq * 2, np.zeros(60), rng.normal(0, 0.02, 60)]  # frequency along one line
    nb = latent.neighbourhood(codes, freq)
    assert nb.verdict == "near"
    assert nb.rho > 0.9
    assert nb.p_value == pytest.approx(1 / (latent.PERMUTATIONS + 1))
    assert nb.ratio < 0.1
    upper = np.triu_indices(60, 1)
    distance = np.linalg.norm(codes[:, None] - codes[None], axis=-1)[upper]
    assert nb.rho == pytest.approx(spearman(distance, np.abs(freq[:, None] - freq)[upper]))
    assert "land near each other" in latent.neighbourhood_finding(nb, "frequency", "cycles")


def test_codes_unrelated_to_frequency_are_not_found_near():
    rng = np.random.default_rng(2)
    freq = rng.uniform(1, 3, 60)
    codes = rng.standard_normal((60, 4))
    nb = latent.neighbourhood(codes, freq)
    assert nb.verdict == "no"
    assert nb.p_value > 0.05
    assert 0.6 < nb.ratio < 1.6  # a nearest neighbour is as far in frequency as anyone
    words = latent.neighbourhood_finding(nb, "frequency", "cycles")
    assert "do not land near each other" in words and f"{nb.rho:+.2f}" in words


def test_a_phase_is_compared_the_short_way_round_the_circle():
    gaps = latent.differences(np.array([0.1, 2 * np.pi - 0.1, np.pi]), period=2 * np.pi)
    np.testing.assert_allclose(gaps, [[0, 0.2, np.pi - 0.1], [0.2, 0, np.pi - 0.1],
                                      [np.pi - 0.1, np.pi - 0.1, 0]])
    rng = np.random.default_rng(3)
    phase = rng.uniform(0, 2 * np.pi, 80)
    codes = np.c_[np.cos(phase), np.sin(phase)]  # a circle: 0.1 sits next to 6.2
    circular = latent.neighbourhood(codes, phase, period=2 * np.pi)
    straight = latent.neighbourhood(codes, phase)
    assert circular.verdict == "near" and circular.rho > straight.rho


# ---------------------------------------------------------------------------------------------
# The generator's parameters, fitted frequencies, findings


def test_the_phase_at_the_last_step_is_where_the_series_ends():
    cfg = SineConfig(n_series=16, n_val=20, seq_len=37, noise=0.0, seed=5)
    data = make_sine(cfg)
    params = {p.key: p for p in latent.generator_parameters(data.val_params, cfg.seq_len)}
    np.testing.assert_allclose(cfg.amplitude * np.sin(params["end_phase"].values),
                               data.val[:, -1, 0], atol=1e-6)
    np.testing.assert_allclose(cfg.amplitude * np.sin(params["phase"].values),
                               data.val[:, 0, 0], atol=1e-6)
    assert params["freq"].varies and not params["amplitude"].varies
    assert params["phase"].period == pytest.approx(2 * np.pi)


def test_every_parameter_has_one_value_per_series():
    data = make_sine(SineConfig(n_series=16, n_val=4, seed=3))
    params = latent.generator_parameters(data.val_params, data.val.shape[1])
    assert [p.values.shape for p in params] == [(4,)] * 4


@pytest.mark.parametrize(("freq", "features"), [(2.37, 1), (0.9, 2), (11.5, 1)])
def test_the_fitted_frequency_of_a_sine(freq: float, features: int):
    t = np.arange(50)
    phases = [0.3, 2.0][:features]
    y = np.stack([0.7 * np.sin(2 * np.pi * freq * t / 50 + p) + 0.1 for p in phases], axis=1)
    assert latent.fitted_frequency(y) == pytest.approx(freq, abs=0.011)
    assert latent.fitted_frequency(np.full((50, 1), 0.2)) is None  # a flat line has none


def _view(recon_mse: float, checks: dict[str, latent.Neighbourhood]) -> latent.LatentView:
    data = make_sine(SineConfig(n_series=16, n_val=5, seed=0))
    return latent.LatentView(
        layout=latent.code_layout(ModelSpec()), codes=np.zeros((5, 32)),
        projection=latent.pca_2d(np.zeros((5, 32))), reconstructions=data.val,
        parameters=latent.generator_parameters(data.val_params, 50), checks=checks,
        recon_mse=recon_mse, mean_mse=0.32)


def _nb(rho: float, p: float, gap: float) -> latent.Neighbourhood:
    return latent.Neighbourhood(rho=rho, p_value=p, nearest_gap=gap, chance_gap=0.64, n=128,
                                permutations=199)


def test_findings_are_shown_only_when_the_numbers_show_them():
    learned = latent.findings(_view(0.001, {"freq": _nb(0.44, 0.005, 0.08),
                                            "end_phase": _nb(0.13, 0.005, 0.2)}), 100)
    assert [tone for tone, _ in learned] == ["good"]
    assert "+0.44" in learned[0][1] and "0.08" in learned[0][1]
    short = latent.findings(_view(0.319, {"freq": _nb(0.05, 0.3, 0.35),
                                          "end_phase": _nb(0.72, 0.005, 0.06)}), 3)
    tones = [tone for tone, _ in short]
    assert tones == ["caution", "note", "note"]
    assert "0.319" in short[0][1] and "0.32" in short[0][1]
    assert "After 3 epochs training was too short" in short[1][1]
    assert "phase at the last step more closely" in short[2][1] and "+0.72" in short[2][1]


def test_the_frequency_path_in_words():
    steady = latent.frequency_path_finding([2.36, 2.2, 1.96, 1.72, 1.49], 2.36, 1.48)
    assert "in-between frequency" in steady and "1.96 halfway" in steady
    jumpy = latent.frequency_path_finding([2.36, 1.2, 3.0, 1.7, 1.49], 2.36, 1.48)
    assert "does not move steadily" in jumpy
    jump = latent.frequency_path_finding([1.0, 1.02, 1.05, 2.9, 2.95, 3.0], 0.99, 2.99)
    assert "it jumps: from 1.05 to 2.90 between positions 0.4 and 0.6" in jump
    assert "in-between frequency" not in jump
    flat = latent.frequency_path_finding([0.5, None, None, 1.0, 1.2], 0.5, 1.2)
    assert flat.startswith("2 of the 5 points")
