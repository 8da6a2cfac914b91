"""Template: the exported Keras build() of `hidden_n` (see codegen/templating.py).

Layer names are the trace records' keys; the rows Keras prints are codegen.keras_rows(spec).
"""

import keras
from keras import layers

SEQ_LEN = N_FEATURES = EMBEDDING_DIM = 2  # stand-ins: the exported script defines them
ACTIVATION = "tanh"


# <<< build
def build() -> keras.Model:
    """The ECG tutorial's model in Keras: (None, T, F) -> (None, T, F)."""
    e = EMBEDDING_DIM
    x = keras.Input(shape=(SEQ_LEN, N_FEATURES), name="input")  # (None, T, F)
    # rnn1: (None, T, F) -> (None, T, 2E)
    y = layers.LSTM(2 * e, activation=ACTIVATION, return_sequences=True,
                    name="encoder_lstm_1")(x)
    # rnn2, return_sequences=False: the last output, (None, E): PyTorch's h_n[-1]. The code.
    z = layers.LSTM(e, activation=ACTIVATION, name="encoder_lstm_2")(y)
    # An LSTM reads sequences: copy the code to every step. (None, E) -> (None, T, E)
    z_steps = layers.RepeatVector(SEQ_LEN, name="repeatvector")(z)
    # (None, T, E) -> (None, T, E)
    y = layers.LSTM(e, activation=ACTIVATION, return_sequences=True,
                    name="decoder_lstm_1")(z_steps)
    # (None, T, E) -> (None, T, 2E)
    y = layers.LSTM(2 * e, activation=ACTIVATION, return_sequences=True,
                    name="decoder_lstm_2")(y)
    # The tutorial's nn.Linear(2E, F) acts on the last axis: TimeDistributed(Dense(F)).
    out = layers.TimeDistributed(layers.Dense(N_FEATURES), name="output_linear")(y)
    return keras.Model(x, out, name="recurrent_autoencoder")
# >>>
