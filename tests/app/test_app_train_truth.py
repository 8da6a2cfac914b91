"""The Train page tells a failed run from a good one, and says what its loss is."""

from __future__ import annotations

import math

from apptest_helpers import TRAIN, loss_chart, open_app

from lstmae_demo.jobs import JobView
from lstmae_demo.plots import log_ticks, loss_figure
from lstmae_demo.training.events import Finished
from lstmae_demo.ui.live import trouble


def _finished_view(train: tuple[float, ...], reason: str = "completed") -> JobView:
    """A finished run's view with these training losses (the shape the runner reports)."""
    done = Finished(reason=reason, epochs=len(train), seconds=1.0, train_seconds=1.0,
                    train_loss=train[-1], val_loss=train[-1], val_mse=train[-1],
                    sequences_per_second=1.0)
    return JobView(status="done", position=None, epoch=len(train), total_epochs=len(train),
                   train_losses=train, val_losses=train, val_mses=train, reconstructions=None,
                   reconstructions_epoch=0, started=None, last_epoch=None, finished=done,
                   error=None)


def test_a_diverged_run_is_not_a_green_done() -> None:
    """A real run: ReLU at lr 0.1 reaches an infinite loss in its first epoch."""
    at = open_app({"activation": "relu", "lr": "0.1", "epochs": "5", "n_series": "128"}, TRAIN)
    at.button(key="train_button").click().run()
    run = at.session_state["_training_run"]
    assert run.job.wait(timeout=120)
    at.run()
    assert run.job.snapshot().finished.reason == "diverged"
    assert not any("Done" in s.value for s in at.success)
    assert any("diverged" in e.value for e in at.error)


def test_a_finite_loss_that_exploded_is_not_a_green_done() -> None:
    """A run that blew up: ~1e10 on the way, then back to predicting the mean (0.32)."""
    assert trouble(_finished_view((0.5, 3e4, 1e10, 0.9, 0.32))).startswith("The loss exploded")
    assert trouble(_finished_view((0.5, 0.2, 0.1))) is None
    assert "not a number" in trouble(_finished_view((0.5, math.nan)))
    assert trouble(_finished_view((0.5, 0.4), reason="diverged")) == "The loss diverged."


def test_log_ticks_are_labelled_in_order_and_in_full() -> None:
    for values in ([0.3, 0.01], [1e10, 0.3], [0.05, 0.04], [2e-6, 3e-5], [4.2, 3.1]):
        fig = loss_figure(values, values)
        axis = fig.layout.yaxis
        ticks = list(axis.tickvals)
        assert ticks == sorted(ticks) == log_ticks(values)
        assert [float(t) for t in axis.ticktext] == ticks  # every label is its full value
        low, high = axis.range
        assert low <= math.log10(min(values)) and math.log10(max(values)) <= high


def test_the_embedding_models_loss_is_named_and_its_mse_shown_beside_it() -> None:
    at = open_app({"arch": "embedding", "epochs": "2", "n_series": "32", "seq_len": "16"}, TRAIN)
    at.button(key="train_button").click().run()
    run = at.session_state["_training_run"]
    assert run.job.wait(timeout=120)
    at.run()
    chart = loss_chart(at)
    assert chart["layout"]["yaxis"]["title"]["text"] == "loss: cross-entropy"
    mse = next(t for t in chart["data"] if t.get("yaxis") == "y2")
    assert mse["name"].startswith("validation MSE")
    assert list(mse["y"]) == list(run.job.snapshot().val_mses)
    assert any(m.label == "final validation MSE" for m in at.metric)
