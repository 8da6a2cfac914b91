"""The "what goes wrong" pitfalls run for real: PyTorch's own messages, fixes that work.

Oracles: each error message is compared with the text PyTorch raises when the test itself
makes the same mistake directly, and each fix's reported shape with a real forward pass of
this project's models (or of nn.LSTM) computed here.
"""

import ast
import math
import re
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from lstmae_demo import pitfalls
from lstmae_demo.nn import ActLSTM, RepeatVector
from lstmae_demo.archs import build_model
from lstmae_demo.pitfalls import (
    OUTCOMES,
    PITFALLS,
    PRELUDE,
    PitfallResult,
    execute,
    pitfalls_for,
    run_pitfall,
)
from lstmae_demo.spec import ARCHS, PUBLISHED, ModelSpec
from lstmae_demo.shapes.trace import trace

KEYS = tuple(PITFALLS)


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[PitfallResult, PitfallResult, float]]:
    """Each pitfall run twice: (first, second, seconds the second took: warm, no imports)."""
    out = {}
    for key in KEYS:
        first = run_pitfall(key)
        start = time.perf_counter()
        second = run_pitfall(key)
        out[key] = (first, second, time.perf_counter() - start)
    return out


def _real_error(make_mistake) -> str:
    """`Type: message` of what PyTorch raises for a mistake made directly in the test."""
    with pytest.raises(Exception) as info:
        make_mistake()
    return f"{type(info.value).__name__}: {info.value}"


# The same mistakes made directly, and the phrase PyTorch's message must contain.
DIRECT = {
    "keras_activation_kwarg": (
        lambda: nn.LSTM(1, 100, activation="relu", batch_first=True),
        "unexpected keyword argument 'activation'"),
    "missing_return_sequences": (
        lambda: F.mse_loss(torch.zeros(4, 1), torch.zeros(4, 9, 1)),
        "must match the size"),
    "embedding_float_input": (
        lambda: nn.Embedding(64, 32)(torch.rand(1, 50)),
        "Long, Int"),
    "embedding_index_out_of_range": (
        lambda: nn.Embedding(64, 32)(torch.tensor([[64]])),
        "index out of range"),
    "lstm_state_tuple": (
        lambda: nn.LSTM(32, 32, batch_first=True)(torch.randn(1, 50, 32), torch.zeros(1, 1, 32)),
        "out of bounds"),
    "ecg_batch_reshape": (
        lambda: torch.randn(2, 140, 1).reshape((1, 140, 1)),
        "is invalid for input of size 280"),
    "ecg_features_reshape": (
        lambda: torch.randn(1, 1, 128).reshape((2, 128)),
        "is invalid for input of size 128"),
    "state_shape": (
        lambda: nn.LSTM(1, 32, batch_first=True)(
            torch.randn(4, 20, 1), (torch.zeros(4, 32), torch.zeros(4, 32))),
        "should also be 3-D"),
    "state_batch_first": (
        lambda: nn.LSTM(1, 32, batch_first=True)(
            torch.randn(4, 20, 1), (torch.zeros(4, 1, 32), torch.zeros(4, 1, 32))),
        "Expected hidden[0] size (1, 4, 32), got [4, 1, 32]"),
}


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _expected_fix_text(key: str) -> list[str]:
    """Substrings the fix report must hold, computed here from real forward passes."""
    torch.manual_seed(1)
    if key == "keras_activation_kwarg":
        out, (h, _) = ActLSTM(1, 100, "relu")(torch.randn(1, 9, 1))
        n = sum(p.numel() for p in nn.LSTM(1, 100).parameters())
        return [f"output shape {_shape(out)}", f"h_n {_shape(h)}", f"{n} parameters"]
    if key == "missing_return_sequences":
        model = build_model(ModelSpec(arch="repeatvector", seq_len=9, units=100), seed=0)
        one, four = model(torch.rand(1, 9, 1)), model(torch.rand(4, 9, 1))
        return [_shape(one), _shape(four), "no warning"]
    if key in ("embedding_float_input", "embedding_index_out_of_range"):
        model = build_model(ModelSpec(arch="embedding", seq_len=50, units=32, bins=64), seed=0)
        x = torch.linspace(-1, 1, 50).reshape(1, 50, 1)
        return ["torch.int64 in [0, 63]", f"vectors shape {_shape(model.embed(model.quantize(x)))}"]
    if key == "lstm_state_tuple":
        lstm = nn.LSTM(32, 32, batch_first=True)
        x = torch.randn(1, 50, 32)
        return [f"output shape {_shape(lstm(x, lstm(x)[1])[0])}"]
    if key == "embedding_no_bottleneck":
        _, (h_n, _) = nn.LSTM(32, 32, batch_first=True)(torch.randn(1, 50, 32))
        return [f"code shape {_shape(h_n[-1])}", "32 numbers per series for 50 input values"]
    if key == "ecg_batch_reshape":
        z = build_model(PUBLISHED["hidden_n"], seed=0).encode(torch.randn(2, 140, 1))
        return [f"z shape {_shape(z)}"]
    if key == "ecg_features_reshape":
        spec = replace(PUBLISHED["hidden_n"], n_features=2)
        z = build_model(spec, seed=0).encode(torch.randn(1, 140, 2))
        return [f"z shape {_shape(z)}"]
    if key == "h_n_not_batch_first":
        output, (h_n, _) = nn.LSTM(1, 32, num_layers=2, batch_first=True)(torch.randn(4, 20, 1))
        assert torch.allclose(h_n[-1], output[:, -1])
        return [f"h_n[-1] shape {_shape(h_n[-1])}", "equals output[:, -1]: True"]
    if key == "ecg_decoder_repeat":
        x = RepeatVector(140)(torch.randn(2, 128))
        return [f"shape {_shape(x)}", "own code at 140 of 140 steps", "series 1's at 0"]
    if key == "batch_first_forgotten":
        output, (h_n, _) = nn.LSTM(1, 32, batch_first=True)(torch.randn(4, 20, 1))
        return [f"output shape {_shape(output)}", f"h_n {_shape(h_n)}"]
    if key in ("state_shape", "state_batch_first"):
        encoder, decoder = nn.LSTM(1, 32, batch_first=True), nn.LSTM(1, 32, batch_first=True)
        x = torch.randn(4, 20, 1)
        return [f"decoder output shape {_shape(decoder(x, encoder(x)[1])[0])}"]
    if key == "relu_lstm_diverges":
        return ["all finite"]
    raise AssertionError(f"no oracle for {key}: add one")


