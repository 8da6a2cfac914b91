"""Trained weights in one file that cannot run code when it is read: safetensors.

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's
dtype, shape and byte range, plus a string-to-string "__metadata__"), then the raw tensor bytes.
Reading one parses JSON and copies bytes; nothing in it is executed, unlike a pickle (what
`torch.save` writes), whose loading can call any Python function. This module never unpickles:
a pickle or a `torch.save` file is recognised by its first bytes and refused unopened.

The metadata of a file written by `save`:

    format          "lstmae-weights"
    format_version  "1" (FORMAT_VERSION); a file from a newer version is refused
    spec            JSON of ModelSpec.to_dict()
    data            JSON object: the data settings (free-form, e.g. a data config's fields)
    training        JSON object: the training settings (e.g. TrainConfig.to_dict())
    losses          JSON object of lists of numbers, e.g. {"train": [...], "val": [...]};
                    a non-finite loss is stored as null and read back as NaN

    save(model, path=None, data=..., training=..., losses=...) -> bytes
    load(bytes or path, expected=None) -> Loaded(spec, state_dict, metadata)
    load_into(model, bytes or path)  # the model is changed only once every check has passed
    build_loaded(loaded) -> a new model holding the loaded weights
    read_file(bytes, name) -> (WeightsFile, Loaded)  # a checked file a run can start from

Every refusal raises WeightsError saying what is wrong (or what differs) and what is allowed.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .archs import Autoencoder, build_model
from .settings import MODEL_FIELDS
from .spec import ModelSpec, SpecError, normalised

FORMAT = "lstmae-weights"  # the "format" metadata value of every file this app writes
FORMAT_VERSION = 1  # the newest format this module reads and the one it writes
MAX_BYTES = 32 * 2**20  # largest file accepted (the largest model at the knob limits is ~15 MB)
MAX_HEADER_BYTES = 2**20  # largest JSON header accepted (tensor list and metadata)
SUFFIX = ".safetensors"  # the file name ending to offer for a download
_LENGTH = struct.Struct("<Q")  # the header length: an unsigned 64-bit little-endian integer
_KEYS = ("format", "format_version", "spec", "data", "training", "losses")


class WeightsError(ValueError):
    """A weights file that cannot be used; the message says what is wrong or what differs."""


class Loaded(NamedTuple):
    """What a weights file holds: unpacks as (spec, state_dict, metadata)."""

    spec: ModelSpec
    state_dict: dict[str, torch.Tensor]
    metadata: dict[str, Any]  # format_version (int), data, training (dicts), losses (lists)


def save(model: Autoencoder, path: str | os.PathLike | None = None, *,
         data: Mapping[str, Any] | None = None, training: Mapping[str, Any] | None = None,
         losses: Mapping[str, Sequence[float]] | None = None) -> bytes:
    """The model's weights, spec and settings as safetensors bytes; also written to `path`."""
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "spec": json.dumps(model.spec.to_dict(), sort_keys=True),
        "data": _json_object("data", data or {}),
        "training": _json_object("training", training or {}),
        "losses": json.dumps(_losses_for_json(losses or {}), allow_nan=False),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    raw = save_tensors(tensors, metadata)
    if path is not None:
        with open(path, "wb") as file:
            file.write(raw)
    return raw


def load(source: bytes | bytearray | memoryview | str | os.PathLike,
         expected: ModelSpec | None = None, max_bytes: int = MAX_BYTES) -> Loaded:
    """Read and check a weights file (bytes, or a path); with `expected`, the model must match."""
    raw = _read(source, max_bytes)
    _refuse_other_formats(raw)
    header = _header(raw)
    metadata = _our_metadata(header)
    spec = _spec(metadata["spec"])
    if expected is not None:
        _check_expected(spec, expected)
    state = _tensors(raw, header, spec)
    return Loaded(spec=spec, state_dict=state, metadata={
        "format_version": _version(metadata["format_version"]),
        "data": _parse_object("data", metadata["data"]),
        "training": _parse_object("training", metadata["training"]),
        "losses": _parse_losses(metadata["losses"]),
    })


