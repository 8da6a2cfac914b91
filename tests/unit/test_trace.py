"""The tracer against the truth: a real forward pass with hooks on every traced module."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import valid_specs
from torch import nn

from lstmae_demo.archs import PUBLISHED, build_model, count_params
from lstmae_demo.nn import HANDS_ON, ActLSTM
from lstmae_demo.shapes.probe import probe
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ACTIVATIONS, ARCHS, HANDOFFS, READS, ModelSpec, preset


def check_against_forward_pass(spec: ModelSpec, batch: int) -> None:
    """Every record's shapes and parameter count equal what the real model does."""
    tr = trace(spec, batch)
    model = build_model(spec, seed=0).train()  # train: encdec_ad's decoder runs as one call
    x = torch.rand(batch, spec.seq_len, spec.n_features) * 2 - 1
    seen = probe(model, tr, x)
    for rec in tr.layers:
        got = seen[rec.name]
        assert tuple(got.output.shape) == rec.output_shape, rec.name
        assert len(rec.axes) == len(rec.output_shape), rec.name
        assert rec.dtype == str(got.output.dtype).removeprefix("torch."), rec.name
        if rec.module is not None:
            assert count_params(model.get_submodule(rec.module)) == rec.params_torch, rec.name
        if rec.kind == "LSTM":
            assert tuple(got.full_output.shape) == rec.full_output_shape, rec.name
            assert tuple(got.h_n.shape) == rec.h_n, rec.name
            assert tuple(got.c_n.shape) == rec.c_n, rec.name
        check_what_is_passed_on(rec.passes, got)
    # The records cover the whole model: no parameter is left uncounted.
    assert tr.params_torch == count_params(model)
    out = model(x)
    assert tuple(out.shape) == tr.output_shape
    assert tuple(model.reconstruct(x).shape) == tr.reconstruction_shape
    assert tuple(model.encode(x).shape) == (batch, tr.latent_per_example)
    model.eval()  # inference (encdec_ad feeds back its own predictions) keeps the shapes
    with torch.no_grad():
        assert tuple(model(x).shape) == tr.output_shape


def check_what_is_passed_on(passes: str, got) -> None:
    """The record's `passes` says which of the layer's numbers the next layer really gets."""
    assert passes in HANDS_ON
    if passes == "sequence" and got.full_output is not None:
        assert torch.equal(got.output, got.full_output)  # every step
    elif passes == "last":
        assert torch.allclose(got.output, got.full_output[:, -1])  # == h_n[-1]
        assert torch.allclose(got.output, got.h_n[-1])
    elif passes == "h_n":
        assert torch.allclose(got.output, got.h_n[-1])
        assert torch.allclose(got.output, got.full_output[:, -1])
    elif passes == "state":
        assert torch.equal(got.output, got.h_n) and torch.equal(got.c_n_out, got.c_n)
    elif passes == "h_state":  # h handed over, the decoder's c starts at zero
        assert torch.equal(got.output, got.h_n)
        assert torch.equal(got.c_n_out, torch.zeros_like(got.c_n))
    elif passes == "sequence_state":  # every output, and the final (h, c) beside them
        assert torch.equal(got.output, got.full_output)
        assert torch.equal(got.h_n_out, got.h_n) and torch.equal(got.c_n_out, got.c_n)
    elif passes == "repeat":
        assert torch.equal(got.output, got.output[:, :1].expand_as(got.output))  # copies
    elif passes == "reversed":  # h_D(L) = h_E(L), then the rest run backwards
        assert torch.equal(got.output[:, :-1].flip(1), got.full_output)


CHOICES = [preset(a) for a in ARCHS if a not in ("embedding", "encdec_ad")] + [
    ModelSpec(arch="embedding", reads=r) for r in READS] + [
    ModelSpec(arch="encdec_ad", handoff=h, decoder=d) for h in HANDOFFS
    for d in ("conditional", "unconditioned")]


@pytest.mark.parametrize("spec", CHOICES, ids=lambda s: "-".join(s.to_dict().values()))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch", [1, 3])
def test_every_arch_and_choice_matches_forward_pass(spec: ModelSpec, activation: str,
                                                    batch: int) -> None:
    check_against_forward_pass(dataclasses.replace(spec, activation=activation), batch)


@pytest.mark.parametrize(
    "spec",
    [
        ModelSpec(arch="repeatvector", seq_len=2, n_features=5, units=1),
        ModelSpec(arch="repeatvector", seq_len=1, n_features=2, units=3),  # Keras accepts T=1
        ModelSpec(arch="hidden_n", seq_len=1, units=2),
        ModelSpec(arch="embedding", seq_len=1, units=2, bins=3, reads="attention"),
        ModelSpec(arch="hidden_n", seq_len=7, n_features=3, units=4),  # the tutorial can't
        ModelSpec(arch="embedding", seq_len=3, units=5, bins=2),
        ModelSpec(arch="encdec_ad", seq_len=2, n_features=2, units=3, decoder="unconditioned"),
        ModelSpec(arch="encdec_ad", seq_len=6, n_features=4, units=8, decoder="conditional"),
    ],
    ids=lambda s: f"{s.arch}-T{s.seq_len}-F{s.n_features}-U{s.units}",
)
def test_edge_configurations_match_forward_pass(spec: ModelSpec) -> None:
    check_against_forward_pass(spec, batch=2)


specs = valid_specs()


@settings(max_examples=60, deadline=None)
@given(spec=specs, batch=st.integers(1, 4))
def test_random_specs_match_forward_pass(spec: ModelSpec, batch: int) -> None:
    check_against_forward_pass(spec, batch)


