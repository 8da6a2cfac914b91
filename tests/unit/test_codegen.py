"""Generated PyTorch source against the real thing, and the templates it is cut from.

The PyTorch script must BE `build_model(spec)`: same parameter names (a strict state_dict load),
same numbers out in train and eval mode, the traced shape at every layer, for every
architecture and every choice. The Keras side is in test_codegen_keras.py; the specs and
helpers here are shared with it.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import valid_specs

from lstmae_demo.archs import PUBLISHED, build_model, count_params, get_arch
from lstmae_demo.codegen import keras_rows, keras_source, pytorch_source, templating
from lstmae_demo.shapes.probe import probe
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import (
    ACTIVATIONS,
    ARCHS,
    DECODERS,
    HANDOFFS,
    READS,
    ModelSpec,
    SpecError,
    preset,
)

BATCH = 3
REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "lstmae_demo" / "codegen" / "templates"


def spec_id(spec: ModelSpec) -> str:
    extra = {"embedding": f"-K{spec.bins}-{spec.reads}",
             "encdec_ad": f"-{spec.handoff}-{spec.decoder}"}.get(spec.arch, "")
    return (f"{spec.arch}-{spec.activation}-T{spec.seq_len}-F{spec.n_features}-U{spec.units}"
            f"{extra}")


def small(arch: str, activation: str = "tanh", **changes) -> ModelSpec:
    """A preset shrunk to test size."""
    sizes = dict(seq_len=6, n_features=2, units=5, bins=7)
    spec = dataclasses.replace(preset(arch), activation=activation, **{**sizes, **changes})
    return dataclasses.replace(spec, n_features=1) if arch == "embedding" else spec


def every_choice(activation: str, **sizes) -> list[ModelSpec]:
    """One spec per architecture and choice (embedding's reads; encdec_ad's hand-off x decoder)."""
    return [
        small("repeatvector", activation, **sizes),
        small("hidden_n", activation, **sizes),
        *(small("embedding", activation, reads=r, **sizes) for r in READS),
        *(small("encdec_ad", activation, handoff=h, decoder=d, **sizes)
          for h in HANDOFFS for d in DECODERS),
    ]


# Every architecture x choice x activation, seq_len 1 where the architecture allows it, edge
# sizes (seq_len 2, one unit, two bins, many features, the largest bin count) and the
# published sizes.
SPECS = list(dict.fromkeys([
    *(s for act in ACTIVATIONS for s in every_choice(act)),
    *(s for s in every_choice("relu", seq_len=1) if s.arch != "encdec_ad"),
    *(s for s in every_choice("tanh", seq_len=2, units=1, n_features=3)),
    ModelSpec(arch="embedding", seq_len=2, units=1, bins=2, reads="state"),
    ModelSpec(arch="embedding", seq_len=3, units=2, bins=256, activation="relu"),
    ModelSpec(arch="encdec_ad", seq_len=2, n_features=1, units=2, decoder="unconditioned",
              handoff="hc"),
    *PUBLISHED.values(),
]))


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


def imported_modules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names


def test_the_specs_cover_every_architecture_and_choice() -> None:
    """The parametrisation below really holds every choice (and seq_len 1 where allowed)."""
    assert {s.arch for s in SPECS} == set(ARCHS)
    assert {s.reads for s in SPECS if s.arch == "embedding"} == set(READS)
    assert {(s.handoff, s.decoder, s.activation) for s in SPECS if s.arch == "encdec_ad"} == {
        (h, d, a) for h in HANDOFFS for d in DECODERS for a in ACTIVATIONS}
    assert {s.arch for s in SPECS if s.seq_len == 1} == set(ARCHS) - {"encdec_ad"}
    assert {s.reads for s in SPECS if s.arch == "embedding" and s.seq_len == 1} == set(READS)


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
    # once per step, and a hook sees the last, one-step call.)
    seen = probe(theirs.train(), tr, x)
    for rec in tr.layers:
        assert tuple(seen[rec.name].output.shape) == rec.output_shape, rec.name
        assert str(seen[rec.name].output.dtype) == f"torch.{rec.dtype}", rec.name
        if rec.module is not None:
            assert count_params(theirs.get_submodule(rec.module)) == rec.params_torch, rec.name


@pytest.mark.parametrize("spec", every_choice("tanh") + every_choice("relu"), ids=spec_id)
def test_pytorch_source_has_only_what_it_needs(spec: ModelSpec) -> None:
    source = pytorch_source(spec)
    tree = ast.parse(source)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    attention = spec.arch == "embedding" and spec.reads == "attention"
    helpers = {"ActLSTM": spec.activation == "relu", "Quantize": spec.arch == "embedding",
               "RepeatVector": spec.arch in ("repeatvector", "hidden_n"),
               "ReverseDecoder": spec.arch == "encdec_ad", "DotAttention": attention,
               "Concat": attention, "LSTMLayer": True}
    needed = {name for name, needed in helpers.items() if needed}
    assert set(classes) == needed | {get_arch(spec.arch).code_class}
    assert classes[-1] == get_arch(spec.arch).code_class
    assert imported_modules(tree) == {"torch"}
    assert ("self.rnn = nn.LSTM(" in source) == (spec.activation == "tanh")
    assert ("self.rnn = ActLSTM(" in source) == (spec.activation == "relu")
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert functions == {"build"}
    assert ("free_running" in source) == (spec.arch == "encdec_ad"
                                          and spec.decoder == "conditional")
    assert "# [" not in source and "# <<<" not in source and "# >>>" not in source


@pytest.mark.parametrize("spec", every_choice("tanh"), ids=spec_id)
def test_lstm_layer_offers_exactly_the_returns_the_model_uses(spec: ModelSpec) -> None:
    namespace = exec_source(pytorch_source(spec))
    model = namespace["build"]()
    used = {m.returns for m in model.modules() if isinstance(m, namespace["LSTMLayer"])}
    assert set(namespace["LSTMLayer"].RETURNS) == used
    with pytest.raises(ValueError, match="returns must be one of"):
        namespace["LSTMLayer"](1, 1, returns="everything")


RESHAPES = re.compile(r"\.(unsqueeze|squeeze|flip|repeat|flatten|chunk)\(|torch\.(cat|stack)\("
                      r"|\[:, -1\]|\[-1\]|\[:, :-1\]|\[:, 0\]")


@pytest.mark.parametrize("spec", every_choice("tanh") + every_choice("relu"), ids=spec_id)
def test_every_reshape_has_a_shape_comment(spec: ModelSpec) -> None:
    lines = pytorch_source(spec).splitlines()
    for i, line in enumerate(lines):
        code = line.split("#")[0]
        if RESHAPES.search(code) and not code.lstrip().startswith(("return f", '"""')):
            nearby = " ".join(lines[max(0, i - 3): i + 1])
            assert re.search(r"\((B|1, B|T x \(B)\b", nearby), f"line {i + 1}: {line.strip()}"