@pytest.mark.parametrize("key", KEYS)
def test_every_pitfall_runs_and_reports(runs, key):
    result, _, _ = runs[key]
    assert isinstance(result, PitfallResult)
    assert (result.key, result.arch) == (key, PITFALLS[key].arch)
    assert result.outcome in OUTCOMES
    assert result.outcome == PITFALLS[key].expects, result.message
    assert result.title and result.message and result.fix_result
    assert "\n" not in result.explanation and len(result.explanation) > 200
    assert result.code == PITFALLS[key].code and result.fix_code == PITFALLS[key].fix_code
    assert result.code != result.fix_code
    assert "failed" not in result.fix_result, result.fix_result


@pytest.mark.parametrize("key", KEYS)
def test_snippets_compile_and_the_shown_code_is_what_ran(runs, key):
    result, _, _ = runs[key]
    for source in (PRELUDE, result.code, result.fix_code):
        assert source.strip()
        compile(source, key, "exec")
    # Running the shown code ourselves reproduces the reported error (or the lack of one).
    again = execute(result.code)
    if result.outcome == "error":
        assert again.error is not None
        assert pitfalls.error_text(again.error) in result.message
    else:
        assert again.error is None
    assert execute(result.fix_code).error is None


@pytest.mark.parametrize("key", sorted(DIRECT))
def test_error_messages_are_pytorchs_own(runs, key):
    result, _, _ = runs[key]
    make_mistake, phrase = DIRECT[key]
    assert result.outcome == "error"
    assert phrase in result.message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        real = _real_error(make_mistake)
    assert real in result.message
    for warning in caught:  # e.g. MSELoss's broadcasting UserWarning
        assert f"{warning.category.__name__}: {warning.message}" in result.message


def test_every_error_pitfall_has_a_direct_oracle():
    assert {k for k, p in PITFALLS.items() if p.expects == "error"} == set(DIRECT)