def load_into(model: Autoencoder, source: bytes | bytearray | memoryview | str | os.PathLike,
              max_bytes: int = MAX_BYTES) -> Loaded:
    """Put a file's weights into `model`, whose spec it must match; a refused file leaves the
    model exactly as it was (every check runs before the first weight is copied)."""
    loaded = load(source, expected=model.spec, max_bytes=max_bytes)
    current = model.state_dict()
    for name, tensor in loaded.state_dict.items():  # the same names and shapes: checked by load
        if current[name].shape != tensor.shape:
            raise WeightsError(f"weight {name!r} has shape {tuple(tensor.shape)} in the file but "
                               f"{tuple(current[name].shape)} in the current model")
    model.load_state_dict(loaded.state_dict, strict=True)
    return loaded


def build_loaded(loaded: Loaded) -> Autoencoder:
    """A new model of the file's spec holding the file's weights."""
    model = build_model(loaded.spec)
    model.load_state_dict(loaded.state_dict, strict=True)
    return model


@dataclass(frozen=True)
class WeightsFile:
    """A weights file that was read without error, as a run's starting point: its bytes and
    the SHA-256 of what they hold (equality and hashing use the hash, so a JobSpec holding it
    stays cheap to compare, and another process rebuilds the same model from the bytes alone).
    The hash is of the spec and the weights, not of the bytes: safetensors orders its header's
    keys differently from one save to the next, and the same model must give the same run."""

    sha256: str
    raw: bytes = field(compare=False, repr=False)
    name: str = field(default="", compare=False)  # as uploaded (for display only)

    @property
    def nbytes(self) -> int:
        """The bytes this file keeps in memory."""
        return len(self.raw)

    def load(self, expected: ModelSpec | None = None) -> Loaded:
        """The file's contents, checked again (and against `expected`, if given)."""
        loaded = load(self.raw, expected=expected, max_bytes=max(MAX_BYTES, len(self.raw)))
        if content_hash(loaded) != self.sha256:
            raise WeightsError("the weights file's contents do not match their SHA-256")
        return loaded


def content_hash(loaded: Loaded) -> str:
    """SHA-256 of a file's model: its spec and every weight's name, dtype, shape and values."""
    digest = hashlib.sha256(json.dumps(loaded.spec.to_dict(), sort_keys=True).encode())
    for name in sorted(loaded.state_dict):
        tensor = loaded.state_dict[name].contiguous()
        digest.update(f"\0{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def read_file(raw: bytes | bytearray | memoryview, name: str = "",
              max_bytes: int = MAX_BYTES) -> tuple[WeightsFile, Loaded]:
    """Check a weights file's bytes (WeightsError says what is wrong) and keep them."""
    loaded = load(raw, max_bytes=max_bytes)
    return WeightsFile(sha256=content_hash(loaded), raw=bytes(raw), name=name), loaded


def spec_differences(found: ModelSpec, expected: ModelSpec) -> list[str]:
    """The fields in which two specs build different models, as 'field: file X, current Y'."""
    a, b = normalised(found), normalised(expected)
    return [f"{name}: file {getattr(a, name)}, current {getattr(b, name)}"
            for name in MODEL_FIELDS if getattr(a, name) != getattr(b, name)]


# --- reading ---------------------------------------------------------------------------------


def _read(source: object, max_bytes: int) -> bytes:
    """The file's bytes (from bytes or a path), refusing anything over max_bytes unread."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
    elif isinstance(source, str | os.PathLike):
        raw = _read_path(source, max_bytes)
    else:
        raise WeightsError(f"weights come as bytes or a file path, got {type(source).__name__}")
    if len(raw) > max_bytes:
        _too_large(len(raw), max_bytes)
    if not raw:
        raise WeightsError(f"the file is empty; a weights file is a {SUFFIX} file saved by "
                           "this app")
    return raw


def _read_path(path: str | os.PathLike, max_bytes: int) -> bytes:
    """Read at most max_bytes + 1 bytes, checking the size before reading anything."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            _too_large(size, max_bytes)
        with open(path, "rb") as file:
            return file.read(max_bytes + 1)
    except OSError as err:
        raise WeightsError(f"could not read {os.fspath(path)!r}: {err.strerror or err}") from err


def _too_large(n_bytes: int, max_bytes: int) -> None:
    raise WeightsError(f"the file is too large: {n_bytes / 2**20:.1f} MB ({n_bytes} bytes); "
                       f"the limit is {max_bytes / 2**20:g} MB ({max_bytes} bytes)")


_NOT_OURS = f"only {SUFFIX} files saved by this app are read"


