"""Findings in words: each rule shown for runs built to show it and not for runs built not to,
checked on synthetic loss histories and on real tiny training runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig
from lstmae_demo.data import load
from lstmae_demo.findings import (
    LEFT_MEAN,
    PLATEAU_EPOCHS,
    TEACHER_GAP,
    RunNumbers,
    comparison_findings,
    divergence_text,
    epochs_to,
    mean_level,
    plateau,
    run_findings,
    teacher_forced_mse,
)
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ModelSpec
from lstmae_demo.training import Epoch, fit

LEVEL = 0.32
REPEAT = ModelSpec(arch="repeatvector")
HIDDEN = ModelSpec(arch="hidden_n")
ENCDEC = ModelSpec(arch="encdec_ad")  # conditional decoder, h handed over
UNCOND = ModelSpec(arch="encdec_ad", decoder="unconditioned")
STEPS = ModelSpec(arch="embedding", reads="steps")  # no bottleneck: copies step by step
STATE = ModelSpec(arch="embedding", reads="state", units=16)  # 2U = 32 < 50: a bottleneck


def falling(start: int, first: float = 0.2, epochs: int = 30) -> tuple[float, ...]:
    """LEVEL for `start - 1` epochs, then down from `first` by half an epoch."""
    return tuple([LEVEL] * (start - 1) + [first * 0.5 ** i for i in range(epochs - start + 1)])


def run(spec: ModelSpec, val_mses, train=None, reason: str | None = "completed",
        **kw) -> RunNumbers:
    val_mses = tuple(val_mses)
    train = tuple(train) if train is not None else val_mses
    return RunNumbers(spec=spec, train_losses=train, val_losses=val_mses, val_mses=val_mses,
                      total_epochs=len(val_mses), reason=reason, **kw)


def keys(found) -> list[str]:
    return [f.key for f in found]


# --- measurements ------------------------------------------------------------------------


def test_mean_level_is_the_mse_of_outputting_the_training_mean():
    rng = np.random.default_rng(0)
    train = rng.normal(0.25, 0.1, size=(400, 20, 2))
    val = rng.normal(0.0, 0.5, size=(100, 20, 2))
    # A constructed case: the training mean is 0.25 exactly, the validation values are +-a.
    train_exact = np.full((4, 5, 1), 0.25)
    val_exact = np.array([0.8, -0.8] * 10).reshape(4, 5, 1)
    assert mean_level(train_exact, val_exact) == pytest.approx(
        0.5 * (0.8 - 0.25) ** 2 + 0.5 * (0.8 + 0.25) ** 2)
    by_hand = np.mean((val - train.mean(axis=(0, 1))) ** 2)
    assert mean_level(train, val) == pytest.approx(by_hand)
    assert math.isnan(mean_level(train[:0], val))


def test_the_mean_level_is_where_a_model_that_ignores_its_input_sits():
    """A real model whose output layer gives the training mean everywhere scores the level."""
    cfg = AppConfig.default().with_values(seq_len=16, units=8, n_series=64)
    data = load(cfg.sine)
    model = build_model(cfg.spec, seed=0).eval()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(float(data.train.mean()))
        out = model(torch.from_numpy(data.val)).numpy()
    assert np.mean((out - data.val) ** 2) == pytest.approx(
        mean_level(data.train, data.val), rel=1e-5)


def test_teacher_forced_mse_feeds_the_truth_and_leaves_the_shared_model_alone():
    cfg = AppConfig.default().with_values(arch="encdec_ad", seq_len=12, units=8, n_series=32)
    data = load(cfg.sine)
    model = build_model(cfg.spec, seed=3).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    forced = teacher_forced_mse(model, data.val)
    assert not model.training  # never switched under other learners
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    x = torch.from_numpy(data.val)
    with torch.no_grad():
        free = torch.mean((model(x) - x) ** 2).item()  # eval: free-running
        model.train()
        by_hand = torch.mean((model(x) - x) ** 2).item()  # train: teacher-forced
        model.eval()
    assert forced == pytest.approx(by_hand, rel=1e-5)
    assert forced != pytest.approx(free, rel=1e-3)  # the two ways of feeding differ


def test_epochs_to_and_plateau():
    assert epochs_to([0.3, 0.06, 0.04, 0.01], 0.05) == 3
    assert epochs_to([0.3, math.nan, 0.2], 0.05) is None
    assert plateau([0.5, 0.32, 0.321, 0.33, 0.2, 0.32], LEVEL) == (2, 3)
    assert plateau([0.5, 0.2], LEVEL) is None


# --- one run ----------------------------------------------------------------------------------


def test_divergence_is_said_for_a_diverged_or_exploded_run_and_only_then():
    assert divergence_text((0.5, 0.4), (0.5, 0.4), "diverged") == "The loss diverged."
    assert divergence_text((0.5, 3e4, 1e10, 0.3), (0.5,) * 4, "completed").startswith(
        "The loss exploded: 1e+10 in epoch 3")
    assert "not a number" in divergence_text((0.5, math.nan), (0.5, 0.4), "completed")
    assert divergence_text((0.5, 0.2, 0.1), (0.5, 0.2, 0.1), "completed") is None
    found = run_findings(run(REPEAT, (0.5, 0.4), reason="diverged",
                             message="Training diverged in epoch 2."), LEVEL)
    assert keys(found) == ["divergence"] and found[0].tone == "error"
    assert "Training diverged in epoch 2." in found[0].text
    assert "divergence" not in keys(run_findings(run(REPEAT, falling(1)), LEVEL))


def test_the_mean_plateau_is_counted_and_said_only_when_long_enough():
    found = run_findings(run(HIDDEN, falling(12)), LEVEL)
    plateau_ = next(f for f in found if f.key == "mean_plateau")
    assert plateau_.tone == "info"
    assert "for 11 epochs (epochs 1–11)" in plateau_.text
    assert "It then left it: 0.2 in epoch 12" in plateau_.text
    short = falling(PLATEAU_EPOCHS)  # one epoch fewer than the rule needs
    assert "mean_plateau" not in keys(run_findings(run(HIDDEN, short), LEVEL))
    assert "mean_plateau" not in keys(run_findings(run(HIDDEN, falling(1)), LEVEL))


def test_a_run_still_on_the_plateau_at_its_end_is_a_warning():
    stuck = (0.5, 0.33, 0.325, 0.322, 0.321)
    found = run_findings(run(REPEAT, stuck), LEVEL)
    assert keys(found) == ["mean_plateau"] and found[0].tone == "warning"
    assert "for 4 epochs (epochs 2–5)" in found[0].text and "still there" in found[0].text
    # Just below the band at the end, never below LEFT_MEAN of the level: still a warning.
    near = stuck + (0.30, 0.30)
    assert near[-1] > LEFT_MEAN * LEVEL
    found = run_findings(run(REPEAT, near), LEVEL)
    assert keys(found) == ["mean_plateau"] and found[0].tone == "warning"
    assert "It ended close to it (0.3)" in found[0].text


def test_the_copying_trap_needs_no_bottleneck_and_a_good_reconstruction():
    good = falling(1, 0.05, 10)  # ends far below LEARNED x the level
    found = run_findings(run(STEPS, good), LEVEL)
    assert keys(found) == ["copying_trap"]
    code = trace(STEPS, 1).latent_per_example
    assert code > STEPS.seq_len  # it reads more than the input
    assert "has no bottleneck" in found[0].text and f"{code:,} numbers per example" in found[0].text
    assert run_findings(run(REPEAT, good), LEVEL) == []  # the same numbers, with a bottleneck
    assert run_findings(run(STEPS, (0.5, 0.4, 0.3)), LEVEL) == []  # it has not learned
    assert run_findings(run(STEPS, good, reason=None), LEVEL) == []  # still training


def test_the_teacher_forcing_gap_needs_a_conditional_decoder_and_a_measured_gap():
    ends = (0.3, 0.05, 0.0047)
    found = run_findings(run(ENCDEC, ends, teacher_forced_mse=0.0005), LEVEL)
    assert keys(found) == ["teacher_forcing"]
    assert "MSE 0.0005" in found[0].text and "9.4 times worse" in found[0].text
    small_gap = 0.0047 / (TEACHER_GAP * 0.99)  # free-running only 1.49x worse
    assert run_findings(run(ENCDEC, ends, teacher_forced_mse=small_gap), LEVEL) == []
    assert run_findings(run(UNCOND, ends, teacher_forced_mse=0.0005), LEVEL) == []
    assert run_findings(run(ENCDEC, ends), LEVEL) == []  # not measured: nothing said


# --- runs side by side --------------------------------------------------------------------


def test_the_copying_trap_between_runs_names_the_model_that_copies():
    steps = run(STEPS, falling(1, 0.02, 10))  # ends at 3.9e-5
    repeat = run(REPEAT, falling(9, 0.2, 10))  # ends at 0.1
    found = comparison_findings([repeat, steps], LEVEL)
    trap = [f for f in found if f.key == "copying_trap"]
    assert len(trap) == 1 and trap[0].label == steps.label  # not said twice
    assert "reconstructs best" in trap[0].text and "`repeatvector`" in trap[0].text
    # The model with a bottleneck reconstructs best: no comparison finding, only the own one.
    better = run(REPEAT, falling(1, 0.001, 10))
    found = comparison_findings([better, steps], LEVEL)
    assert [f.text for f in found if "reconstructs best" in f.text] == []
    assert keys(found) == ["copying_trap"] and found[0].label == steps.label


def test_a_state_started_decoder_learning_sooner_is_said_with_both_sides():
    encdec = run(ENCDEC, falling(3, 0.25, 40))
    repeat = run(REPEAT, falling(11, 0.25, 40))
    hidden = run(HIDDEN, falling(12, 0.25, 40))
    found = comparison_findings([repeat, encdec, hidden], LEVEL)
    state = next(f for f in found if f.key == "state_start")
    assert "`encdec_ad` (h, conditional) left the \"predict the mean\" level after 3 " \
           "epochs" in state.text
    assert "`repeatvector` after 11 epochs, `hidden_n` after 12 epochs" in state.text
    assert epochs_to(encdec.val_mses, LEFT_MEAN * LEVEL) == 3


def test_no_state_start_finding_when_it_is_not_sooner_by_the_margin():
    encdec = run(ENCDEC, falling(10, 0.25, 40))
    repeat = run(REPEAT, falling(11, 0.25, 40))
    assert "state_start" not in keys(comparison_findings([repeat, encdec], LEVEL))
    # A state-started model without a bottleneck does not count: it may copy.
    attention = run(ModelSpec(arch="embedding"), falling(1, 0.25, 40))
    assert "state_start" not in keys(comparison_findings([repeat, attention], LEVEL))
    # With the embedding model's state-only decoder it does.
    state = run(STATE, falling(2, 0.25, 40))
    assert "state_start" in keys(comparison_findings([repeat, state], LEVEL))


def test_a_state_start_that_is_later_at_another_stage_says_so():
    encdec = run(ENCDEC, (0.5, 0.3, 0.27) + (0.27,) * 27 + (0.04,) * 10)  # 0.05 at 31
    repeat = run(REPEAT, falling(11, 0.25, 40))  # 0.05 at epoch 14
    state = next(f for f in comparison_findings([repeat, encdec], LEVEL)
                 if f.key == "state_start")
    assert "Not at every stage" in state.text and "after 31 epochs" in state.text


def test_comparison_findings_wait_for_every_run_and_put_errors_first():
    done = run(HIDDEN, falling(12))
    going = run(REPEAT, falling(1), reason=None)
    assert comparison_findings([done, going], LEVEL) == []
    diverged = run(REPEAT, (0.5, 0.4), reason="diverged")
    found = comparison_findings([done, diverged], LEVEL)
    assert [f.tone for f in found][0] == "error" and keys(found)[0] == "divergence"
    assert "state_start" not in keys(found)  # a diverged run takes part in no comparison


# --- real training runs --------------------------------------------------------------------


def _trained(**knobs) -> tuple[RunNumbers, float]:
    cfg = AppConfig.default().with_values(**knobs)
    model, data, epochs = build_model(cfg.spec, seed=cfg.train.seed), load(cfg.sine), []
    end = fit(model, data.train, data.val, cfg.train,
              on_event=lambda e: epochs.append(e) if isinstance(e, Epoch) else None)
    forced = teacher_forced_mse(model, data.val) if cfg.spec.arch == "encdec_ad" else None
    numbers = RunNumbers(cfg.spec, tuple(e.train_loss for e in epochs),
                         tuple(e.val_loss for e in epochs), tuple(e.val_mse for e in epochs),
                         cfg.train.epochs, end.reason, teacher_forced_mse=forced)
    return numbers, mean_level(data.train, data.val)


@pytest.mark.slow
def test_a_real_run_stuck_at_the_mean_and_a_real_copying_run():
    stuck, level = _trained(arch="hidden_n", epochs=6, n_series=64, seq_len=16, units=8,
                            seed=7)
    found = run_findings(stuck, level)
    assert keys(found) == ["mean_plateau"] and found[0].tone == "warning"
    copier, level = _trained(arch="embedding", reads="steps", epochs=15, n_series=256,
                             seq_len=16, units=32, lr="0.01")
    assert copier.final_mse < 0.01
    assert keys(run_findings(copier, level)) == ["copying_trap"]
    found = comparison_findings([stuck, copier], level)
    assert "reconstructs best" in next(f.text for f in found if f.key == "copying_trap")


def test_the_plateau_warning_explains_a_flat_start_by_what_the_decoder_gets():
    stuck = (0.5, 0.33, 0.325, 0.322, 0.321)
    said = {spec.arch + spec.reads * (spec.arch == "embedding"): next(
        f.text for f in run_findings(run(spec, stuck), LEVEL) if f.key == "mean_plateau")
        for spec in (REPEAT, ENCDEC, STEPS)}
    assert "fed a repeated vector" in said["repeatvector"]
    assert "repeated vector" not in said["encdec_ad"]
    assert "started from the encoder's state" in said["encdec_ad"]
    assert "repeated vector" not in said["embeddingsteps"]
    assert "started from" not in said["embeddingsteps"]
