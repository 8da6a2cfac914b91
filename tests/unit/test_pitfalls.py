"""The "what goes wrong" pitfalls run for real: PyTorch's own messages, fixes that work.

Oracles: each error message is compared with the text PyTorch raises when the test itself
makes the same mistake directly, and each fix's reported shape with a real forward pass of
this project's models (or of nn.LSTM) computed here. Keras's recorded behaviour is held to
real Keras in test_pitfalls_keras.py.
"""

import math
import re
import warnings
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from lstmae_demo import pitfalls
from lstmae_demo.archs import PUBLISHED, REGISTRY, build_model
from lstmae_demo.nn import ActLSTM, RepeatVector
from lstmae_demo.pitfalls import (
    MEASURED,
    OUTCOMES,
    PITFALLS,
    PYTORCH,
    ExecutedPitfall,
    PitfallResult,
    RecordedPitfall,
    execute,
    pitfall_keys,
    run_pitfall,
)
from lstmae_demo.pitfalls.catalogue import MISSING_RETURN_SEQUENCES
from lstmae_demo.pitfalls.runner import recorded
from lstmae_demo.spec import ModelSpec

KEYS = tuple(PITFALLS)
EXECUTED = tuple(k for k, p in PITFALLS.items() if isinstance(p, ExecutedPitfall))


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[PitfallResult, PitfallResult, int]]:
    """Each pitfall run twice: (first, second, optimizer steps the second one took)."""
    out = {}
    for key in KEYS:
        first = run_pitfall(key)
        second, steps = _counting_optimizer_steps(run_pitfall, key)
        out[key] = (first, second, steps)
    return out


