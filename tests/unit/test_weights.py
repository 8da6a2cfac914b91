"""Tests for lstmae_demo.weights: a saved model comes back computing the same outputs for every
architecture, every file of the bad-file corpus (tests/data/bad_weights, written by its
make_bad_weights.py) gets its own message, and a refused file never changes the current model."""

import io
import math
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.settings import ARCHS, KNOB
from lstmae_demo.spec import ModelSpec
from lstmae_demo.weights import (
    FORMAT_VERSION,
    MAX_BYTES,
    WeightsError,
    build_loaded,
    load,
    load_into,
    save,
    spec_differences,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_weights"
BASE_SPEC = ModelSpec(arch="repeatvector", seq_len=4, n_features=1, units=2)  # the corpus' model

# Every corpus file and the words its refusal must contain (loaded into a BASE_SPEC model).
EXPECTED = {
    "empty.safetensors": "the file is empty",
    "seven_bytes.safetensors": "it has 7 bytes, fewer than the 8",
    "truncated_header.safetensors": "truncated: its header says the description alone is",
    "truncated_data.safetensors": "truncated: its tensors need 364 bytes of data, but only 354",
    "trailing_bytes.safetensors": "corrupt: 16 bytes follow the last tensor",
    "corrupt_header.safetensors": "corrupt: its header is not valid JSON",
    "header_not_object.safetensors": "corrupt: its header is a JSON list, not an object",
    "huge_header_length.safetensors": "header of 1099511627776 bytes, over the limit",
    "text.csv": "it is a text file starting 'timestamp,value'",
    "torch_save.pt": "a PyTorch torch.save file: a zip archive holding a pickle; it was not opened",
    "torch_save_cut.pt": "a PyTorch torch.save file",
    "torch_legacy.pt": "a Python pickle (perhaps an old torch.save file); it was not opened",
    "pickle_runs_code.pkl": "loading a pickle can run any code it contains",
    "keras_like.keras": "a Keras .keras archive",
    "hdf5_like.h5": "an HDF5 file",
    "other_tool.safetensors": 'not one saved by this app: its metadata has no "format"',
    "newer_version.safetensors": "saved by a newer version of this app (format version 2; "
                                 "this app reads up to 1)",
    "bad_version.safetensors": "format version 'two' is not a whole number",
    "no_losses.safetensors": "its metadata lacks losses",
    "bad_losses.safetensors": "its 'train' losses are not a list of numbers",
    "bad_spec.safetensors": "model description (spec) is invalid: arch must be one of",
    "spec_not_tensors.safetensors": "'encoder.rnn.weight_ih_l0' is torch.float32 (12, 1), but "
                                    "its spec's model has torch.float32 (8, 1)",
    "extra_tensor.safetensors": "unexpected ['extra.weight']",
    "nan_weights.safetensors": "'head.weight' holds NaN or infinite values",
    "float64_weights.safetensors": "is torch.float64 (8, 1), but its spec's model has "
                                   "torch.float32 (8, 1)",
    "other_arch.safetensors": "another model than the current one (arch: file hidden_n, "
                              "current repeatvector)",
    "other_size.safetensors": "another model than the current one (units: file 3, current 2)",
}


def spec_for(arch: str, **changes) -> ModelSpec:
    """A small spec of `arch` (F = 2 where the architecture allows it)."""
    n_features = 1 if arch == "embedding" else 2
    return ModelSpec(arch=arch, seq_len=5, n_features=n_features, units=6, **changes)


ALL_SPECS = [spec_for(arch) for arch in ARCHS] + [
    spec_for("embedding", reads="state"), spec_for("embedding", reads="steps"),
    spec_for("encdec_ad", handoff="hc", decoder="unconditioned"),
    spec_for("repeatvector", activation="relu"),
]


def state_copy(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: "-".join(s.to_dict().values()))
def test_a_saved_model_computes_the_same_outputs_after_loading(spec, tmp_path):
    model = build_model(spec, seed=1)
    model.eval()
    x = torch.rand(3, spec.seq_len, spec.n_features) * 2 - 1
    path = tmp_path / "model.safetensors"
    raw = save(model, path, data={"source": "sine", "noise": 0.02},
               training={"epochs": 5, "clip_norm": None},
               losses={"train": [0.4, 0.2], "val": [0.5, math.nan]})
    assert path.read_bytes() == raw
    for source in (raw, path, str(path)):
        loaded = load(source)
        assert loaded.spec == spec
        rebuilt = build_loaded(loaded).eval()
        other = build_model(spec, seed=2).eval()
        load_into(other, source)
        with torch.no_grad():
            assert torch.equal(rebuilt(x), model(x))
            assert torch.equal(other(x), model(x))
    spec_back, state, metadata = load(raw)  # unpacks as (spec, state_dict, metadata)
    assert same_state(state, model.state_dict())
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["data"] == {"source": "sine", "noise": 0.02}
    assert metadata["training"] == {"epochs": 5, "clip_norm": None}
    assert metadata["losses"]["train"] == [0.4, 0.2]
    assert metadata["losses"]["val"][0] == 0.5 and math.isnan(metadata["losses"]["val"][1])


def test_the_corpus_holds_exactly_the_files_the_test_expects():
    names = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.name != "__pycache__"}
    assert names == set(EXPECTED) | {"good.safetensors"}
    assert all((CORPUS / name).stat().st_size < 8192 for name in names)


