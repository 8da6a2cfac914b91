"""Generated source against the real thing: our PyTorch model, the tracer, and Keras itself.

The PyTorch script must BE `build_model(spec)`: same parameter names (a strict state_dict load),
same numbers out in train and eval mode, the traced shape at every layer. The Keras source must
give Keras's own shapes and counts for every record, and, with our weights copied in, the same
numbers as our PyTorch model: that is what shows ActLSTM is Keras's LSTM(activation='relu').
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before anything imports keras

import ast
import dataclasses
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import valid_specs

from lstmae_demo.codegen import keras_source, keras_weight_layers, pytorch_source
from lstmae_demo.nn import bin_boundaries
from lstmae_demo.archs import build_model, count_params
from lstmae_demo.shapes.probe import probe
from lstmae_demo.spec import ACTIVATIONS, ARCHS, DECODERS, PUBLISHED, ModelSpec, SpecError, preset
from lstmae_demo.shapes.trace import trace

BATCH = 3

# Keras's own convert_to_numpy on torch 2.13 tensors; nothing this project can change.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def spec_id(spec: ModelSpec) -> str:
    extra = {"embedding": f"-K{spec.bins}", "encdec_ad": f"-{spec.decoder}"}.get(spec.arch, "")
    return (f"{spec.arch}-{spec.activation}-T{spec.seq_len}-F{spec.n_features}-U{spec.units}"
            f"{extra}")


def small(arch: str, activation: str, **changes) -> ModelSpec:
    """A preset shrunk to test size."""
    sizes = dict(seq_len=6, n_features=1 if arch == "embedding" else 2, units=5, bins=7)
    return dataclasses.replace(preset(arch), activation=activation, **{**sizes, **changes})


# Every architecture x activation, edge sizes (seq_len 2, one unit, two bins, many features,
# the largest bin count) and the published sizes.
SPECS = [
    *(small(a, act) for a in ARCHS for act in ACTIVATIONS),
    small("encdec_ad", "tanh", decoder="unconditioned"),
    small("encdec_ad", "relu", decoder="unconditioned", n_features=3),
    ModelSpec(arch="repeatvector", seq_len=2, n_features=3, units=1),
    ModelSpec(arch="hidden_n", seq_len=2, n_features=4, units=1, activation="relu"),
    ModelSpec(arch="embedding", seq_len=2, units=1, bins=2),
    ModelSpec(arch="embedding", seq_len=3, units=2, bins=512, activation="relu"),
    ModelSpec(arch="encdec_ad", seq_len=2, n_features=2, units=1),
    ModelSpec(arch="encdec_ad", seq_len=2, n_features=1, units=2, decoder="unconditioned"),
    *PUBLISHED.values(),
]


def exec_source(source: str) -> dict:
    """Run generated source as a fresh module (not as __main__) and return its namespace."""
    namespace: dict = {"__name__": "generated_model"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def sample(spec: ModelSpec, batch: int = BATCH, seed: int = 0) -> torch.Tensor:
    """Values in [-1, 1] (the embedding model's bin range), (B, T, F)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, spec.seq_len, spec.n_features, generator=gen) * 2 - 1


def generated_twin(spec: ModelSpec) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(our model, the generated model) holding the same weights."""
    ours = build_model(spec, seed=0)
    theirs = exec_source(pytorch_source(spec))["build"]()
    theirs.load_state_dict(ours.state_dict())  # strict: every name and shape must match
    return ours, theirs


def assert_same_outputs(ours: torch.nn.Module, theirs: torch.nn.Module, x: torch.Tensor) -> None:
    """forward, encode (and reconstruct) agree in train and in eval mode."""
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        with torch.no_grad():
            for method in ("forward", "encode", "reconstruct"):
                if method == "reconstruct" and not hasattr(theirs, method):
                    continue
                want = getattr(ours, method)(x)
                got = getattr(theirs, method)(x)
                assert got.shape == want.shape, (method, train)
                assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), (method, train)


# ---------------------------------------------------------------------------------------------
# PyTorch source
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_pytorch_source_is_our_model(spec: ModelSpec) -> None:
    ours, theirs = generated_twin(spec)
    tr = trace(spec, BATCH)
    assert count_params(theirs) == tr.params_torch
    # The same submodules and buffers under the same names, not only the same parameters.
    assert [n for n, _ in theirs.named_modules()] == [n for n, _ in ours.named_modules()]
    assert [(n, p.shape) for n, p in theirs.named_parameters()] == [
        (n, p.shape) for n, p in ours.named_parameters()]
    our_buffers = dict(ours.named_buffers())
    assert set(dict(theirs.named_buffers())) <= set(our_buffers)
    for name, buffer in theirs.named_buffers():
        assert torch.equal(buffer, our_buffers[name]), name
    x = sample(spec)
    assert_same_outputs(ours, theirs, x)
    # Every traced layer: the submodule it names exists, counts its parameters and produces
    # the traced shape. (Train mode: in eval, encdec_ad's conditional decoder calls the head
    # once per step, and a hook sees the first, one-step call.)
    seen = probe(theirs.train(), tr, x)
    for rec in tr.layers:
        assert tuple(seen[rec.name].output.shape) == rec.output_shape, rec.name
        assert str(seen[rec.name].output.dtype) == f"torch.{rec.dtype}", rec.name
        if rec.module is not None:
            assert count_params(theirs.get_submodule(rec.module)) == rec.params_torch, rec.name


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_pytorch_source_has_only_what_it_needs(arch: str, activation: str) -> None:
    for decoder in DECODERS if arch == "encdec_ad" else ("conditional",):
        source = pytorch_source(small(arch, activation, decoder=decoder))
        tree = ast.parse(source)
        classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        helpers = {"ActLSTM": activation == "relu", "Quantize": arch == "embedding",
                   "RepeatVector": arch in ("repeatvector", "hidden_n"),
                   "ReverseDecoder": arch == "encdec_ad", "LSTMLayer": True}
        assert {name for name, needed in helpers.items() if needed} <= classes
        assert not {name for name, needed in helpers.items() if not needed} & classes
        assert imported_modules(tree) == {"torch"}
        assert ("self.rnn = nn.LSTM(" in source) == (activation == "tanh")
        assert ("self.rnn = ActLSTM(" in source) == (activation == "relu")
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert functions == {"build"}


RESHAPES = re.compile(r"\.(unsqueeze|squeeze|flip|repeat|flatten|chunk)\(|torch\.(cat|stack)\("
                      r"|\[:, -1\]|\[-1\]|\[:, :-1\]|\[:, 0\]")


@pytest.mark.parametrize("spec", SPECS[:10], ids=spec_id)
def test_every_reshape_has_a_shape_comment(spec: ModelSpec) -> None:
    lines = pytorch_source(spec).splitlines()
    for i, line in enumerate(lines):
        code = line.split("#")[0]
        if RESHAPES.search(code) and not code.lstrip().startswith(("return f", '"""')):
            nearby = " ".join(lines[max(0, i - 3): i + 1])
            assert re.search(r"\((B|1, B|T x \(B)\b", nearby), f"line {i + 1}: {line.strip()}"


def imported_modules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("make", [pytorch_source, keras_source])
@pytest.mark.parametrize("bad", [
    ModelSpec(seq_len=1), ModelSpec(arch="embedding", n_features=2), ModelSpec(units=0),
    ModelSpec(activation="sigmoid"), ModelSpec(arch="lstm"), ModelSpec(units=3.0),
])
def test_invalid_specs_are_refused(make, bad: ModelSpec) -> None:
    with pytest.raises(SpecError):
        make(bad)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    PUBLISHED["repeatvector"],
    small("embedding", "tanh"),
    small("hidden_n", "relu"),
    small("encdec_ad", "relu"),
    small("encdec_ad", "tanh", decoder="unconditioned"),
], ids=spec_id)
def test_pytorch_script_runs(spec: ModelSpec, tmp_path) -> None:
    """`python the_file.py` works with nothing but torch and prints the right shape and count."""
    path = tmp_path / "model.py"
    path.write_text(pytorch_source(spec))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    tr = trace(spec, batch=4)
    assert f"output shape: {tr.output_shape}" in done.stdout
    assert f"parameters: {tr.params_torch:,}" in done.stdout


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_generated_source_is_ruff_clean(tmp_path) -> None:
    """Learners copy this code: it passes the project's own lint rules."""
    for i, spec in enumerate(SPECS):
        (tmp_path / f"torch_{i}.py").write_text(pytorch_source(spec))
        (tmp_path / f"keras_{i}.py").write_text(keras_source(spec))
    done = subprocess.run(
        ["ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP,SIM",
         "--line-length", "100", "--target-version", "py311", str(tmp_path)],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


specs = valid_specs(max_seq_len=7, max_features=3, max_units=6, max_bins=12)


@settings(max_examples=25, deadline=None)
@given(spec=specs, batch=st.integers(1, 3))
def test_pytorch_source_matches_for_random_specs(spec: ModelSpec, batch: int) -> None:
    ours, theirs = generated_twin(spec)
    assert count_params(theirs) == trace(spec).params_torch
    assert_same_outputs(ours, theirs, sample(spec, batch))


# ---------------------------------------------------------------------------------------------
# Keras source, checked by Keras itself (torch backend)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "torch", "set KERAS_BACKEND=torch before importing keras"
    return keras


def keras_model(spec: ModelSpec):
    ns = exec_source(keras_source(spec))
    assert imported_modules(ast.parse(keras_source(spec))) == {"keras"}
    return ns["build"]()


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_keras_source_matches_trace(keras, spec: ModelSpec) -> None:
    model = keras_model(spec)
    tr = trace(spec, 1)
    weights = keras_weight_layers(spec)
    for rec in tr.layers:
        layer = model.get_layer(rec.key)
        outputs = layer.output if isinstance(layer.output, list | tuple) else [layer.output]
        for out in outputs:  # return_state=True: [output, h, c], each (None, U)
            assert tuple(out.shape) == rec.keras_shape, rec.key
        assert model.get_layer(weights[rec.key]).count_params() == rec.params_keras, rec.key
        if rec.kind == "LSTM":
            lstm = model.get_layer(weights[rec.key])
            assert lstm.activation.__name__ == spec.activation, rec.key
            assert lstm.units == rec.keras_shape[-1], rec.key
    assert model.count_params() == tr.params_keras  # and so no weights outside the records
    assert model.count_params() == tr.params_torch - 4 * sum(
        r.keras_shape[-1] for r in tr.layers if r.kind == "LSTM")  # one bias per gate, not two


@pytest.mark.slow
def test_keras_script_runs(tmp_path) -> None:
    """`KERAS_BACKEND=torch python the_file.py` prints Keras's summary, shape and count."""
    spec = small("encdec_ad", "relu", n_features=3)
    path = tmp_path / "model.py"
    path.write_text(keras_source(spec))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": "", "KERAS_BACKEND": "torch"}
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    tr = trace(spec, batch=4)
    assert f"output shape: {tr.output_shape}" in done.stdout
    assert f"parameters: {tr.params_keras:,}" in done.stdout
    assert "decoder_lstm_steps" in done.stdout  # the summary table


@pytest.mark.slow
def test_keras_published_repeatvector_has_the_published_count(keras) -> None:
    """REFERENCES.md quotes Keras's own summary for Brownlee's model: 121,301."""
    spec = PUBLISHED["repeatvector"]
    assert keras_model(spec).count_params() == 121_301
    assert trace(spec).params_torch == 122_101


def copy_weights(keras_net, ours: torch.nn.Module, spec: ModelSpec) -> None:
    """Our PyTorch weights into the Keras model, layer by layer."""
    weights = keras_weight_layers(spec)
    for rec in trace(spec, 1).layers:
        if rec.module is None or rec.params_torch == 0:
            continue
        layer = keras_net.get_layer(weights[rec.key])
        module = ours.get_submodule(rec.module)
        if rec.kind == "LSTM":
            rnn = module.rnn
            # Keras: kernel (I, 4U), recurrent_kernel (U, 4U), one bias (4U). Gate order
            # i, f, c, o in Keras is PyTorch's i, f, g, o; PyTorch's two biases only add up.
            new = [rnn.weight_ih_l0.T, rnn.weight_hh_l0.T, rnn.bias_ih_l0 + rnn.bias_hh_l0]
        elif rec.kind == "Linear":
            new = [module.weight.T, module.bias]  # Dense kernel is (in, out)
        elif rec.kind == "Embedding":
            new = [module.weight]
        else:
            raise AssertionError(f"no copy rule for {rec.kind}")
        layer.set_weights([w.detach().numpy().copy() for w in new])


EQUIVALENCE_SPECS = [
    *(small(a, act) for a in ("repeatvector", "hidden_n") for act in ACTIVATIONS),
    small("repeatvector", "relu", seq_len=2, n_features=3, units=4),
    PUBLISHED["repeatvector"],
    PUBLISHED["hidden_n"],
    small("embedding", "relu"),
    small("encdec_ad", "tanh"),
    small("encdec_ad", "relu", n_features=3),
    small("encdec_ad", "relu", decoder="unconditioned"),
]


@pytest.mark.slow
@pytest.mark.parametrize("spec", EQUIVALENCE_SPECS, ids=spec_id)
def test_keras_and_pytorch_compute_the_same(keras, spec: ModelSpec) -> None:
    """Same weights, same input: same output. For relu this is ActLSTM vs Keras's own LSTM.

    encdec_ad's Keras graph is the teacher-forced training graph: our model in train mode.
    """
    ours = build_model(spec, seed=0).train()
    net = keras_model(spec)
    copy_weights(net, ours, spec)
    x = sample(spec, batch=4, seed=1)
    with torch.no_grad():
        want = ours(x).numpy()
    got = keras.ops.convert_to_numpy(net(x.numpy()))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("bins", [2, 3, 7, 64, 100, 512])
def test_keras_discretization_bins_like_quantize(keras, bins: int) -> None:
    """Values on, just below and just above every edge land in the same bin in both."""
    spec = ModelSpec(arch="embedding", seq_len=2, units=1, bins=bins)
    edges = bin_boundaries(bins)
    values = torch.cat([edges, torch.nextafter(edges, torch.tensor(-2.0)),
                        torch.nextafter(edges, torch.tensor(2.0)),
                        torch.tensor([-1.5, -1.0, 0.0, 1.0, 1.5])])
    x = values.reshape(-1, 1, 1).repeat(1, 2, 1)  # (N, T=2, 1)
    want = build_model(spec).quantize(x)
    net = keras_model(spec)
    quantize = keras.Model(net.input, net.get_layer(trace(spec).record("quantize").key).output)
    got = keras.ops.convert_to_numpy(quantize(x.numpy()))
    np.testing.assert_array_equal(got, want.numpy())
