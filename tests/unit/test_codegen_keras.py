"""The exported Keras code against Keras itself (torch backend), for every architecture and choice.

`keras_rows(spec)` must be exactly the rows of Keras's own summary of the exported model
(`model.layers`: name, class, output shapes, parameter count); with our PyTorch weights copied
in, the Keras model must compute the same numbers as ours (for relu: ActLSTM against Keras's
own LSTM); and what each trace record says about Keras must be what the exported code does.
The checks that need no Keras (keras_rows against the trace) run in the fast subset.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from strategies import valid_specs
from test_codegen import SPECS, exec_source, imported_modules, sample, small, spec_id

from lstmae_demo.archs import PUBLISHED, build_model
from lstmae_demo.codegen import KerasRow, keras_rows, keras_source, keras_weight_layers
from lstmae_demo.nn import bin_boundaries
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import HANDOFFS, ModelSpec

# Keras's own convert_to_numpy on torch 2.13 tensors; nothing this project can change.
# seq_len 1 with attention: Keras warns that its softmax runs over one step (so every weight
# is 1), which is what that configuration means.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1:UserWarning"),
]


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "torch", "set KERAS_BACKEND=torch before importing keras"
    return keras


def keras_model(spec: ModelSpec):
    source = keras_source(spec)
    assert imported_modules(ast.parse(source)) == {"keras"}
    return exec_source(source)["build"]()


def row_of(layer) -> KerasRow:
    """What Keras itself says about one layer, as a KerasRow (key and note aside)."""
    outputs = layer.output if isinstance(layer.output, list | tuple) else [layer.output]
    return KerasRow(layer.name, layer.__class__.__name__,
                    tuple(tuple(out.shape) for out in outputs), layer.count_params())


def bare(row: KerasRow) -> KerasRow:
    return dataclasses.replace(row, key=None, note="")


def inbound(layer) -> list[str]:
    """The names of the layers whose outputs this layer is called on, in call order."""
    return [t._keras_history.operation.name for t in layer._inbound_nodes[0].input_tensors]


# ---------------------------------------------------------------------------------------------
# keras_rows: Keras's summary, computed without Keras
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_keras_rows_are_the_summary_rows(keras, spec: ModelSpec) -> None:
    model = keras_model(spec)
    assert [row_of(layer) for layer in model.layers] == [bare(r) for r in keras_rows(spec)]
    tr = trace(spec, 1)
    assert model.count_params() == tr.params_keras  # and so no weights outside the records
    assert model.count_params() == tr.params_torch - 4 * sum(
        r.keras_shape[-1] for r in tr.layers if r.kind == "LSTM")  # one bias per gate, not two


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(spec=valid_specs(max_seq_len=6, max_features=3, max_units=5, max_bins=9))
def test_keras_rows_are_the_summary_rows_for_random_specs(spec: ModelSpec) -> None:
    import keras  # noqa: F401  (the module fixture cannot be combined with @given)

    model = keras_model(spec)
    assert [row_of(layer) for layer in model.layers] == [bare(r) for r in keras_rows(spec)]


@pytest.mark.slow
@pytest.mark.parametrize("spec", [small("encdec_ad", "tanh", handoff="hc"),
                                  small("embedding", "relu", reads="attention"),
                                  PUBLISHED["repeatvector"]], ids=spec_id)
def test_the_row_texts_are_what_summary_prints(keras, spec: ModelSpec, monkeypatch) -> None:
    """KerasRow.output_shape and the count are the text of Keras's own summary, row by row."""
    monkeypatch.setenv("COLUMNS", "250")  # rich crops the table to the terminal's width
    lines: list[str] = []
    keras_model(spec).summary(print_fn=lambda text, **_: lines.append(text), line_length=200)
    table = "\n".join(lines).splitlines()
    for row in keras_rows(spec):
        line = next(ln for ln in table if f"│ {row.name} ({row.kind}) " in ln)
        cells = [cell.strip() for cell in line.split("│")]
        assert cells[2:4] == [row.output_shape, f"{row.params:,}"], (row.name, line)
    if spec.arch == "encdec_ad":
        assert keras_rows(spec)[1].output_shape == "[(None, 5), (None, 5), (None, 5)]"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_trace_record_has_its_row(spec: ModelSpec) -> None:
    """Each record is exactly one row, named by its key, with the record's Keras count."""
    rows = keras_rows(spec)
    tr = trace(spec, 1)
    assert [r.key for r in rows if r.key is not None] == [rec.key for rec in tr.layers]
    by_key = {r.key: r for r in rows}
    for rec in tr.layers:
        assert by_key[rec.key].name == rec.key
        assert by_key[rec.key].params == rec.params_keras, rec.key
    assert sum(r.params for r in rows) == tr.params_keras
    assert all(r.note for r in rows if r.key is None)  # every extra row says why it is there
    assert len({r.name for r in rows}) == len(rows)