def test_the_corpus_good_file_loads_into_the_base_model():
    model = build_model(BASE_SPEC, seed=5)
    loaded = load_into(model, CORPUS / "good.safetensors")
    assert same_state(model.state_dict(), build_model(BASE_SPEC, seed=0).state_dict())
    assert loaded.metadata["training"] == {"epochs": 3}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bad_file_gets_its_message_and_the_model_is_kept(name):
    model = build_model(BASE_SPEC, seed=7)
    before = state_copy(model)
    raw = (CORPUS / name).read_bytes()
    for source in (raw, CORPUS / name):
        with pytest.raises(WeightsError) as caught:
            load_into(model, source)
        assert EXPECTED[name] in str(caught.value)
        assert same_state(model.state_dict(), before)


def test_no_file_is_ever_unpickled(monkeypatch):
    """Loading every corpus file never reaches pickle or torch.load, and no pickled code runs."""
    def refuse(*args, **kwargs):
        raise AssertionError("a weights file was unpickled")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.delenv("LSTMAE_PICKLE_RAN", raising=False)
    for path in CORPUS.iterdir():
        if path.suffix != ".py" and path.name != "good.safetensors" and path.is_file():
            with pytest.raises(WeightsError):
                load(path, expected=BASE_SPEC)
    assert "LSTMAE_PICKLE_RAN" not in os.environ


def test_the_code_pickle_really_would_run_code():
    """The corpus' pickle is a real threat (so refusing it unopened means something)."""
    before = os.environ.pop("LSTMAE_PICKLE_RAN", None)
    try:
        pickle.loads((CORPUS / "pickle_runs_code.pkl").read_bytes())  # on purpose: the threat itself
        assert os.environ.get("LSTMAE_PICKLE_RAN") == "1"
    finally:
        os.environ.pop("LSTMAE_PICKLE_RAN", None)
        if before is not None:
            os.environ["LSTMAE_PICKLE_RAN"] = before


def test_the_corpus_torch_file_is_what_torch_save_writes():
    """torch itself (weights_only, which never runs code) reads the corpus' torch.save file."""
    state = torch.load(io.BytesIO((CORPUS / "torch_save.pt").read_bytes()), weights_only=True)
    assert same_state(state, build_model(BASE_SPEC, seed=0).state_dict())


def test_other_files_load_as_new_models_without_an_expected_spec():
    loaded = load(CORPUS / "other_arch.safetensors")
    assert loaded.spec.arch == "hidden_n"
    assert build_loaded(loaded).spec == loaded.spec


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    raw = save(build_model(BASE_SPEC))
    with pytest.raises(WeightsError, match=rf"too large: .* \({len(raw)} bytes\); the limit is "
                                           rf".* \(100 bytes\)"):
        load(raw, max_bytes=100)
    huge = tmp_path / "huge.safetensors"
    with open(huge, "wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: takes no disk space
    with pytest.raises(WeightsError, match=f"too large: .* \\({MAX_BYTES + 1} bytes\\)"):
        load(huge)


def test_the_size_limit_holds_the_largest_model_the_knobs_allow():
    spec = ModelSpec(arch="hidden_n", seq_len=int(KNOB["seq_len"].high),
                     n_features=int(KNOB["n_features"].high), units=int(KNOB["units"].high))
    raw = save(build_model(spec))
    assert len(raw) < MAX_BYTES
    assert load(raw, expected=spec).spec == spec


def test_a_missing_path_and_a_wrong_type_are_refused(tmp_path):
    with pytest.raises(WeightsError, match="could not read .*nothing.safetensors"):
        load(tmp_path / "nothing.safetensors")
    with pytest.raises(WeightsError, match="bytes or a file path, got int"):
        load(42)


def test_settings_that_are_not_json_are_refused_at_save():
    model = build_model(BASE_SPEC)
    with pytest.raises(WeightsError, match="the training settings cannot be saved as JSON"):
        save(model, training={"lr": object()})
    with pytest.raises(WeightsError, match=r"losses\['train'\] must be a list of numbers"):
        save(model, losses={"train": ["low"]})


def test_spec_differences_name_each_field_that_builds_another_model():
    a = ModelSpec(arch="encdec_ad", seq_len=10, units=8, handoff="hc")
    b = ModelSpec(arch="encdec_ad", seq_len=12, units=8, handoff="h", bins=9)  # bins: unused
    assert spec_differences(a, b) == ["seq_len: file 10, current 12",
                                      "handoff: file hc, current h"]
    assert spec_differences(a, a) == []


def test_the_header_length_is_read_as_little_endian():
    """A header of 8 + n bytes whose length field is big-endian reads as a huge header."""
    raw = save(build_model(BASE_SPEC))
    (length,) = struct.unpack_from("<Q", raw)
    swapped = struct.pack(">Q", length) + raw[8:]
    with pytest.raises(WeightsError, match="over the limit"):
        load(swapped)
