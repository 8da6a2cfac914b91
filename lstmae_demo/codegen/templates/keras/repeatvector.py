"""Template: the exported Keras build() of `repeatvector` (see codegen/templating.py).

Layer names are the trace records' keys (lstmae_demo.shapes.records.LayerRecord.key); the
rows Keras prints for this model are codegen.keras_rows(spec), held to Keras by the tests.
"""

import keras
from keras import layers

SEQ_LEN = N_FEATURES = UNITS = 2  # stand-ins: the exported script defines them from the spec
ACTIVATION = "tanh"


# <<< build
def build() -> keras.Model:
    """Brownlee's LSTM autoencoder: (None, T, F) -> (None, T, F)."""
    x = keras.Input(shape=(SEQ_LEN, N_FEATURES), name="input")  # (None, T, F)
    # return_sequences=False (the default): only the last step's output, (None, U): the code.
    # PyTorch: nn.LSTM's output[:, -1], the same numbers as h_n[-1].
    z = layers.LSTM(UNITS, activation=ACTIVATION, name="encoder_lstm")(x)
    # An LSTM reads sequences: copy the code to every step. (None, U) -> (None, T, U)
    z_steps = layers.RepeatVector(SEQ_LEN, name="repeatvector")(z)
    # return_sequences=True: one output per step. (None, T, U)
    y = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                    name="decoder_lstm")(z_steps)
    # TimeDistributed: the same Dense(F) at every step. (None, T, U) -> (None, T, F)
    out = layers.TimeDistributed(layers.Dense(N_FEATURES), name="output_linear")(y)
    return keras.Model(x, out, name="repeatvector_autoencoder")
# >>>