def test_missing_return_sequences_shows_the_warning_then_the_error(runs):
    message = runs["missing_return_sequences"][0].message
    assert "Using a target size (torch.Size([1, 9, 1])) that is different to the input size " \
           "(torch.Size([1, 1]))" in message
    assert message.index("torch.Size([1, 9, 1])") < message.index("A batch of 4:") \
        < message.index("torch.Size([4, 9, 1])") < message.index("must match the size")


@pytest.mark.parametrize("key", KEYS)
def test_fix_result_matches_a_real_forward_pass(runs, key):
    fix_result = runs[key][0].fix_result
    for text in _expected_fix_text(key):
        assert text in fix_result, (text, fix_result)


def test_relu_diverges_and_tanh_stays_finite(runs):
    result = runs["relu_lstm_diverges"][0]
    assert result.outcome == "diverged"
    assert re.search(r"first non-finite loss \((inf|nan)\)", result.message), result.message
    final = re.search(r"final loss (\S+) after", result.fix_result)
    assert final and math.isfinite(float(final.group(1))), result.fix_result
    assert "activation=\"relu\"" in result.code and "activation=\"tanh\"" in result.fix_code


def test_silent_pitfalls_show_measured_wrongness(runs):
    h_n = runs["h_n_not_batch_first"][0].message
    assert "h_n (2, 4, 32)" in h_n and "equals output[:, -1]? False" in h_n
    assert "h_n[:, 0] (2, 32)" in h_n and "example 1's layer-1 state? True" in h_n
    bottleneck = runs["embedding_no_bottleneck"][0].message
    spec = ModelSpec(arch="embedding", seq_len=50, units=32, bins=64)
    assert f"holds {trace(spec).latent_per_example} numbers" in bottleneck
    assert f"only {trace(spec).input_per_example}" in bottleneck
    swapped = runs["batch_first_forgotten"][0].message
    assert "h_n is (1, 20, 32)" in swapped and "series 1's output: True" in swapped
    repeat = runs["ecg_decoder_repeat"][0].message
    assert "own code at 70 of 140 steps" in repeat


def test_runs_are_deterministic_and_fast(runs):
    for key, (first, second, seconds) in runs.items():
        assert first == second, key
        assert seconds < 1.0, (key, seconds)


def test_running_leaves_the_callers_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run_pitfall("h_n_not_batch_first")
    assert torch.equal(torch.rand(3), expected)


def test_pitfalls_for_covers_every_architecture():
    listed = set()
    for arch in ARCHS:
        keys = pitfalls_for(arch)
        assert keys and len(set(keys)) == len(keys), arch
        assert set(keys) <= set(PITFALLS), arch
        listed.update(keys)
    assert listed == set(PITFALLS)
    for key, pitfall in PITFALLS.items():
        assert key in pitfalls_for(pitfall.arch)
    with pytest.raises(ValueError, match="repeatvector"):
        pitfalls_for("transformer")


def test_unknown_key_is_a_value_error_naming_the_allowed_keys():
    with pytest.raises(ValueError) as info:
        run_pitfall("no_such_pitfall")
    assert not isinstance(info.value, KeyError)
    assert "no_such_pitfall" in str(info.value)
    for key in KEYS:
        assert key in str(info.value)


def test_readers_never_raise_when_a_snippet_misbehaves():
    broken = execute("raise RuntimeError('boom')")
    for pitfall in PITFALLS.values():
        assert pitfall.symptom(broken) == ("error", "RuntimeError: boom")
        assert pitfall.fixed(broken) == "the fix failed: RuntimeError: boom"
    empty = execute("pass")
    for pitfall in PITFALLS.values():
        outcome, message = pitfall.symptom(empty)
        assert outcome in OUTCOMES and message
        assert isinstance(pitfall.fixed(empty), str)


def test_long_messages_are_cut_to_six_lines():
    text = pitfalls.error_text(RuntimeError("\n".join(f"line {i}" for i in range(20))))
    assert text.splitlines() == ["RuntimeError: line 0", *[f"line {i}" for i in range(1, 6)], "..."]


def test_warnings_are_recorded_as_raised():
    run = execute("import warnings\nwarnings.warn('careful', UserWarning)\nvalue = 1")
    assert run.error is None and run.warnings == ("UserWarning: careful",) and run.names["value"] == 1


def test_module_imports_no_streamlit():
    tree = ast.parse(Path(pitfalls.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "streamlit" for name in imported)
    for pitfall in PITFALLS.values():
        assert "streamlit" not in pitfall.code + pitfall.fix_code
