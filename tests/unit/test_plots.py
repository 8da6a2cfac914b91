"""The reconstruction panels stay readable with several features: each named and coloured."""

from __future__ import annotations

import math

import numpy as np

from lstmae_demo.plots import reconstruction_figure


def test_several_features_get_a_named_colour_each_and_their_own_numbers() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 7, 3)), rng.normal(size=(2, 7, 3))
    fig = reconstruction_figure(x, y)
    shown = [t.name for t in fig.data if t.showlegend]
    assert shown == [f"feature {f} {kind}" for f in (1, 2, 3)
                     for kind in ("input", "reconstruction")]
    for f in range(3):
        traces = [t for t in fig.data if t.name.startswith(f"feature {f + 1} ")]
        assert len(traces) == 4  # input and reconstruction in each of the two panels
        assert len({t.line.color for t in traces}) == 1  # one colour per feature
        solid = [t for t in traces if t.name.endswith("input")]
        np.testing.assert_allclose([t.y for t in solid], x[:, :, f])
        dashed = [t for t in traces if t.name.endswith("reconstruction")]
        assert all(t.line.dash == "dash" for t in dashed)
        np.testing.assert_allclose([t.y for t in dashed], y[:, :, f])
    colours = {t.line.color for t in fig.data}
    assert len(colours) == 3  # told apart by colour, not only by the legend


def test_one_feature_keeps_the_plain_input_and_reconstruction_legend() -> None:
    x = np.zeros((3, 5, 1))
    fig = reconstruction_figure(x, x + 0.5, first=4)
    assert [t.name for t in fig.data if t.showlegend] == ["input", "reconstruction"]
    assert [a.text for a in fig.layout.annotations] == ["series 4", "series 5", "series 6"]


def test_a_legend_asked_below_sits_under_the_panels_with_room_for_it() -> None:
    """The Train page's narrow column asks for it: beside the title it ran into the title."""
    x = np.zeros((4, 5, 1))
    beside, below = reconstruction_figure(x, x, title="t"), reconstruction_figure(
        x, x, title="t", legend_below=True)
    assert (beside.layout.legend.yanchor, below.layout.legend.yanchor) == ("top", "bottom")
    assert below.layout.legend.y < 0.1 and below.layout.margin.b >= 60
    assert below.layout.height > beside.layout.height  # the panels keep their own height


def test_epoch_axes_tick_whole_epochs_only() -> None:
    """A 3-epoch run's axis read 1, 1.5, 2, ...: there is no epoch 1.5."""
    from lstmae_demo.compare_plots import mse_curves
    from lstmae_demo.plots import loss_figure

    def ticks(axis) -> list[float]:
        low, high = axis.range
        first = axis.tick0 + axis.dtick * math.ceil((low - axis.tick0) / axis.dtick)
        return list(np.arange(first, high, axis.dtick))

    for epochs in (1, 3, 7, 10, 11, 40, 300):
        losses = [1.0 / (i + 1) for i in range(epochs)]
        for fig in (loss_figure(losses, losses, total_epochs=epochs),
                    mse_curves([], "epoch", None, epochs)):
            shown = ticks(fig.layout.xaxis)
            assert shown and all(float(t).is_integer() and 1 <= t <= epochs for t in shown)
            assert len(shown) <= 10 and (epochs > 10 or len(shown) == epochs)
