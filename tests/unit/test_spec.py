"""Specs: validation messages, the URL round-trip and the lenient URL parse."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstmae_demo.spec import (
    ARCHS,
    FIELDS,
    ModelSpec,
    SpecError,
    preset,
    spec_from_params,
    validate,
)


@pytest.mark.parametrize("arch", ARCHS)
def test_presets_are_valid_and_round_trip(arch: str) -> None:
    spec = preset(arch)
    assert validate(spec) is spec
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert all(isinstance(v, str) for v in spec.to_dict().values())


def test_to_dict_keeps_only_fields_the_arch_uses() -> None:
    assert "bins" not in preset("repeatvector").to_dict()
    assert "bins" in preset("embedding").to_dict()
    assert "decoder" in preset("encdec_ad").to_dict()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"arch": "transformer"}, "arch must be one of"),
        ({"seq_len": "1"}, "seq_len must be between 2 and 400, got 1"),
        ({"units": "lots"}, "units must be a whole number, got 'lots'"),
        ({"units": "513"}, "units must be between 1 and 512"),
        ({"activation": "sigmoid"}, "activation must be one of tanh, relu"),
        ({"arch": "embedding", "n_features": "3"}, "embedding needs n_features = 1"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_from_dict_rejects_with_clear_messages(values: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_dict(values)


def test_validate_reports_every_problem_at_once() -> None:
    bad = dataclasses.replace(preset("repeatvector"), seq_len=0, units=0)
    with pytest.raises(SpecError) as err:
        validate(bad)
    assert "seq_len" in str(err.value) and "units" in str(err.value)


def test_url_parse_keeps_good_values_and_notes_bad_ones() -> None:
    spec, notes = spec_from_params({"arch": "hidden_n", "units": "9999", "seq_len": "80"})
    assert spec.arch == "hidden_n" and spec.seq_len == 80
    assert spec.units == preset("hidden_n").units
    assert len(notes) == 1 and "units" in notes[0]


def test_url_parse_with_unknown_arch_falls_back() -> None:
    spec, notes = spec_from_params({"arch": "gru"})
    assert spec == preset("repeatvector")
    assert notes and "arch" in notes[0]


def test_url_parse_with_conflicting_values_falls_back_to_defaults() -> None:
    spec, notes = spec_from_params({"arch": "embedding", "n_features": "4"})
    assert spec == preset("embedding")
    assert any("n_features = 1" in n for n in notes)


@given(
    arch=st.sampled_from(ARCHS),
    values=st.dictionaries(st.sampled_from(sorted(FIELDS)), st.text(max_size=6), max_size=5),
)
def test_url_parse_never_raises_and_always_returns_a_valid_spec(arch: str, values: dict) -> None:
    spec, _notes = spec_from_params({"arch": arch, **values})
    assert validate(spec) is spec
