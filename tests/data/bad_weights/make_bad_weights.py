"""Write the corpus of weights files that lstmae_demo.weights must refuse (and one it accepts).

Run from anywhere: python3 tests/data/bad_weights/make_bad_weights.py
Every file derives from one tiny model (BASE_SPEC, seed 0), so each is a few kB at most.
A rerun writes the same contents, though not always the same bytes: safetensors orders the
metadata keys of its JSON header differently from run to run, and torch's legacy pickle too.
tests/unit/test_weights.py holds the message each file must get.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for lstmae_demo

import torch  # noqa: E402
from safetensors.torch import save as save_tensors  # noqa: E402

from lstmae_demo.archs import build_model  # noqa: E402
from lstmae_demo.spec import ModelSpec  # noqa: E402
from lstmae_demo.weights import save  # noqa: E402

BASE_SPEC = ModelSpec(arch="repeatvector", seq_len=4, n_features=1, units=2)


class RunsCode:
    """Pickles to a call of exec: loading the pickle would set an environment variable."""

    def __reduce__(self):
        return exec, ("import os; os.environ['LSTMAE_PICKLE_RAN'] = '1'",)


def tensors_of(spec: ModelSpec) -> dict[str, torch.Tensor]:
    """The seed-0 weights of a model of `spec`."""
    return {k: v.contiguous() for k, v in build_model(spec, seed=0).state_dict().items()}


def metadata_of(model_spec: ModelSpec, **changes: str | None) -> dict[str, str]:
    """The metadata `save` writes for `model_spec`, with some entries changed (None drops one)."""
    metadata = {
        "format": "lstmae-weights", "format_version": "1",
        "spec": json.dumps(model_spec.to_dict()), "data": json.dumps({"source": "sine"}),
        "training": json.dumps({"epochs": 3}), "losses": json.dumps({"train": [0.5, 0.25]}),
    }
    metadata.update(changes)
    return {k: v for k, v in metadata.items() if v is not None}


def with_header(good: bytes, header: bytes) -> bytes:
    """`good`'s tensor bytes behind another header."""
    (length,) = struct.unpack_from("<Q", good)
    return struct.pack("<Q", len(header)) + header + good[8 + length:]


def keras_like() -> bytes:
    """A zip with the names a Keras 3 .keras file has (contents are placeholders)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in (("metadata.json", b"{}"), ("config.json", b"{}"),
                              ("model.weights.h5", b"\x89HDF\r\n\x1a\n")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def torch_saved(legacy: bool) -> bytes:
    """torch.save of the base weights, in the zip format or the legacy raw pickle."""
    buffer = io.BytesIO()
    torch.save(tensors_of(BASE_SPEC), buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def corpus() -> dict[str, bytes]:
    """File name -> content."""
    model = build_model(BASE_SPEC, seed=0)
    good = save(model, data={"source": "sine"}, training={"epochs": 3},
                losses={"train": [0.5, 0.25], "val": [0.6, float("nan")]})
    base = tensors_of(BASE_SPEC)
    garbled = bytearray(good)
    garbled[8] = ord("x")  # the header's opening brace
    nan = dict(base) | {"head.weight": torch.full_like(base["head.weight"],
                                                                float("nan"))}
    wide = {k: v.double() for k, v in base.items()}
    return {
        "good.safetensors": good,
        "empty.safetensors": b"",
        "seven_bytes.safetensors": good[:7],
        "truncated_header.safetensors": good[:40],
        "truncated_data.safetensors": good[:-10],
        "trailing_bytes.safetensors": good + bytes(16),
        "corrupt_header.safetensors": bytes(garbled),
        "header_not_object.safetensors": with_header(good, b"[1, 2]"),
        "huge_header_length.safetensors": struct.pack("<Q", 2**40) + bytes(32),
        "text.csv": b"timestamp,value\n2014-04-01 00:00:00,18.3\n2014-04-01 00:05:00,21.9\n",
        "torch_save.pt": torch_saved(legacy=False),
        "torch_save_cut.pt": torch_saved(legacy=False)[:300],
        "torch_legacy.pt": torch_saved(legacy=True),
        "pickle_runs_code.pkl": pickle.dumps(RunsCode(), protocol=4),
        "keras_like.keras": keras_like(),
        "hdf5_like.h5": b"\x89HDF\r\n\x1a\n" + bytes(56),
        "other_tool.safetensors": save_tensors({"w": torch.zeros(3)}, {"framework": "pt"}),
        "newer_version.safetensors": save_tensors(base, metadata_of(BASE_SPEC,
                                                                    format_version="2")),
        "bad_version.safetensors": save_tensors(base, metadata_of(BASE_SPEC,
                                                                  format_version="two")),
        "no_losses.safetensors": save_tensors(base, metadata_of(BASE_SPEC, losses=None)),
        "bad_losses.safetensors": save_tensors(base, metadata_of(BASE_SPEC,
                                                                 losses='{"train": "low"}')),
        "bad_spec.safetensors": save_tensors(base, metadata_of(
            BASE_SPEC, spec=json.dumps({"arch": "transformer"}))),
        "spec_not_tensors.safetensors": save_tensors(tensors_of(
            ModelSpec(arch="repeatvector", seq_len=4, n_features=1, units=3)),
            metadata_of(BASE_SPEC)),
        "extra_tensor.safetensors": save_tensors(base | {"extra.weight": torch.zeros(2)},
                                                 metadata_of(BASE_SPEC)),
        "nan_weights.safetensors": save_tensors(nan, metadata_of(BASE_SPEC)),
        "float64_weights.safetensors": save_tensors(wide, metadata_of(BASE_SPEC)),
        "other_arch.safetensors": save(build_model(
            ModelSpec(arch="hidden_n", seq_len=4, n_features=1, units=2), seed=0)),
        "other_size.safetensors": save(build_model(
            ModelSpec(arch="repeatvector", seq_len=4, n_features=1, units=3), seed=0)),
    }


def main() -> None:
    """Write every corpus file next to this script."""
    for name, content in corpus().items():
        (HERE / name).write_bytes(content)


if __name__ == "__main__":
    main()