def _refuse_other_formats(raw: bytes) -> None:
    """Recognise pickles, torch.save files and other formats by their first bytes; never open."""
    if raw[:4] == b"PK\x03\x04":
        raise WeightsError(_describe_zip(raw))
    if raw[0] == 0x80 and len(raw) > 1 and 2 <= raw[1] <= 5:
        raise WeightsError("this is a Python pickle (perhaps an old torch.save file); it was not "
                           "opened, because loading a pickle can run any code it contains; "
                           + _NOT_OURS)
    if raw[:8] == b"\x89HDF\r\n\x1a\n":
        raise WeightsError(f"this is an HDF5 file (a Keras .h5 file?), not a weights file of "
                           f"this app; {_NOT_OURS}")


def _describe_zip(raw: bytes) -> str:
    """What a zip archive is, from its list of names only (nothing in it is extracted)."""
    try:
        names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        names = []
    # torch.save writes "<name>/data.pkl" first, so a cut-off one still shows it near the start
    if any(name.endswith(".pkl") for name in names) or b"data.pkl" in raw[:512]:
        return ("this is a PyTorch torch.save file: a zip archive holding a pickle; it was not "
                "opened, because loading a pickle can run any code it contains; " + _NOT_OURS)
    if "config.json" in names or "model.weights.h5" in names:
        return f"this is a Keras .keras archive, not a weights file of this app; {_NOT_OURS}"
    return f"this is a zip archive, not a weights file; {_NOT_OURS}"


