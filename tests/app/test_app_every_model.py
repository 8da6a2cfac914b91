"""Every page renders every architecture and every choice, and says what the trace says."""

from __future__ import annotations

import itertools

import pytest
from apptest_helpers import (
    ARCHITECTURE,
    HOME,
    TIMESTEPS,
    TRAIN,
    chart_specs,
    loss_chart,
    open_app,
    page_text,
    sampled,
)

from lstmae_demo import codegen
from lstmae_demo.archs import get_arch
from lstmae_demo.config import AppConfig
from lstmae_demo.nn import HANDS_ON
from lstmae_demo.plots import LAYER_FILL
from lstmae_demo.settings import ARCHS, KNOBS
from lstmae_demo.shapes.explain import verdict
from lstmae_demo.shapes.trace import trace
from lstmae_demo.ui.views import spec_for


def _models() -> list[dict[str, str]]:
    """Every architecture with every combination of its own choices (relu on the last)."""
    out = []
    for arch in ARCHS:
        own = [k for k in KNOBS if k.group == "model" and k.choices and k.name
               not in ("arch", "activation") and k.applies_to(arch)]
        combos = list(itertools.product(*[k.choices for k in own])) or [()]
        for i, combo in enumerate(combos):
            params = {"arch": arch, "seq_len": "12", "units": "6"} | {
                k.name: v for k, v in zip(own, combo, strict=True)}
            if i == len(combos) - 1:
                params["activation"] = "relu"
            out.append(params)
    return out


MODELS = _models()
IDS = ["-".join(v for k, v in m.items() if k not in ("seq_len", "units")) for m in MODELS]


def _config(params: dict[str, str]) -> AppConfig:
    return AppConfig.default().with_values(**params)


def test_the_models_cover_every_choice() -> None:
    for knob in KNOBS:
        if knob.group == "model" and knob.choices and knob.name != "arch":
            assert {m.get(knob.name, knob.default) for m in MODELS} == set(knob.choices)


@pytest.mark.parametrize("params", sampled(MODELS, IDS))
def test_home_cards_give_each_models_verdict(params: dict[str, str]) -> None:
    at = open_app(params, HOME)
    config = _config(params)
    text = page_text(at)
    for arch in ARCHS:
        assert verdict(trace(spec_for(config, arch), config.batch)) in text, arch
    assert sorted(b.label for b in at.button) == sorted(f"Open {a} layer by layer" for a in ARCHS)


@pytest.mark.parametrize("params", sampled(MODELS, IDS))
def test_architecture_page_shows_this_model(params: dict[str, str]) -> None:
    at = open_app(params, ARCHITECTURE)
    spec = _config(params).spec
    tr = trace(spec, 32)
    assert params["arch"] in at.title[0].value
    table, keras = at.dataframe[0].value, at.dataframe[1].value
    assert [n.split("  ")[0] for n in table["layer"]] == [r.name for r in tr.layers]
    assert list(keras["Layer (type)"]) == [f"{r.name} ({r.kind})" for r in codegen.keras_rows(spec)]
    assert list(keras["Output Shape"]) == [r.output_shape for r in codegen.keras_rows(spec)]
    # The Keras parameter count in the headline is the summary's total.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["parameters (Keras)"] == f"{sum(r.params for r in codegen.keras_rows(spec)):,}"
    assert verdict(tr) in page_text(at)
    assert get_arch(spec.arch).validity(spec) in page_text(at)
    diagram = next(s for s in chart_specs(at) if any(
        sh.get("fillcolor") == LAYER_FILL for sh in s["layout"].get("shapes", [])))
    boxes = [sh for sh in diagram["layout"]["shapes"] if sh.get("fillcolor") == LAYER_FILL]
    assert len(boxes) == len(tr.layers)
    if any(r.kind == "Attention" for r in tr.layers):
        labels = " ".join(a.get("text", "") for a in diagram["layout"]["annotations"])
        assert "every encoder output" in labels


@pytest.mark.parametrize("params", sampled(MODELS, IDS))
def test_train_page_names_its_loss_and_what_its_curves_mean(params: dict[str, str]) -> None:
    at = open_app(params, TRAIN)
    spec = _config(params).spec
    loss_name = get_arch(spec.arch).model.loss_name
    assert loss_chart(at)["layout"]["yaxis"]["title"]["text"] == f"loss: {loss_name}"
    captions = " ".join(c.value for c in at.caption)
    assert ("copying trap" in captions) == (not trace(spec, 1).has_bottleneck)
    teacher_forced = spec.arch == "encdec_ad" and spec.decoder == "conditional"
    assert ("teacher forcing" in captions) == teacher_forced


@pytest.mark.parametrize("params", sampled(MODELS, IDS))
def test_time_steps_page_shows_every_layer_in_one_vocabulary(params: dict[str, str]) -> None:
    at = open_app(params, TIMESTEPS)
    tr = trace(_config(params).spec, 1)
    assert [s.value for s in at.subheader] == [r.name for r in tr.layers]
    flow = next(s for s in chart_specs(at) if s["data"][0]["type"] == "heatmap")
    words = {w.split(": ", 1)[-1].split("hands on ", 1)[-1]
             for row in flow["data"][0]["customdata"] for w in row}
    assert words == {HANDS_ON[r.passes] for r in tr.layers}


@pytest.mark.parametrize("arch", sampled(ARCHS))
@pytest.mark.parametrize("page_path", [HOME, ARCHITECTURE, TRAIN, TIMESTEPS])
def test_one_time_step_renders_or_says_why_not(arch: str, page_path: str) -> None:
    at = open_app({"arch": arch, "seq_len": "1"}, page_path)
    if arch == "encdec_ad":  # the link's T = 1 is refused for encdec_ad, with the reason
        assert any("encdec_ad needs seq_len >= 2" in t.value for t in at.text)
    if page_path == HOME:
        text = page_text(at)
        assert "Not possible at the sidebar's settings (T = 1)" in text or arch == "encdec_ad"


@pytest.mark.parametrize("params", sampled(MODELS, IDS))
def test_the_flow_chart_agrees_with_the_time_steps_views(params: dict[str, str]) -> None:
    """The chart marks as handed on exactly the steps whose view (shapes.timesteps, built
    from a forward pass of the model) says the next layer receives them."""
    import torch

    from lstmae_demo.archs import build_model
    from lstmae_demo.plots import flow_figure
    from lstmae_demo.shapes.probe import probe
    from lstmae_demo.shapes.timesteps import step_views

    spec = _config(params).spec
    tr = trace(spec, 1)
    observed = probe(build_model(spec, seed=0).eval(), tr, torch.rand(1, spec.seq_len,
                                                                      spec.n_features))
    words = flow_figure(tr).data[0].customdata
    for t in range(spec.seq_len):
        sent = [view.sent_at_t for view in step_views(tr, observed, t)]
        assert [row[t].startswith("handed on") for row in words] == sent, t