def test_keras_weight_layers_name_the_records_layers() -> None:
    spec = small("encdec_ad", "tanh")
    assert keras_weight_layers(spec) == {rec.key: rec.key for rec in trace(spec).layers}


# ---------------------------------------------------------------------------------------------
# The trace's Keras claims against the exported code
# ---------------------------------------------------------------------------------------------

KERAS_CLASS = {"Input": "InputLayer"}


def check_record_text(model, rec) -> None:
    """The record's `keras` text names the layer's class and its settings."""
    layer = model.get_layer(rec.key)
    text = rec.keras
    classes = re.findall(r"\b([A-Z]\w*)\(", text)
    named = classes[-1] if rec.kind == "Quantize" else classes[0]  # Reshape + Discretization
    assert KERAS_CLASS.get(named, named) == layer.__class__.__name__, (rec.key, text)
    if layer.__class__.__name__ == "LSTM":
        assert f"LSTM({layer.units}" in text, text
        assert ("return_sequences=True" in text) == layer.return_sequences, text
        assert ("return_state=True" in text) == layer.return_state, text
        assert ("activation='relu'" in text) == (layer.activation.__name__ == "relu"), text
    elif layer.__class__.__name__ in ("Dense", "TimeDistributed"):
        dense = layer.layer if layer.__class__.__name__ == "TimeDistributed" else layer
        assert f"Dense({dense.units})" in text, text
    elif layer.__class__.__name__ == "Embedding":
        assert f"Embedding({layer.input_dim}, {layer.output_dim})" in text, text
    elif layer.__class__.__name__ == "RepeatVector":
        assert f"RepeatVector({layer.n})" in text, text
    elif layer.__class__.__name__ == "Discretization":
        assert f"{len(layer.bin_boundaries)} bin boundaries" in text, text
        assert inbound(layer) == ["drop_feature_axis"]
        assert model.get_layer("drop_feature_axis").__class__.__name__ in text
    elif layer.__class__.__name__ == "InputLayer":
        assert f"shape={tuple(layer.output.shape[1:])}" in text, text
    elif layer.__class__.__name__ == "Attention":
        assert inbound(layer) == ["decoder_lstm", "encoder_lstm"]  # [query, value]
        assert not layer.use_scale and layer.score_mode == "dot"


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_records_keras_text_is_the_exported_code(keras, spec: ModelSpec) -> None:
    model = keras_model(spec)
    for rec in trace(spec, 1).layers:
        check_record_text(model, rec)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [s for s in SPECS if s.arch == "encdec_ad"], ids=spec_id)
def test_the_encdec_decoder_is_fed_and_started_as_its_record_says(keras, spec) -> None:
    """The record's text says what the decoder LSTM reads and starts from; so does the code.

    The unconditioned decoder's Keras input is zeros; the conditional one's the reversed input.
    """
    model = keras_model(spec)
    rec = trace(spec, 1).record("decoder LSTM")
    fed, h, c = inbound(model.get_layer("decoder_lstm"))
    if spec.decoder == "conditional":
        assert "(x reversed, without x(1)," in rec.keras and fed == "reversed_inputs"
    else:
        assert "(zeros," in rec.keras and fed == "zero_inputs"
    assert h == "encoder_lstm"
    if spec.handoff == "h":
        assert "initial_state=[h, zeros]" in rec.keras and c == "zero_cell_state"
    else:
        assert "initial_state=[h, c]" in rec.keras and c == "encoder_lstm"
    x = sample(spec, batch=2, seed=3).numpy()
    fed_values = keras.Model(model.input, model.get_layer(fed).output)(x)
    want = np.flip(x, axis=1)[:, :-1] if spec.decoder == "conditional" else np.zeros_like(
        x[:, 1:])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(fed_values), want)
    if spec.handoff == "h":
        start = keras.Model(model.input, model.get_layer("zero_cell_state").output)(x)
        assert not keras.ops.convert_to_numpy(start).any()
    # The code's comment: the encoder's output and h are the same numbers.
    output, h_e, _ = keras.Model(model.input, model.get_layer("encoder_lstm").output)(x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(output),
                                  keras.ops.convert_to_numpy(h_e))


