"""Time-step views and plain-language verdicts, checked against real activations and traces."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.nn import HANDS_ON
from lstmae_demo.shapes.explain import bottleneck_sentence, named_shape, verdict
from lstmae_demo.shapes.probe import probe
from lstmae_demo.shapes.timesteps import step_views
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ARCHS, READS, ModelSpec, preset


def views_at(arch: str, t: int, seq_len: int = 9, **choices):
    spec = dataclasses.replace(preset(arch), seq_len=seq_len, units=5, **choices)
    tr = trace(spec, batch=1)
    model = build_model(spec, seed=0).eval()
    x = torch.rand(1, seq_len, 1) * 2 - 1
    seen = probe(model, tr, x)
    return {v.name: v for v in step_views(tr, seen, t)}, seen


@pytest.mark.parametrize("t", [0, 4, 8])
def test_last_output_only_is_sent_at_the_last_step(t: int) -> None:
    views, seen = views_at("repeatvector", t)
    encoder = views["encoder LSTM"]
    assert encoder.passes_on == HANDS_ON["last"]
    assert encoder.sent_at_t == (t == 8)
    # The numbers shown for step t are that step's real LSTM output.
    np.testing.assert_allclose(encoder.values, seen["encoder LSTM"].full_output[0, t].numpy())
    assert views["decoder LSTM"].sent_at_t and views["decoder LSTM"].passes_on == HANDS_ON["sequence"]


def test_repeat_vector_shows_the_same_code_at_every_step() -> None:
    views, seen = views_at("repeatvector", 8)
    over_time = views["RepeatVector"].over_time  # (T, U)
    np.testing.assert_array_equal(over_time, np.repeat(over_time[:1], 9, axis=0))
    np.testing.assert_allclose(views["RepeatVector"].values, seen["encoder LSTM"].output[0])


@pytest.mark.parametrize(("handoff", "passes"), [("h", "h_state"), ("hc", "state")])
def test_state_hand_off_and_backwards_decoder(handoff: str, passes: str) -> None:
    views, seen = views_at("encdec_ad", 3, handoff=handoff)
    assert views["encoder LSTM"].passes_on == HANDS_ON[passes]
    assert not views["encoder LSTM"].sent_at_t
    assert "backwards" in views["decoder LSTM"].produces
    np.testing.assert_allclose(views["decoder LSTM"].values, seen["decoder LSTM"].output[0, 3])


def test_quantized_ids_are_shown_as_tokens() -> None:
    views, seen = views_at("embedding", 2)
    token = int(seen["quantize"].output[0, 2])
    assert views["quantize"].produces == f"token id {token}"


def test_step_outside_the_sequence_is_refused() -> None:
    spec = preset("repeatvector")
    tr = trace(spec, 1)
    with pytest.raises(ValueError, match="t must be between 0 and 49"):
        step_views(tr, {}, 50)


@pytest.mark.parametrize("reads", READS)
def test_every_embedding_decoder_has_a_view_at_every_step(reads: str) -> None:
    for t in (0, 8):
        views, _ = views_at("embedding", t, reads=reads)
        assert all(v.passes_on in HANDS_ON.values() for v in views.values())
        assert views["encoder LSTM"].sent_at_t == (reads != "state" or t == 8)


SPECS = [preset(a) for a in ARCHS] + [ModelSpec(arch="embedding", reads=r) for r in READS] + [
    ModelSpec(arch="encdec_ad", handoff="hc")]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(s.to_dict().values()))
def test_verdict_agrees_with_the_trace(spec: ModelSpec) -> None:
    for units in (8, 64):
        tr = trace(dataclasses.replace(spec, units=units))
        sentence = bottleneck_sentence(tr)
        assert sentence.startswith("Bottleneck" if tr.has_bottleneck else "No bottleneck")
        assert f"{tr.latent_per_example} numbers per example" in sentence
        assert f"{tr.input_per_example} in the input" in sentence
        assert sentence in verdict(tr)


def test_named_shape() -> None:
    assert named_shape((32, 16), ("batch", "units")) == "(batch=32, units=16)"


def test_probe_runs_a_private_copy_so_learners_sharing_a_model_do_not_catch_each_other() -> None:
    """Two pages probing one shared trained model at once must not see each other's passes:
    a hook another page holds on the shared model never fires in this page's probe, and the
    shared model is left without probe hooks."""
    import torch

    from lstmae_demo.archs import build_model
    from lstmae_demo.shapes.probe import probe
    from lstmae_demo.shapes.trace import trace
    from lstmae_demo.spec import ModelSpec

    spec = ModelSpec(arch="hidden_n", seq_len=6, units=4)
    shared = build_model(spec, seed=3).eval()
    tr = trace(spec, 1)
    seen = []
    layer = next(r.module for r in tr.layers if r.module is not None)
    other_page = shared.get_submodule(layer).register_forward_hook(
        lambda *_: seen.append("caught"))
    x = torch.randn(1, 6, 1)
    observed = probe(shared, tr, x)
    other_page.remove()
    assert seen == []  # the other page's hook saw nothing of this probe
    assert not any(m._forward_hooks for m in shared.modules())
    with torch.no_grad():
        expected = shared.reconstruct(x)
    last = tr.layers[-1].name
    torch.testing.assert_close(observed[last].output, expected)  # same weights, same numbers