def test_published_parameter_counts() -> None:
    """The two tutorials' own sizes give their published counts (docs/sources.md)."""
    rv, ecg = PUBLISHED["repeatvector"], PUBLISHED["hidden_n"]
    assert count_params(build_model(ecg)) == trace(ecg).params_torch == 990_465
    assert count_params(build_model(rv)) == trace(rv).params_torch == 122_101
    assert trace(rv).params_keras == 121_301  # Keras's own summary (checked in test_codegen_keras)


def test_keras_and_torch_counts_differ_by_one_bias_per_gate() -> None:
    tr = trace(preset("hidden_n"))
    for rec in tr.layers:
        units = rec.output_shape[-1] if rec.kind == "LSTM" else 0
        assert rec.params_torch - rec.params_keras == 4 * units


@pytest.mark.parametrize("spec", CHOICES, ids=lambda s: "-".join(s.to_dict().values()))
def test_bottleneck_verdict(spec: ModelSpec) -> None:
    tr = trace(spec)
    assert tr.compression == tr.input_per_example / tr.latent_per_example
    no_bottleneck_note = any("No bottleneck" in n or "No fixed-size code" in n for n in tr.notes)
    assert no_bottleneck_note == (not tr.has_bottleneck)


def test_what_the_decoder_reads_decides_the_embedding_bottleneck() -> None:
    """Final state only: a fixed 2U-number code; attention or step by step: every output."""
    t, u = 40, 8
    state, attention, steps = (trace(ModelSpec(arch="embedding", seq_len=t, units=u, reads=r))
                               for r in ("state", "attention", "steps"))
    assert state.has_bottleneck and state.latent_per_example == 2 * u
    assert not attention.has_bottleneck and attention.latent_per_example == t * u + 2 * u
    assert not steps.has_bottleneck and steps.latent_per_example == t * u
    assert not attention.code.fixed_size and not steps.code.fixed_size


def test_the_encdec_ad_handoff_is_counted_as_handed_over() -> None:
    h, hc = (trace(ModelSpec(arch="encdec_ad", handoff=x)) for x in ("h", "hc"))
    assert h.latent_per_example == 32 and hc.latent_per_example == 64
    assert h.has_bottleneck and not hc.has_bottleneck  # T = 50 inputs: 32 < 50 <= 64


def test_sequence_versus_vector_axes() -> None:
    tr = trace(preset("repeatvector"), batch=8)
    kinds = [(r.name, r.is_sequence) for r in tr.layers]
    assert kinds == [("input", True), ("encoder LSTM", False), ("RepeatVector", True),
                     ("decoder LSTM", True), ("output Linear", True)]
    assert tr.record("encoder LSTM").axes == ("batch", "units")
    assert tr.record("encoder LSTM").h_n == (1, 8, 32)


def test_h_n_and_last_output_are_the_same_numbers() -> None:
    """Keras's return_sequences=False output == output[:, -1] == h_n[-1] (one direction)."""
    rnn = nn.LSTM(3, 5, batch_first=True)
    output, (h_n, _) = rnn(torch.randn(4, 6, 3))
    assert torch.allclose(output[:, -1], h_n[-1])


def test_act_lstm_with_tanh_is_nn_lstm() -> None:
    """The relu-capable LSTM is exactly nn.LSTM's arithmetic when given tanh."""
    torch.manual_seed(0)
    reference = nn.LSTM(3, 7, batch_first=True)
    ours = ActLSTM(3, 7, activation="tanh")
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(2, 9, 3)
    state = (torch.randn(1, 2, 7), torch.randn(1, 2, 7))
    (o1, (h1, c1)), (o2, (h2, c2)) = reference(x, state), ours(x, state)
    for a, b in [(o1, o2), (h1, h2), (c1, c2)]:
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("bad", [(4, 7), (4, 1, 7), (1, 1, 7)])
def test_act_lstm_rejects_a_misshapen_state_like_nn_lstm(bad: tuple[int, ...]) -> None:
    x, ours = torch.randn(4, 5, 3), ActLSTM(3, 7, activation="relu")
    state = (torch.zeros(bad), torch.zeros(bad))
    with pytest.raises(RuntimeError) as theirs:
        nn.LSTM(3, 7, batch_first=True)(x, state)
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 4, 7\\)"):
        ours(x, state)
    assert theirs.value  # nn.LSTM refuses it too (its wording differs for 2-D states)


def test_to_dict_is_json_ready() -> None:
    import json

    data = json.loads(json.dumps(trace(preset("encdec_ad"), 2).to_dict()))
    assert data["latent_shape"] == [1, 2, 32]  # h_n handed over, as the paper does
    assert data["latent_per_example"] == 32
    assert [layer["key"] for layer in data["layers"]] == [
        "input", "encoder_lstm", "decoder_lstm", "output_linear"]


def test_bad_batch_is_rejected() -> None:
    with pytest.raises(ValueError, match="batch must be"):
        trace(preset("repeatvector"), batch=0)


def test_seeded_builds_are_the_seed_s_weights_even_when_threads_build_at_once() -> None:
    """Every build draws from torch's one generator; concurrent builds must not interleave."""
    import threading

    spec = preset("hidden_n")
    expected = build_model(spec, seed=3).state_dict()
    results, start = [], threading.Barrier(6)

    def build() -> None:
        start.wait()
        for _ in range(5):
            results.append(build_model(spec, seed=3).state_dict())
            build_model(spec)  # an unseeded build between seeded ones must not disturb them

    threads = [threading.Thread(target=build) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 30
    for state in results:
        assert all(torch.equal(state[k], expected[k]) for k in expected)
