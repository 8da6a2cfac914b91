"""Compare: the URL's choice, the runs' plan (same data, seed and budget), and the table, built
from real runs of the runner and the tracer."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from lstmae_demo.compare import (
    DEFAULT,
    check_selection,
    choices_text,
    data_notes,
    match_runs,
    numbers,
    parse_run_ids,
    parse_selection,
    plan,
    reach,
    row,
    table,
    to_param,
)
from lstmae_demo.compare_plots import mse_curves, reconstruction_grid
from lstmae_demo.config import MAX_WORK, AppConfig
from lstmae_demo.findings import MILESTONES, epochs_to
from lstmae_demo.jobs import LocalRunner
from lstmae_demo.settings import ARCHS
from lstmae_demo.shapes.trace import trace

SMALL = AppConfig.default().with_values(seq_len=16, units=8, n_series=32, epochs=4, seed=11)


# --- the choice -------------------------------------------------------------------------------


def test_a_good_compare_value_is_taken_in_the_apps_order():
    assert parse_selection(None) == (DEFAULT, []) == (ARCHS, [])
    assert parse_selection("") == (ARCHS, [])
    assert parse_selection("hidden_n, repeatvector") == (("repeatvector", "hidden_n"), [])
    assert to_param(("hidden_n", "repeatvector")) == "repeatvector,hidden_n"
    assert to_param(ARCHS) is None  # the default stays out of the URL
    for archs in (("embedding", "encdec_ad"), ("repeatvector", "embedding", "hidden_n")):
        assert parse_selection(to_param(archs)) == (archs, [])


@pytest.mark.parametrize(("raw", "says"), [
    ("repeatvector", "got 1"),
    ("repeatvector,nope", "'nope' is not one of them"),
    ("hidden_n,hidden_n", "each at most once"),
    ("repeatvector,embedding,hidden_n,encdec_ad,repeatvector", "each at most once"),
    ("![x](https://example.com/a.png)," + "a" * 80, "is not one of them"),
])
def test_a_bad_compare_value_gives_all_four_and_a_note_saying_what_is_allowed(raw, says):
    archs, notes = parse_selection(raw)
    assert archs == ARCHS and len(notes) == 1
    assert says in notes[0] and "2 to 4 different architectures" in notes[0]
    assert "comparing all four" in notes[0]
    assert len(notes[0]) < 400  # the link's value is shortened, not echoed whole


def test_check_selection_refuses_a_string_and_too_few():
    with pytest.raises(ValueError, match="single string"):
        check_selection("repeatvector,hidden_n")
    with pytest.raises(ValueError, match="got 0"):
        check_selection([])


# --- the plan -----------------------------------------------------------------------------------


def test_every_architecture_trains_the_same_data_seed_and_budget_with_its_own_choices():
    config = SMALL.with_values(reads="steps", handoff="hc", arch="hidden_n")
    entries = plan(config, ARCHS)
    assert [e.arch for e in entries] == list(ARCHS)
    assert all(e.job is not None and e.problem is None for e in entries)
    assert len({e.job.data for e in entries}) == 1
    assert len({e.job.train for e in entries}) == 1
    assert entries[0].job.train == config.train and entries[0].job.data == config.sine
    specs = {e.arch: e.job.model for e in entries}
    assert specs["embedding"].reads == "steps" and specs["encdec_ad"].handoff == "hc"
    assert all(s.units == 8 and s.seq_len == 16 for s in specs.values())
    assert "what the decoder reads: every output, step by step" in choices_text(entries)
    assert data_notes(entries) == []


# --- the runs in a link -----------------------------------------------------------------------


def test_run_ids_in_a_link_are_two_to_four_different_plain_ids():
    assert parse_run_ids(" abc_1 ,Z-9") == ("abc_1", "Z-9")
    for raw, says in [("abc", "got 1"), ("a,b,c,d,e", "got 5"), ("a,a", "each at most once"),
                      ("a,<b>x</b>", "is not a run id"), ("a,", "is not a run id"),
                      ("a," + "b" * 65, "is not a run id")]:
        with pytest.raises(ValueError, match=says):
            parse_run_ids(raw)


def _as_run(job):
    """The JobSpec as a runner keeps it (the thread count filled in)."""
    return replace(job, train=replace(job.train, threads=1))


def test_runs_match_only_the_comparison_these_settings_would_start():
    config = SMALL.with_values(reads="steps", arch="hidden_n")
    planned = [e.job for e in plan(config, ("repeatvector", "embedding", "encdec_ad"))]
    runs = [_as_run(j) for j in reversed(planned)]  # any order
    entries = match_runs(config, runs)
    assert [e.arch for e in entries] == ["repeatvector", "embedding", "encdec_ad"]
    other_seed = replace(runs[0], train=replace(runs[0].train, seed=12))
    other_reads = replace(runs[1], model=replace(runs[1].model, reads="state"))
    for bad, says in [([runs[0], other_seed], "architectures do not fit"),
                      ([other_seed, *runs[1:]], "same data, seed and budget"),
                      ([runs[0], other_reads, runs[2]], "same data, seed and budget"),
                      (runs[:1], "architectures do not fit")]:
        with pytest.raises(ValueError, match=says):
            match_runs(config, bad)


def test_an_architecture_that_cannot_train_says_why_and_the_others_still_can():
    entries = plan(SMALL.with_values(seq_len=1), ARCHS)
    encdec = next(e for e in entries if e.arch == "encdec_ad")
    assert encdec.job is None and "at least 2" in encdec.problem
    # At 256 units hidden_n's four LSTMs exceed the server's work budget, repeatvector's two
    # do not.
    big = AppConfig.default().with_values(units=256)
    work = {arch: 512 * 100 * 50 * trace(replace(big.spec, arch=arch), 1).params_torch
            for arch in ("repeatvector", "hidden_n")}
    assert work["repeatvector"] <= MAX_WORK < work["hidden_n"]
    fits, too_big = plan(big, ("repeatvector", "hidden_n"))
    assert fits.job is not None and fits.problem is None
    assert too_big.job is None and "too big for a shared server" in too_big.problem


def test_more_features_than_the_embedding_model_takes_is_said():
    entries = plan(SMALL.with_values(n_features=3), ARCHS)
    embedding = next(e for e in entries if e.arch == "embedding")
    assert embedding.job.data.n_features == 1
    assert {e.job.data.n_features for e in entries if e.arch != "embedding"} == {3}
    assert data_notes(entries) == ["embedding takes 1 feature per step, so it trains on sines "
                                   "with 1 feature; the others on 3."]


# --- real runs: the table and the curves --------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    """Two real runs of the plan, through a runner with two slots."""
    runner = LocalRunner(slots=2, check_seconds=None)
    entries = plan(SMALL, ("repeatvector", "encdec_ad"))
    handles = [runner.submit(e.job) for e in entries]
    assert all(h.wait(120) for h in handles)
    return entries, [h.snapshot() for h in handles]


def test_the_table_comes_from_the_runs_own_numbers_and_the_tracer(trained):
    entries, views = trained
    for entry, view in zip(entries, views, strict=True):
        run = numbers(entry.spec, view)
        assert run.val_mses == view.val_mses and run.reason == "completed"
        line = row(run)
        tr = trace(entry.spec, 1)
        assert (line.params_keras, line.params_torch) == (tr.params_keras, tr.params_torch)
        assert line.code_per_example == tr.latent_per_example
        assert line.compression == pytest.approx(tr.input_per_example / tr.latent_per_example)
        assert line.decoder_reads == tr.code.where
        assert line.epoch_seconds == view.epoch_seconds
        assert line.final_mse == view.val_mses[-1]
        assert line.gap == pytest.approx(view.val_losses[-1] / view.train_losses[-1])
        for r, mse in zip(line.reaches, MILESTONES, strict=True):
            assert r.epoch == epochs_to(view.val_mses, mse)
            assert r.seconds == (None if r.epoch is None else view.slot_seconds[r.epoch - 1])
    lines = {line["measure"]: line for line in table([row(numbers(e.spec, v))
                                               for e, v in zip(entries, views, strict=True)])}
    assert list(lines["status"]) == ["measure", "repeatvector", "encdec_ad (h, conditional)"]
    assert lines["status"]["repeatvector"] == "completed after 4"
    assert lines["final validation MSE"]["repeatvector"] == f"{views[0].val_mses[-1]:.3g}"
    tr = trace(entries[1].spec, 1)
    assert lines["parameters (Keras)"]["encdec_ad (h, conditional)"] == f"{tr.params_keras:,}"


def test_reach_of_a_milestone_gives_its_epoch_and_seconds_on_a_slot(trained):
    entries, views = trained
    run = numbers(entries[0].spec, views[0])
    first = run.val_mses[0]
    hit = reach(run, first)  # reached in the first epoch by construction
    assert (hit.epoch, hit.seconds) == (1, run.slot_seconds[0])
    assert reach(run, -1.0).epoch is None and reach(run, -1.0).seconds is None
    lines = {line["measure"]: line[run.label] for line in table([row(replace(run, reason=None))])}
    at = epochs_to(run.val_mses, 0.01)  # as if still training:
    assert lines["to validation MSE 0.01"] == ("not yet" if at is None else
                                               f"epoch {at}, {run.slot_seconds[at - 1]:.1f} s")
    assert lines["status"] == "training: 4 of 4 epochs"


def test_the_curves_draw_every_runs_validation_mse_by_epoch_and_by_seconds(trained):
    entries, views = trained
    runs = [numbers(e.spec, v) for e, v in zip(entries, views, strict=True)]
    by_epoch = mse_curves(runs, "epoch", 0.32, 4)
    by_seconds = mse_curves(runs, "seconds", 0.32, 4)
    for fig, xs in ((by_epoch, [[1, 2, 3, 4]] * 2),
                    (by_seconds, [list(r.slot_seconds) for r in runs])):
        assert [t.name for t in fig.data] == [r.label for r in runs]
        assert [list(t.y) for t in fig.data] == [list(r.val_mses) for r in runs]
        assert [list(t.x) for t in fig.data] == xs
        guides = [s.y0 for s in fig.layout.shapes]
        assert guides == [0.32, *MILESTONES]
        # labelled at their lines: a log axis places annotations by the logarithm
        assert [10 ** a.y for a in fig.layout.annotations] == pytest.approx(guides)
    with pytest.raises(ValueError, match="x must be one of"):
        mse_curves(runs, "minutes", 0.32, 4)


def test_the_grid_shows_the_same_series_for_every_model(trained):
    entries, views = trained
    originals = np.linspace(-1, 1, 3 * 16).reshape(3, 16, 1).astype(np.float32)
    rows = [(e.arch, e.arch, v.reconstructions[:3], v.reconstructions_epoch)
            for e, v in zip(entries, views, strict=True)]
    fig = reconstruction_grid(originals, rows + [("hidden_n", "hidden_n", None, 0)])
    inputs = [t for t in fig.data if t.name == "input"]
    assert len(inputs) == 3 * 3  # every series in every row
    assert all(list(t.y) == list(originals[i % 3, :, 0]) for i, t in enumerate(inputs))
    recon = [t for t in fig.data if t.name != "input"]
    assert len(recon) == 2 * 3  # the model without a reconstruction yet draws none
    assert list(recon[0].y) == list(views[0].reconstructions[0, :, 0])


def test_a_failed_or_running_view_maps_to_its_reason(trained):
    _, views = trained
    view = views[0]
    assert numbers(SMALL.spec, view).reason == "completed"
    failed = replace(view, error="Training failed: boom", finished=None)
    assert numbers(SMALL.spec, failed).reason == "error"
    running = replace(view, status="running", finished=None)
    assert numbers(SMALL.spec, running).reason is None
    assert math.isnan(numbers(SMALL.spec, replace(running, val_mses=())).final_mse)
