"""The architecture diagram's labels for a projector and a phone (plots.architecture_figure)
and the bottleneck meter's layout (plots.bottleneck_figure)."""

from __future__ import annotations

import pytest

from lstmae_demo.plots import CODE_MARK, architecture_figure, bottleneck_figure
from lstmae_demo.settings import ARCHS
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import preset


@pytest.mark.parametrize("arch", ARCHS)
def test_axis_names_are_upright_and_readable(arch: str) -> None:
    tr = trace(preset(arch))
    texts = {a.text: a.font.size for a in architecture_figure(tr).layout.annotations}
    for rec in tr.layers[:-1]:
        if rec.passes in ("state", "sequence_state"):
            continue  # these arrows are named "h_n, c_n"
        axes = ", ".join(rec.axes)
        assert texts.get(axes, 0) >= 13, (axes, texts)  # not "<i>...</i>" at 11 px
    assert not any("<i>" in text for text in texts)


def test_text_scale_enlarges_every_label() -> None:
    tr = trace(preset("embedding"))
    plain = architecture_figure(tr).layout.annotations
    large = architecture_figure(tr, text_scale=1.5).layout.annotations
    assert [a.text for a in plain] == [a.text for a in large]
    sized = [(a.font.size, b.font.size) for a, b in zip(plain, large, strict=True)
             if a.font.size]
    assert sized and all(big == round(small * 1.5) for small, big in sized)


def test_bottleneck_meter_names_each_layer_on_its_own_row() -> None:
    tr = trace(preset("hidden_n"))
    fig = bottleneck_figure(tr)
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == [r.name + (CODE_MARK if r.name == tr.latent else "")
                           for r in tr.layers]
    assert list(bar.x) == [r.numbers_per_example for r in tr.layers]
    assert any(a.text == f"input: {tr.input_per_example}" for a in fig.layout.annotations)
