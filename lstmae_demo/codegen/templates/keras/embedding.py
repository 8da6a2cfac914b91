"""Template: the exported Keras build() of `embedding`, for each choice of what the decoder
reads (flags reads_state, reads_attention, reads_steps; see codegen/templating.py).

Layer names are the trace records' keys where a record exists; the rows Keras prints are
codegen.keras_rows(spec).
"""

import keras
from keras import layers, ops

SEQ_LEN = BINS = UNITS = 2  # stand-ins: the exported script defines them from the spec
ACTIVATION = "tanh"
BIN_BOUNDARIES = [0.0]


# <<< build
def build() -> keras.Model:
    """Quantise -> Embedding -> LSTM encoder -> decoder -> Dense: (None, T, 1) -> (None, T, K).

    # [if reads_state]
    The decoder reads only the encoder's final state [h, c] and is fed zeros.
    # [end]
    # [if reads_attention]
    The decoder starts from the encoder's final state [h, c], is fed zeros, and reads every
    encoder output through dot-product attention.
    # [end]
    # [if reads_steps]
    The decoder is fed every encoder output, step by step.
    # [end]
    """
    x = keras.Input(shape=(SEQ_LEN, 1), name="input")  # (None, T, 1)
    values = layers.Reshape((SEQ_LEN,), name="drop_feature_axis")(x)  # (None, T)
    # Floats -> bin ids, because Embedding looks up integers: (None, T) -> (None, T) ints
    ids = layers.Discretization(bin_boundaries=BIN_BOUNDARIES, name="quantize")(values)
    vectors = layers.Embedding(BINS, UNITS, name="embedding")(ids)  # (None, T, U)
    # [if reads_state or reads_attention]
    # The decoder will be fed no values: zeros, (None, T, 1).
    nothing = layers.Lambda(ops.zeros_like, output_shape=(SEQ_LEN, 1), name="zero_inputs")(x)
    # [end]
    # [if reads_state]
    # return_state=True: [output, h, c], each (None, U); only the state [h, c] is kept.
    _, h, c = layers.LSTM(UNITS, activation=ACTIVATION, return_state=True,
                          name="encoder_lstm")(vectors)
    # Fed zeros, started from [h, c]: everything it rebuilds must come through the state.
    y = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                    name="decoder_lstm")(nothing, initial_state=[h, c])  # (None, T, U)
    # Keras 3's Dense acts on the last axis of a 3-D input: a score per bin at every step.
    scores = layers.Dense(BINS, name="output_linear")(y)  # (None, T, U) -> (None, T, K)
    # [end]
    # [if reads_attention]
    # return_sequences=True and return_state=True: [outputs (None, T, U), h, c (None, U)].
    outputs, h, c = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                                return_state=True, name="encoder_lstm")(vectors)
    # Fed zeros, started from [h, c]; its outputs are the queries of the attention.
    y = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                    name="decoder_lstm")(nothing, initial_state=[h, c])  # (None, T, U)
    # Dot-product attention: each decoder step (the query) mixes every encoder output.
    context = layers.Attention(name="attention")([y, outputs])  # (None, T, U)
    both = layers.Concatenate(name="concat")([y, context])  # (None, T, 2U)
    # Keras 3's Dense acts on the last axis of a 3-D input: a score per bin at every step.
    scores = layers.Dense(BINS, name="output_linear")(both)  # (None, T, 2U) -> (None, T, K)
    # [end]
    # [if reads_steps]
    # return_sequences=True in both: every step's output is passed on, so no bottleneck.
    codes = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                        name="encoder_lstm")(vectors)  # (None, T, U)
    y = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                    name="decoder_lstm")(codes)  # (None, T, U)
    # Keras 3's Dense acts on the last axis of a 3-D input: a score per bin at every step.
    scores = layers.Dense(BINS, name="output_linear")(y)  # (None, T, U) -> (None, T, K)
    # [end]
    return keras.Model(x, scores, name="embedding_autoencoder")
# >>>
