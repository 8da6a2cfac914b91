"""Specs and the knob table: validation messages, the URL round-trip and the lenient URL parse."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstmae_demo.config import AppConfig
from lstmae_demo.settings import ARCHS, KNOB, KNOBS, MODEL_FIELDS, parse_params, to_params
from lstmae_demo.spec import ModelSpec, SpecError, normalised, preset, validate


@pytest.mark.parametrize("arch", ARCHS)
def test_presets_are_valid_and_round_trip(arch: str) -> None:
    spec = preset(arch)
    assert validate(spec) is spec
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert all(isinstance(v, str) for v in spec.to_dict().values())


def test_to_dict_keeps_only_fields_the_arch_uses() -> None:
    assert "bins" not in preset("repeatvector").to_dict()
    assert {"bins", "reads"} <= set(preset("embedding").to_dict())
    assert {"decoder", "handoff"} <= set(preset("encdec_ad").to_dict())
    assert "n_features" not in preset("embedding").to_dict()


def test_every_model_field_is_a_knob_and_every_knob_default_is_valid() -> None:
    assert {f.name for f in dataclasses.fields(ModelSpec)} == set(MODEL_FIELDS)
    for knob in KNOBS:
        assert knob.parse(knob.default) == knob.default, knob.name
        assert set(knob.archs) <= set(ARCHS), knob.name
        if knob.archs != ARCHS:
            assert knob.why_not, f"{knob.name} needs a reason why other archs ignore it"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"arch": "transformer"}, "arch must be one of"),
        ({"seq_len": "0"}, "seq_len must be between 1 and 200"),
        ({"arch": "encdec_ad", "seq_len": "1"}, "encdec_ad needs seq_len >= 2"),
        ({"units": "lots"}, "units must be a whole number between 1 and 256, got 'lots'"),
        ({"units": "257"}, "units must be between 1 and 256"),
        ({"activation": "sigmoid"}, "activation must be one of tanh, relu"),
        ({"arch": "embedding", "reads": "everything"}, "reads must be one of state, attention"),
        ({"arch": "embedding", "n_features": "3"}, "embedding needs n_features = 1"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_from_dict_rejects_with_clear_messages(values: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_dict(values)


@pytest.mark.parametrize("arch", ["repeatvector", "embedding", "hidden_n"])
def test_one_time_step_is_accepted_where_the_frameworks_accept_it(arch: str) -> None:
    assert validate(ModelSpec(arch=arch, seq_len=1)).seq_len == 1


def test_validate_reports_every_problem_at_once() -> None:
    bad = dataclasses.replace(preset("repeatvector"), seq_len=0, units=0)
    with pytest.raises(SpecError) as err:
        validate(bad)
    assert "seq_len" in str(err.value) and "units" in str(err.value)


def test_validate_refuses_a_float_or_bool_for_a_whole_number() -> None:
    for bad in (2.5, True):
        with pytest.raises(SpecError, match="units must be an int"):
            validate(dataclasses.replace(preset("repeatvector"), units=bad))


def test_normalised_puts_ignored_knobs_at_their_defaults() -> None:
    odd = ModelSpec(arch="repeatvector", bins=7, reads="steps", handoff="hc")
    assert normalised(odd) == preset("repeatvector")
    assert normalised(ModelSpec(arch="embedding", bins=7)).bins == 7


def test_url_parse_keeps_good_values_and_notes_bad_ones() -> None:
    values, notes = parse_params({"arch": "hidden_n", "units": "9999", "seq_len": "80"})
    assert values["arch"] == "hidden_n" and values["seq_len"] == 80
    assert values["units"] == KNOB["units"].default
    assert len(notes) == 1 and "units" in notes[0] and "between 1 and 256" in notes[0]


def test_url_parse_with_unknown_arch_falls_back() -> None:
    values, notes = parse_params({"arch": "gru"})
    assert AppConfig(values).spec == preset("repeatvector")
    assert notes and "arch" in notes[0]


def test_url_parse_applies_an_arch_s_stricter_limit() -> None:
    values, notes = parse_params({"arch": "encdec_ad", "seq_len": "1"})
    assert values["seq_len"] == KNOB["seq_len"].default
    assert any("encdec_ad needs seq_len >= 2" in n for n in notes)


def test_a_rejected_value_is_echoed_short_and_inert() -> None:
    """A link's value comes back in a note as quoted text, cut, never whole."""
    long = "![i](http://example.invalid/t.png)" + "x" * 10_000
    _values, notes = parse_params({"lr": long})
    assert len(notes) == 1 and len(notes[0]) < 200
    assert "(cut)" in notes[0] and "'![i](http://example.inv" in notes[0]


def test_to_params_holds_only_changed_values_and_round_trips() -> None:
    values, _ = parse_params({"arch": "embedding", "reads": "state", "units": "16"})
    assert to_params(values) == {"arch": "embedding", "reads": "state", "units": "16"}
    assert parse_params(to_params(values)) == (values, [])


@given(
    arch=st.sampled_from(ARCHS),
    values=st.dictionaries(st.sampled_from([k.name for k in KNOBS]), st.text(max_size=6),
                           max_size=5),
)
def test_url_parse_never_raises_and_always_gives_a_valid_spec(arch: str, values: dict) -> None:
    parsed, _notes = parse_params({"arch": arch, **values})
    spec = AppConfig(parsed).spec
    assert validate(spec) is spec


def test_every_pitfall_belongs_to_an_architecture_and_every_listed_key_exists() -> None:
    from lstmae_demo.archs import REGISTRY
    from lstmae_demo.pitfalls import pitfall_keys

    listed = {key for arch in REGISTRY.values() for key in arch.pitfalls}
    assert listed == set(pitfall_keys())