@pytest.mark.parametrize("make", [pytorch_source, keras_source, keras_rows])
@pytest.mark.parametrize("bad", [
    ModelSpec(seq_len=0), ModelSpec(arch="encdec_ad", seq_len=1),
    ModelSpec(arch="embedding", n_features=2), ModelSpec(units=0),
    ModelSpec(activation="sigmoid"), ModelSpec(arch="lstm"), ModelSpec(units=3.0),
    ModelSpec(arch="embedding", reads="everything"), ModelSpec(arch="encdec_ad", handoff="c"),
    ModelSpec(arch="encdec_ad", decoder="teacher"),
])
def test_invalid_specs_are_refused(make, bad: ModelSpec) -> None:
    with pytest.raises(SpecError):
        make(bad)


def test_encdec_ad_refuses_one_step_with_the_reason() -> None:
    with pytest.raises(SpecError, match="encdec_ad needs seq_len >= 2"):
        pytorch_source(ModelSpec(arch="encdec_ad", seq_len=1))


SCRIPT_SPECS = [
    PUBLISHED["repeatvector"],
    small("embedding", "tanh", reads="steps"),
    small("embedding", "relu", reads="attention", seq_len=1),
    small("hidden_n", "relu"),
    small("encdec_ad", "relu", handoff="hc"),
    small("encdec_ad", "tanh", decoder="unconditioned"),
]


