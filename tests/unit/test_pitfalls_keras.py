"""The Keras pitfall's recorded texts are what real Keras says now (Keras: a dev dependency)."""

import os

import numpy as np
import pytest

from lstmae_demo.pitfalls import run_pitfall
from lstmae_demo.pitfalls.catalogue import MISSING_RETURN_SEQUENCES
from lstmae_demo.pitfalls.keras_record import record
from lstmae_demo.pitfalls.runner import recorded

pytestmark = pytest.mark.slow
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture
def keras():
    """Keras, imported when a test runs, not when the module is collected: the import takes
    seconds, which the fast subset (it deselects these slow tests) would pay on every worker."""
    import keras

    return keras


def _decoder(keras, head):
    layers = keras.layers
    return [keras.Input(shape=(9, 1)), layers.LSTM(100, activation="relu"),
            layers.RepeatVector(9), layers.LSTM(100, activation="relu"), head]


def test_the_record_is_what_keras_does_now():
    """Runs the three Keras snippets for real; re-record with
    `python -m lstmae_demo.pitfalls.keras_record` if Keras changed."""
    assert record() == recorded(MISSING_RETURN_SEQUENCES)


def test_the_shown_message_is_keras_own_error_made_directly(keras):
    layers = keras.layers
    with pytest.raises(ValueError) as info:
        keras.Sequential(_decoder(keras, layers.TimeDistributed(layers.Dense(1))))
    result = run_pitfall("missing_return_sequences")
    assert result.message.splitlines()[0] == f"ValueError: {info.value}"
    assert result.message_source == f"Keras {keras.__version__} (recorded)"


def test_a_plain_dense_gives_one_value_per_series_and_the_loss_broadcasts(keras):
    model = keras.Sequential(_decoder(keras, keras.layers.Dense(1)))
    assert model.output_shape == (None, 1)
    assert "output shape (None, 1)" in run_pitfall("missing_return_sequences").message
    # The explanation's claim: Keras's MSE compares the one value with all nine targets.
    target = np.linspace(0.1, 0.9, 9).reshape((1, 9, 1)).astype("float32")
    value = np.array([[0.3]], dtype="float32")
    loss = float(keras.losses.MeanSquaredError()(target, value))
    assert loss == pytest.approx(float(((target - 0.3) ** 2).mean()), rel=1e-6)
