"""The app's settings: the server's training budget, with real parameter counts."""

from __future__ import annotations

import pytest

from lstmae_demo.archs import build_model, count_params
from lstmae_demo.config import MAX_WORK, AppConfig, training_budget
from lstmae_demo.settings import defaults
from lstmae_demo.spec import ARCHS


def budget(**changes) -> str | None:
    config = AppConfig(defaults() | changes)
    return training_budget(config, count_params(build_model(config.spec)))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("units", [32, 64])
def test_the_defaults_and_double_the_units_fit_the_budget(arch: str, units: int) -> None:
    assert budget(arch=arch, units=units) is None


def test_the_published_ecg_model_size_fits_at_the_default_run() -> None:
    # hidden_n at 128 units is the ECG tutorial's 990,465-parameter model
    config = AppConfig(defaults() | {"arch": "hidden_n", "units": 128})
    assert count_params(build_model(config.spec)) == 990_465
    assert budget(arch="hidden_n", units=128) is None


def test_the_largest_settings_are_refused_with_what_to_lower() -> None:
    message = budget(arch="hidden_n", units=256, seq_len=200, epochs=300, n_series=2048)
    assert message is not None
    assert f"limit is {MAX_WORK:.2g}" in message
    assert "Lower the epochs, series, sequence length or units" in message