@pytest.mark.slow
@pytest.mark.parametrize("spec", SCRIPT_SPECS, ids=spec_id)
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
    conditional = spec.arch == "encdec_ad" and spec.decoder == "conditional"
    assert (f"eval output shape: {tr.output_shape}" in done.stdout) == conditional


RUFF = ["ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP,SIM",
        "--line-length", "100", "--target-version", "py311"]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_generated_source_is_ruff_clean(tmp_path) -> None:
    """Learners copy this code: it passes the project's own lint rules."""
    for i, spec in enumerate(SPECS):
        (tmp_path / f"torch_{i}.py").write_text(pytorch_source(spec))
        (tmp_path / f"keras_{i}.py").write_text(keras_source(spec))
    done = subprocess.run([*RUFF, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


specs = valid_specs(max_seq_len=7, max_features=3, max_units=6, max_bins=12)


@settings(max_examples=25, deadline=None)
@given(spec=specs, batch=st.integers(1, 3))
def test_pytorch_source_matches_for_random_specs(spec: ModelSpec, batch: int) -> None:
    ours, theirs = generated_twin(spec)
    assert count_params(theirs) == trace(spec).params_torch
    assert_same_outputs(ours, theirs, sample(spec, batch))


# ---------------------------------------------------------------------------------------------
# The templates: real Python files, cut into blocks
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_template_files_are_ruff_clean() -> None:
    """The templates are linted as the Python files they are, with the project's config."""
    files = sorted(TEMPLATES.rglob("*.py"))
    assert {f.parent.name for f in files} == {"pytorch", "keras"}
    assert {f.stem for f in files} >= {*ARCHS, "main"}
    done = subprocess.run(["ruff", "check", "--no-cache", *map(str, files)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_template_block_is_exported(monkeypatch) -> None:
    """Every block of every template file ends up in some spec's code (no dead templates)."""
    made: list[tuple[str, str, str]] = []
    real = templating.block

    def spy(path: str, name: str, *args, **kwargs) -> str:
        text = real(path, name, *args, **kwargs)
        made.append((path, name, text))
        return text

    monkeypatch.setattr(templating, "block", spy)
    used: set[tuple[str, str]] = set()
    for spec in SPECS:
        for make in (pytorch_source, keras_source):
            made.clear()
            source = make(spec)
            used |= {(path, name) for path, name, text in made if text and text in source}
    every = {(f"{p.parent.name}/{p.name}", name) for p in TEMPLATES.rglob("*.py")
             for name in templating.blocks(f"{p.parent.name}/{p.name}")}
    assert every == used


def test_conditions_keep_the_right_lines() -> None:
    lines = ["a", "# [if x]", "b", "# [if not y]", "c", "# [else]", "d", "# [end]", "# [else]",
             "e", "# [end]", "# [if y or z]", "f", "# [end]"]
    known = frozenset({"x", "y", "z"})
    assert templating.select(lines, frozenset({"x"}), known, "t") == ["a", "b", "c"]
    assert templating.select(lines, frozenset({"x", "y"}), known, "t") == ["a", "b", "d", "f"]
    assert templating.select(lines, frozenset({"z"}), known, "t") == ["a", "e", "f"]


@pytest.mark.parametrize("lines, message", [
    (["# [if typo]", "a", "# [end]"], "unknown flag 'typo'"),
    (["# [if x]", "a"], "never closed"),
    (["a", "# [end]"], "without"),
    (["# [else]"], "without"),
])
def test_malformed_conditions_are_refused(lines: list[str], message: str) -> None:
    with pytest.raises(templating.TemplateError, match=re.escape(message)):
        templating.select(lines, frozenset(), frozenset({"x"}), "t")


def test_an_unknown_block_is_refused_by_name() -> None:
    with pytest.raises(templating.TemplateError, match="has no block 'nope'; it has model"):
        templating.block("pytorch/repeatvector.py", "nope")


@pytest.mark.slow
def test_templates_load_from_the_package_wherever_it_runs(tmp_path) -> None:
    """The templates are found relative to the package, not the working directory."""
    code = ("from lstmae_demo.codegen import pytorch_source, keras_source\n"
            "from lstmae_demo.spec import ModelSpec\n"
            "print(len(pytorch_source(ModelSpec())) > 0, len(keras_source(ModelSpec())) > 0)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True True"