@pytest.mark.slow
@pytest.mark.parametrize("spec", [s for s in SPECS if s.arch == "embedding"], ids=spec_id)
def test_the_embedding_decoder_reads_what_its_record_says(keras, spec) -> None:
    model = keras_model(spec)
    fed = inbound(model.get_layer("decoder_lstm"))
    if spec.reads == "steps":
        assert fed == ["encoder_lstm"]
        return
    assert fed == ["zero_inputs", "encoder_lstm", "encoder_lstm"]  # zeros, from [h, c]
    x = sample(spec, batch=2, seed=3).numpy()
    zeros = keras.Model(model.input, model.get_layer("zero_inputs").output)(x)
    assert keras.ops.convert_to_numpy(zeros).shape == x.shape
    assert not keras.ops.convert_to_numpy(zeros).any()


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_records_keras_shape_is_its_layers_first_output(keras, spec) -> None:
    model = keras_model(spec)
    for rec in trace(spec, 1).layers:
        if spec.arch == "encdec_ad" and rec.key == "decoder_lstm":
            continue  # known wrong in the trace: see the next test
        assert row_of(model.get_layer(rec.key)).output_shapes[0] == rec.keras_shape, rec.key


@pytest.mark.slow
@pytest.mark.parametrize("handoff", HANDOFFS)
def test_the_encdec_decoder_records_keras_shape(keras, handoff: str) -> None:
    """The Keras layer that holds the decoder's weights runs T-1 steps; h_D(L) is prepended
    after it, so the record's Keras shape is (None, T-1, U) while PyTorch's module gives T."""
    spec = small("encdec_ad", "tanh", handoff=handoff)
    layer = keras_model(spec).get_layer("decoder_lstm")
    assert row_of(layer).output_shapes[0] == trace(spec).record("decoder LSTM").keras_shape


# ---------------------------------------------------------------------------------------------
# The same numbers as our PyTorch model
# ---------------------------------------------------------------------------------------------


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


EQUIVALENCE_SPECS = list(dict.fromkeys([
    *(s for s in SPECS if s.seq_len <= 6 and s.units <= 5),
    small("repeatvector", "relu", seq_len=2, n_features=3, units=4),
    PUBLISHED["repeatvector"],
    PUBLISHED["hidden_n"],
]))


@pytest.mark.slow
@pytest.mark.parametrize("spec", EQUIVALENCE_SPECS, ids=spec_id)
def test_keras_and_pytorch_compute_the_same(keras, spec: ModelSpec) -> None:
    """Same weights, same input: same output. For relu this is ActLSTM vs Keras's own LSTM.

    encdec_ad's Keras graph is the training graph: our model in train mode (for the
    unconditioned decoder both modes are the same).
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
    if spec.arch == "encdec_ad" and spec.decoder == "unconditioned":
        with torch.no_grad():
            np.testing.assert_allclose(got, ours.eval()(x).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_keras_published_repeatvector_has_the_published_count(keras) -> None:
    """Brownlee's article quotes Keras's own summary for his model: 121,301 parameters."""
    spec = PUBLISHED["repeatvector"]
    assert keras_model(spec).count_params() == 121_301
    assert trace(spec).params_torch == 122_101


@pytest.mark.slow
@pytest.mark.parametrize("bins", [2, 3, 7, 64, 100, 256])
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


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    small("encdec_ad", "relu", n_features=3, decoder="unconditioned"),
    small("embedding", "tanh", reads="attention", seq_len=1),
], ids=spec_id)
def test_keras_script_runs(spec: ModelSpec, tmp_path) -> None:
    """`KERAS_BACKEND=torch python the_file.py` prints Keras's summary: keras_rows' rows."""
    path = tmp_path / "model.py"
    path.write_text(keras_source(spec))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": "", "KERAS_BACKEND": "torch",
           "COLUMNS": "200"}
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    tr = trace(spec, batch=4)
    assert f"output shape: {tr.output_shape}" in done.stdout
    assert f"parameters: {tr.params_keras:,}" in done.stdout
    for row in keras_rows(spec):  # the summary table
        assert f"{row.name} ({row.kind})" in done.stdout, row.name