def _counting_optimizer_steps(call, *args):
    """`call(*args)` and the number of optimizer steps (of any optimizer) it took."""
    steps = []
    hook = register_optimizer_step_post_hook(lambda *_: steps.append(1))
    try:
        return call(*args), len(steps)
    finally:
        hook.remove()


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
    "torch_last_step_only": (
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


def _keras_shape(dims) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ")"


def _expected_fix_text(key: str) -> list[str]:
    """Substrings the fix report must hold, computed here from real forward passes."""
    torch.manual_seed(1)
    if key == "keras_activation_kwarg":
        out, (h, _) = ActLSTM(1, 100, "relu")(torch.randn(1, 9, 1))
        n = sum(p.numel() for p in nn.LSTM(1, 100).parameters())
        return [f"output shape {_shape(out)}", f"h_n {_shape(h)}", f"{n} parameters"]
    if key == "missing_return_sequences":  # the record itself is held to Keras elsewhere
        fix = recorded(MISSING_RETURN_SEQUENCES)["fix"]
        return [f"output shape {_keras_shape(fix['output_shape'])}", f"{fix['params']} parameters",
                f"fit() ran {fix['epochs']} epochs with no error and no warning"]
    if key == "torch_last_step_only":
        model = build_model(ModelSpec(arch="repeatvector", seq_len=9, units=100), seed=0)
        one, four = model(torch.rand(1, 9, 1)), model(torch.rand(4, 9, 1))
        return [_shape(one), _shape(four), "no warning"]
    if key in ("embedding_float_input", "embedding_index_out_of_range"):
        ids = torch.bucketize(torch.linspace(-1, 1, 50), torch.linspace(-1, 1, 65)[1:-1])
        vectors = nn.Embedding(64, 32)(ids.reshape(1, 50))
        return [f"{ids.dtype} in [0, 63]", f"vectors shape {_shape(vectors)}"]
    if key == "lstm_state_tuple":
        lstm = nn.LSTM(32, 32, batch_first=True)
        x = torch.randn(1, 50, 32)
        return [f"output shape {_shape(lstm(x, lstm(x)[1])[0])}"]
    if key == "embedding_no_bottleneck":
        _, (h_n, c_n) = nn.LSTM(16, 16, batch_first=True)(torch.randn(1, 50, 16))
        return [f"h_n {_shape(h_n)} and c_n {_shape(c_n)}",
                f"{h_n[:, 0].numel() + c_n[:, 0].numel()} numbers per series for 50 input values"]
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
    assert result.key == key
    assert result.outcome in OUTCOMES
    assert result.outcome == PITFALLS[key].expects, result.message
    assert result.title and result.message and result.fix_result
    assert "\n" not in result.explanation and len(result.explanation) > 200
    assert result.code == PITFALLS[key].code and result.fix_code == PITFALLS[key].fix_code
    assert result.code != result.fix_code
    assert "failed" not in result.fix_result, result.fix_result


@pytest.mark.parametrize("key", EXECUTED)
def test_snippets_compile_and_the_shown_code_is_what_ran(runs, key):
    result, _, _ = runs[key]
    for source in (result.code, result.fix_code):
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
    assert result.message_source == PYTORCH
    assert phrase in result.message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        real = _real_error(make_mistake)
    assert real in result.message
    for warning in caught:  # e.g. MSELoss's broadcasting UserWarning
        assert f"{warning.category.__name__}: {warning.message}" in result.message


def test_every_executed_error_pitfall_has_a_direct_oracle():
    assert {k for k in EXECUTED if PITFALLS[k].expects == "error"} == set(DIRECT)


def test_a_pytorch_message_holds_only_pytorchs_text(runs):
    """A box labelled "PyTorch" shows the raised warnings and exception, and nothing else."""
    for key in DIRECT:
        run = execute(PITFALLS[key].code)
        expected = "\n".join([*run.warnings, pitfalls.error_text(run.error)])
        assert runs[key][0].message == expected, key


@pytest.mark.parametrize("key", KEYS)
def test_the_message_says_where_it_comes_from(runs, key):
    result = runs[key][0]
    if isinstance(PITFALLS[key], RecordedPitfall):
        version = recorded(PITFALLS[key].record)["keras_version"]
        assert result.message_source == f"Keras {version} (recorded)"
    elif result.outcome == "error":
        assert result.message_source == PYTORCH
    else:
        assert result.message_source == MEASURED


def test_keras_pitfall_shows_keras_recorded_message_not_pytorchs(runs):
    result = runs["missing_return_sequences"][0]
    record = recorded(MISSING_RETURN_SEQUENCES)
    assert record["faulty"]["error"] in result.message
    assert result.message.splitlines()[0] == record["faulty"]["error"]
    assert "TimeDistributed" in result.message and "torch" not in result.message.lower()
    assert f"output shape {_keras_shape(record['dense']['output_shape'])}" in result.message
    assert "import keras" in result.code and "import torch" not in result.code
    assert "return_sequences=True" in result.fix_code and "return_sequences" not in \
        result.code.replace("return_sequences=True forgotten", "")
    line = result.code.splitlines()[record["faulty"]["error_line"] - 1].strip()
    assert f"`{line}`" in result.message


def test_a_damaged_record_is_reported_not_raised():
    broken = replace(PITFALLS["missing_return_sequences"], record="no_such_record.json")
    symptom, fix_result = broken.observe()
    assert symptom.outcome in OUTCOMES and "could not be read" in symptom.message
    assert "could not be read" in fix_result


def test_torch_last_step_only_shows_the_warning_then_the_error(runs):
    message = runs["torch_last_step_only"][0].message
    assert "Using a target size (torch.Size([1, 9, 1])) that is different to the input size " \
           "(torch.Size([1, 1]))" in message
    assert message.index("torch.Size([1, 9, 1])") < message.index("torch.Size([4, 9, 1])") \
        < message.index("must match the size")


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


def test_what_the_tanh_run_does_is_said_as_measured(runs):
    """The tanh run's ending is compared with its start as the run itself has it."""
    losses = execute(PITFALLS["relu_lstm_diverges"].fix_code).names["losses"]
    fix_result = runs["relu_lstm_diverges"][0].fix_result
    if losses[-1] < losses[0]:
        assert f"below the first step's {losses[0]:.4g}: it learns" in fix_result
    else:
        assert f"not below the first step's {losses[0]:.4g}" in fix_result
        assert "does not learn" in fix_result
    assert "recover" not in PITFALLS["relu_lstm_diverges"].explanation


def test_silent_pitfalls_show_measured_wrongness(runs):
    h_n = runs["h_n_not_batch_first"][0].message
    assert "h_n (2, 4, 32)" in h_n and "equals output[:, -1]? False" in h_n
    assert "h_n[:, 0] (2, 32)" in h_n and "example 1's layer-0 state? True" in h_n
    bottleneck = runs["embedding_no_bottleneck"][0].message
    outputs, _ = nn.LSTM(16, 16, batch_first=True)(torch.randn(1, 50, 16))
    per_series = outputs[0].numel()
    assert per_series >= 50  # T x U numbers for T input values
    assert f"outputs {_shape(outputs)}, {per_series} numbers per series" in bottleneck
    assert "of 50 values" in bottleneck
    swapped = runs["batch_first_forgotten"][0].message
    assert "h_n is (1, 20, 32)" in swapped and "series 1's output: True" in swapped
    repeat = runs["ecg_decoder_repeat"][0].message
    assert "own code at 70 of 140 steps" in repeat


def test_h_n_message_counts_layers_and_examples_from_zero(runs):
    """One convention in one message: Python's indexes, from 0, for layers and examples alike."""
    message = runs["h_n_not_batch_first"][0].message
    assert "counted from 0" in message
    lines = {line.split(" ", 1)[0]: line for line in message.splitlines()}
    assert "(it is layer 0, not the top layer 1)" in lines["h_n[0]"]  # h_n[0]: index 0
    assert "(example 0 in each layer)" in lines["h_n[:,"]  # h_n[:, 0]: index 0
    # view(4, -1)'s row 0 is h_n[0, 0] then h_n[0, 1]: layer index 0, example index 1.
    assert "ends with example 1's layer-0 state? True" in lines["h_n.view(4,"]


def test_runs_are_deterministic_and_only_the_relu_pitfall_trains(runs):
    """What each page view costs, counted rather than timed: wall-clock time depends on the
    machine and its load, optimizer steps do not. Only the relu pitfall trains: exactly as many
    Adam steps as its two snippets record losses (24 each); every other pitfall runs forward
    passes only."""
    for key, (first, second, steps) in runs.items():
        assert first == second, key
        if key == "relu_lstm_diverges":
            pitfall = PITFALLS[key]
            logged = sum(len(execute(code).names["losses"])
                         for code in (pitfall.code, pitfall.fix_code))
            assert steps == logged == 48, (steps, logged)
        else:
            assert steps == 0, (key, steps)


def test_running_leaves_the_callers_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run_pitfall("h_n_not_batch_first")
    assert torch.equal(torch.rand(3), expected)


def test_pitfall_keys_are_the_catalogues():
    assert pitfall_keys() == KEYS and len(set(KEYS)) == len(KEYS)
    assert all(p.key == k for k, p in PITFALLS.items())
    assert not hasattr(pitfalls, "pitfalls_for") and not hasattr(pitfalls, "BY_ARCH")
    assert "arch" not in {f for f in PitfallResult.__dataclass_fields__}


def test_unknown_key_is_a_value_error_naming_the_allowed_keys():
    with pytest.raises(ValueError) as info:
        run_pitfall("no_such_pitfall")
    assert not isinstance(info.value, KeyError)
    assert "no_such_pitfall" in str(info.value)
    for key in KEYS:
        assert key in str(info.value)


def test_readers_never_raise_when_a_snippet_misbehaves():
    broken = execute("raise RuntimeError('boom')")
    for key in EXECUTED:
        pitfall = PITFALLS[key]
        assert pitfall.symptom(broken) == ("error", "RuntimeError: boom", PYTORCH)
        assert pitfall.fixed(broken) == "the fix failed: RuntimeError: boom"
    empty = execute("pass")
    for key in EXECUTED:
        outcome, message, source = PITFALLS[key].symptom(empty)
        assert outcome in OUTCOMES and message and source in (PYTORCH, MEASURED)
        assert isinstance(PITFALLS[key].fixed(empty), str)


def test_long_messages_are_cut_to_six_lines():
    text = pitfalls.error_text(RuntimeError("\n".join(f"line {i}" for i in range(20))))
    assert text.splitlines() == ["RuntimeError: line 0", *[f"line {i}" for i in range(1, 6)], "..."]


def test_warnings_are_recorded_as_raised():
    run = execute("import warnings\nwarnings.warn('careful', UserWarning)\nvalue = 1")
    assert run.error is None and run.warnings == ("UserWarning: careful",) and run.names["value"] == 1


def test_every_key_the_architecture_registry_lists_is_a_pitfall():
    for name, arch in REGISTRY.items():
        assert arch.pitfalls and set(arch.pitfalls) <= set(PITFALLS), name
        assert len(set(arch.pitfalls)) == len(arch.pitfalls), name
