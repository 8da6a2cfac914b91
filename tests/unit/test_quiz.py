"""The quiz's answers against the truth: a real forward pass with hooks, the model's own
parameters, real Keras (slow), and the pitfall runner; its sets are deterministic and its
wrong choices are wrong."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstmae_demo import quiz
from lstmae_demo.archs import build_model
from lstmae_demo.pitfalls import run_pitfall
from lstmae_demo.shapes.probe import probe
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import ModelSpec

REPO = Path(__file__).resolve().parents[2]
SEEDS = range(10)
TRACED = ("shape", "params", "code", "bottleneck")


def traced_questions(kinds: tuple[str, ...] = TRACED) -> list[quiz.Question]:
    """Every question of these kinds in the sets of SEEDS at every level."""
    return [quiz.question(seed, level, i) for level in quiz.LEVELS for seed in SEEDS
            for i, kind in enumerate(quiz.kinds(seed, level)) if kind in kinds]


def variant_of(spec: ModelSpec) -> ModelSpec:
    """The variant (architecture and its choices) a configuration was drawn from."""
    return next(v for v in quiz.variants()
                if v == dataclasses.replace(spec, seq_len=v.seq_len, n_features=v.n_features,
                                            units=v.units, activation=v.activation,
                                            bins=v.bins))


def sample(spec: ModelSpec, batch: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.rand(batch, spec.seq_len, spec.n_features, generator=gen) * 2 - 1


@pytest.fixture(scope="module")
def questions() -> list[quiz.Question]:
    return traced_questions()


def test_the_variants_are_every_architecture_and_choice() -> None:
    found = {(v.arch, v.reads, v.handoff, v.decoder) for v in quiz.variants()}
    assert len(found) == len(quiz.variants()) == 1 + 3 + 1 + 2 * 2


def test_every_architecture_and_choice_is_asked_about(questions) -> None:
    for kind in ("shape", "params", "code"):
        asked = {variant_of(q.spec) for q in questions if q.kind == kind}
        assert asked == set(quiz.variants()), kind


def test_every_shape_answer_is_what_the_layer_really_hands_on(questions) -> None:
    for q in (q for q in questions if q.kind == "shape"):
        tr = trace(q.spec, q.batch)
        model = build_model(q.spec, seed=0).train()  # encdec_ad's decoder: one call
        seen = probe(model, tr, sample(q.spec, q.batch))
        real = tuple(seen[q.highlight].output.shape)
        assert real == q.value, (q.spec, q.highlight)
        names = tr.record(q.highlight).axes
        assert q.answer == "(" + ", ".join(f"{a}={n}" for a, n in zip(names, real,
                                                                      strict=True)) + ")"


def test_every_pytorch_count_is_the_modules_own(questions) -> None:
    asked = [q for q in questions if q.kind == "params" and q.framework == "PyTorch"]
    assert len(asked) > 10
    for q in asked:
        module = trace(q.spec, q.batch).record(q.highlight).module
        model = build_model(q.spec, seed=0)
        assert sum(p.numel() for p in model.get_submodule(module).parameters()) == q.value
        assert q.answer == f"{q.value:,}"


def test_every_code_answer_is_what_encode_returns(questions) -> None:
    for q in (q for q in questions if q.kind == "code"):
        model = build_model(q.spec, seed=0).eval()
        with torch.no_grad():
            code = model.encode(sample(q.spec, q.batch))
        assert tuple(code.shape) == (q.batch, q.value), q.spec
        assert q.answer.endswith(f": {q.value:,} numbers per example")


def test_every_bottleneck_answer_follows_the_real_code(questions) -> None:
    """Fixed-size (the code's size does not change with T) and smaller than the input."""
    asked = [q for q in questions if q.kind == "bottleneck"]
    assert {q.answer for q in asked} == set(quiz.BOTTLENECK_CHOICES)  # all three happen
    for q in asked:
        sizes = []
        for t in (q.spec.seq_len, q.spec.seq_len + 1):
            spec = dataclasses.replace(q.spec, seq_len=t)
            with torch.no_grad():
                sizes.append(build_model(spec, seed=0).eval().encode(sample(spec, 2)).shape[1])
        fixed = sizes[0] == sizes[1]
        smaller = sizes[0] < q.spec.seq_len * q.spec.n_features
        assert q.value == (fixed and smaller), q.spec
        expected = quiz.BOTTLENECK_CHOICES[0 if fixed and smaller else 1 if fixed else 2]
        assert q.answer == expected


def test_every_pitfall_answer_is_what_the_runner_records() -> None:
    asked = {}
    for level in quiz.LEVELS:
        for seed in range(4):
            for i, kind in enumerate(quiz.kinds(seed, level)):
                if kind == "pitfall":
                    q = quiz.question(seed, level, i)
                    asked.setdefault(q.pitfall, q)
    assert set(asked) == set(quiz.raising_pitfalls())
    for key, q in asked.items():
        result = run_pitfall(key)
        assert result.outcome == "error"
        assert q.answer in result.message.splitlines(), key  # the runner's own text
        assert q.code == result.code
        assert q.code.splitlines()[q.code_line - 1].strip(), key
        assert q.highlight is None and q.from_framework


def test_a_pitfall_line_is_the_one_that_raises() -> None:
    """The error comes from the question's line; cut the snippet before the module-level
    statement that reaches it and it runs; with that statement it raises."""
    for key in quiz.raising_pitfalls():
        found = quiz.raised(key)
        pitfall = quiz.PITFALLS[key]
        if isinstance(pitfall, quiz.RecordedPitfall):
            continue  # Keras's line is in its record, re-checked by test_pitfalls_keras
        run = quiz.execute(pitfall.code, key)
        frames, tb = [], run.error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == f"<pitfall {key}>":
                frames.append(tb.tb_lineno)
            tb = tb.tb_next
        assert frames[-1] == found.line, key
        lines = pitfall.code.splitlines()
        assert quiz.execute("\n".join(lines[: frames[0] - 1]), key).error is None, key
        cut = quiz.execute("\n".join(lines[: frames[0]]), key).error
        assert type(cut) is type(run.error) and str(cut) == str(run.error), key


@pytest.mark.slow
def test_the_wrong_choices_are_wrong_and_distinct() -> None:
    for level in quiz.LEVELS:
        for seed in SEEDS:
            for q in quiz.question_set(seed, level):
                if q.entered:
                    assert q.kind == "params" and level == "hard"
                    continue
                assert q.choices.count(q.answer) == 1, q
                assert len(set(q.choices)) == len(q.choices), q
                assert q.is_right(q.answer)
                assert not any(q.is_right(c) for c in q.choices if c != q.answer)
                assert len(q.choices) >= 2


def test_every_shape_choice_names_each_axis_once(questions) -> None:
    for q in (q for q in questions if q.kind == "shape"):
        for choice in q.choices:
            names = [part.split("=")[0] for part in choice.strip("()").split(", ")]
            assert len(set(names)) == len(names), (q.highlight, choice)


def test_an_lstm_count_offers_the_other_frameworks_count(questions) -> None:
    """The wrong counts are other numbers, e.g. the other framework's (for an LSTM)."""
    for q in (q for q in questions if q.kind == "params" and not q.entered):
        rec = trace(q.spec, q.batch).record(q.highlight)
        other = rec.params_keras if q.framework == "PyTorch" else rec.params_torch
        if rec.kind == "LSTM" and len(q.choices) > 1:
            assert f"{other:,}" in q.choices and other != q.value


def test_entered_counts_accept_the_number_only() -> None:
    q = next(quiz.question(s, "hard", i) for s in SEEDS
             for i, k in enumerate(quiz.kinds(s, "hard")) if k == "params")
    assert q.entered
    assert q.is_right(q.value) and q.is_right(f"{q.value:,}") and q.is_right(str(q.value))
    assert not q.is_right(q.value + 1) and not q.is_right("many") and not q.is_right(None)


def test_same_seed_and_level_give_the_same_set() -> None:
    a, b = quiz.question_set(7, "medium"), quiz.question_set(7, "medium")
    assert a == b
    assert quiz.question_set(8, "medium") != a
    assert quiz.question_set(7, "hard") != a


def digest(seed: int, level: str) -> str:
    return hashlib.sha256(repr(quiz.question_set(seed, level)).encode()).hexdigest()


@pytest.mark.slow  # a subprocess: not in the fast subset
def test_the_set_is_the_same_in_another_process() -> None:
    """A class's browsers may reach different server processes (replicas)."""
    code = ("import hashlib; from lstmae_demo import quiz; "
            "print(hashlib.sha256(repr(quiz.question_set(3, 'easy')).encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="12345", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, cwd=REPO)
    assert out.stdout.strip() == digest(3, "easy")


def test_a_bad_level_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="easy, medium, hard"):
        quiz.question(0, "expert", 0)


# ---------------------------------------------------------------------------------------------
# Keras's own counts (slow: builds each model in Keras)


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_every_keras_count_is_what_keras_counts() -> None:
    pytest.importorskip("keras")
    from lstmae_demo.codegen import keras_source

    asked = [q for q in traced_questions(("params",)) if q.framework == "Keras"]
    assert len(asked) > 10
    for q in asked[:24]:
        namespace: dict = {"__name__": "generated_model"}
        exec(compile(keras_source(q.spec), "<generated>", "exec"), namespace)
        model = namespace["build"]()
        key = trace(q.spec, q.batch).record(q.highlight).key
        assert model.get_layer(key).count_params() == q.value, (q.spec, key)


def test_the_diagram_frames_the_highlighted_layer_only() -> None:
    from lstmae_demo.plots import architecture_figure

    tr = trace(ModelSpec(arch="hidden_n"), 4)
    plain = architecture_figure(tr)
    framed = architecture_figure(tr, highlight="encoder LSTM 2")
    dashed = [s for s in framed.layout.shapes if s.line.dash == "dash"]
    assert len(dashed) == 1 and not [s for s in plain.layout.shapes if s.line.dash == "dash"]
    box = dashed[0]
    centre = [r.name for r in tr.layers].index("encoder LSTM 2") * 2.4  # the boxes' spacing
    assert box.x0 < centre < box.x1
    assert len(framed.layout.shapes) == len(plain.layout.shapes) + 1
    assert framed.layout.annotations == plain.layout.annotations