def _header(raw: bytes) -> dict[str, Any]:
    """The JSON header of a safetensors file, with clear messages for everything else."""
    if len(raw) < _LENGTH.size:
        raise WeightsError(f"the file is truncated or not a weights file: it has {len(raw)} "
                           f"bytes, fewer than the {_LENGTH.size} a {SUFFIX} header length takes")
    (length,) = _LENGTH.unpack_from(raw)
    if length > MAX_HEADER_BYTES:
        raise WeightsError(f"this is not a {SUFFIX} weights file{_text_hint(raw)}: its first "
                           f"8 bytes give a header of {length} bytes, over the limit of "
                           f"{MAX_HEADER_BYTES}; {_NOT_OURS}")
    if _LENGTH.size + length > len(raw):
        raise WeightsError(f"the file is truncated: its header says the description alone is "
                           f"{length} bytes, but only {len(raw) - _LENGTH.size} bytes follow")
    try:
        header = json.loads(raw[_LENGTH.size:_LENGTH.size + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f"the file is corrupt: its header is not valid JSON ({err}); "
                           f"{_NOT_OURS}") from None
    if not isinstance(header, dict):
        raise WeightsError(f"the file is corrupt: its header is a JSON {type(header).__name__}, "
                           "not an object")
    return header


def _text_hint(raw: bytes) -> str:
    """' (it is a text file starting "...")' when the first bytes are printable text."""
    start = raw[:40].decode("utf-8", errors="replace")
    if not all(c.isprintable() or c in "\r\n\t" for c in start):
        return ""
    lines = start.strip().splitlines() or [start]
    return f" (it is a text file starting {lines[0][:30]!r})"


def _our_metadata(header: Mapping[str, Any]) -> dict[str, str]:
    """The metadata of a file this app wrote, or WeightsError saying whose file it is not."""
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        names = [k for k in header if k != "__metadata__"]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise WeightsError(f"this is a {SUFFIX} file, but not one saved by this app: its "
                           f"metadata has no \"format\": \"{FORMAT}\" (it holds "
                           f"{len(names)} tensor{'' if len(names) == 1 else 's'}: "
                           f"{shown or 'none'})")
    missing = [k for k in _KEYS if not isinstance(metadata.get(k), str)]
    if missing:
        raise WeightsError(f"the file is corrupt: its metadata lacks {', '.join(missing)}")
    _version(metadata["format_version"])
    return metadata


def _version(text: str) -> int:
    """The format version, refusing a newer one than this app reads."""
    try:
        version = int(text)
    except ValueError:
        raise WeightsError(f"the file is corrupt: its format version {text[:20]!r} is not a "
                           "whole number") from None
    if version > FORMAT_VERSION:
        raise WeightsError(f"the file was saved by a newer version of this app (format version "
                           f"{version}; this app reads up to {FORMAT_VERSION}); update the app")
    if version < 1:
        raise WeightsError(f"the file is corrupt: format version {version} does not exist "
                           f"(versions start at 1)")
    return version


def _spec(text: str) -> ModelSpec:
    """The file's ModelSpec, strictly parsed."""
    try:
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        return ModelSpec.from_dict(values)
    except (ValueError, SpecError) as err:
        raise WeightsError(f"the file's model description (spec) is invalid: {err}") from None


def _check_expected(found: ModelSpec, expected: ModelSpec) -> None:
    """Refuse a file whose model is not the expected one, naming every difference."""
    differences = spec_differences(found, expected)
    if differences:
        raise WeightsError("the file holds another model than the current one ("
                           + "; ".join(differences) + "); load it as a new model instead")


def _tensors(raw: bytes, header: Mapping[str, Any], spec: ModelSpec) -> dict[str, torch.Tensor]:
    """The tensors, checked to be exactly the weights `spec`'s model has, and finite."""
    _check_extent(raw, header)
    try:
        tensors = load_tensors(raw)
    except SafetensorError as err:
        raise WeightsError(f"the file is corrupt: {err}") from None
    reference = build_model(spec).state_dict()
    missing = sorted(set(reference) - set(tensors))
    extra = sorted(set(tensors) - set(reference))
    if missing or extra:
        raise WeightsError(f"the file's weights do not fit its own spec ({spec.arch}): missing "
                           f"{missing or 'none'}, unexpected {extra or 'none'}")
    for name, want in reference.items():
        got = tensors[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise WeightsError(f"the file's weight {name!r} is {got.dtype} {tuple(got.shape)}, "
                               f"but its spec's model has {want.dtype} {tuple(want.shape)}")
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise WeightsError(f"the file's weight {name!r} holds NaN or infinite values; "
                               "a model trained to divergence cannot be loaded")
    return {name: tensors[name] for name in reference}


def _check_extent(raw: bytes, header: Mapping[str, Any]) -> None:
    """Refuse a file whose tensor bytes end before (truncated) or after (corrupt) the data."""
    data = len(raw) - _LENGTH.size - _LENGTH.unpack_from(raw)[0]
    ends = [info.get("data_offsets", [0, 0])[-1] for key, info in header.items()
            if key != "__metadata__" and isinstance(info, dict)]
    needed = max((e for e in ends if isinstance(e, int)), default=0)
    if needed > data:
        raise WeightsError(f"the file is truncated: its tensors need {needed} bytes of data, "
                           f"but only {data} are there")
    if needed < data:
        raise WeightsError(f"the file is corrupt: {data - needed} bytes follow the last tensor")


def _parse_object(name: str, text: str) -> dict[str, Any]:
    """A metadata entry that must be a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise WeightsError(f"the file is corrupt: its {name} settings are not JSON ({err})") \
            from None
    if not isinstance(value, dict):
        raise WeightsError(f"the file is corrupt: its {name} settings are a JSON "
                           f"{type(value).__name__}, not an object")
    return value


def _parse_losses(text: str) -> dict[str, list[float]]:
    """The losses: lists of numbers (null read as NaN) by name."""
    value = _parse_object("losses", text)
    for name, series in value.items():
        if not isinstance(series, list) or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in series):
            raise WeightsError(f"the file is corrupt: its {name!r} losses are not a list of "
                               "numbers")
    return {k: [math.nan if v is None else float(v) for v in s] for k, s in value.items()}


# --- writing ---------------------------------------------------------------------------------


def _json_object(name: str, values: Mapping[str, Any]) -> str:
    """A mapping as JSON, or WeightsError naming what cannot be written."""
    if not isinstance(values, Mapping):
        raise WeightsError(f"{name} must be a mapping of settings, got {type(values).__name__}")
    try:
        return json.dumps(dict(values), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise WeightsError(f"the {name} settings cannot be saved as JSON: {err}") from None


def _losses_for_json(losses: Mapping[str, Sequence[float]]) -> dict[str, list[float | None]]:
    """Each loss series as a list of floats, a non-finite loss as None (JSON null)."""
    if not isinstance(losses, Mapping):
        raise WeightsError(f"losses must map names to lists of numbers, got "
                           f"{type(losses).__name__}")
    out = {}
    for name, series in losses.items():
        try:
            numbers = [float(v) for v in series]
        except (TypeError, ValueError):
            raise WeightsError(f"losses[{name!r}] must be a list of numbers") from None
        out[str(name)] = [v if math.isfinite(v) else None for v in numbers]
    return out
