"""Template: the exported Keras build() of `encdec_ad`, for each hand-off (flags handoff_h,
handoff_hc) and decoder (conditional, unconditioned); see codegen/templating.py.

Layer names are the trace records' keys where a record exists; the rows Keras prints are
codegen.keras_rows(spec).
"""

import keras
from keras import layers, ops

SEQ_LEN = N_FEATURES = UNITS = 2  # stand-ins: the exported script defines them from the spec
ACTIVATION = "tanh"


# <<< build
def build() -> keras.Model:
    """EncDec-AD's training graph: (None, T, F) -> (None, T, F).

    # [if handoff_h]
    Hand-off as the paper writes it: h_E(L) starts the decoder, whose cell state is zeros.
    # [else]
    Hand-off as implementations usually do it: [h_E(L), c_E(L)] starts the decoder.
    # [end]

    # [if conditional]
    Conditional decoder: in training it is fed the true x(i) (teacher forcing), as here.
    At inference it is fed its own predictions instead, one step at a time (x'(i) in,
    h_D(i-1) out): a Python loop over a one-step LSTM, not this one graph.
    # [else]
    Unconditioned decoder: fed nothing (zeros), in training and at inference alike.
    # [end]
    """
    x = keras.Input(shape=(SEQ_LEN, N_FEATURES), name="input")  # (None, T, F)
    # return_state=True: [output, h, c], each (None, U). Only the state is used: it starts
    # the decoder. (output and h are the same numbers.)
    _, h, c = layers.LSTM(UNITS, activation=ACTIVATION, return_state=True,
                          name="encoder_lstm")(x)
    # [if conditional]
    # The decoder runs backwards, fed x(L), ..., x(2): (None, T, F) -> (None, T-1, F)
    decoder_inputs = layers.Lambda(lambda s: ops.flip(s, axis=1)[:, :-1],
                                   output_shape=(SEQ_LEN - 1, N_FEATURES),
                                   name="reversed_inputs")(x)
    # [else]
    # The decoder runs backwards in time, fed nothing: T-1 steps of zeros, (None, T-1, F)
    decoder_inputs = layers.Lambda(lambda s: ops.zeros_like(s[:, 1:]),
                                   output_shape=(SEQ_LEN - 1, N_FEATURES),
                                   name="zero_inputs")(x)
    # [end]
    # [if handoff_h]
    # Only h is handed over: the decoder's cell state starts at zero, (None, U).
    c = layers.Lambda(ops.zeros_like, output_shape=(UNITS,), name="zero_cell_state")(c)
    # [end]
    first = layers.Reshape((1, UNITS), name="h_d_last")(h)  # h_D(L) = h_E(L): (None, 1, U)
    # Started from the hand-off [h, c]: outputs h_D(L-1) ... h_D(1), (None, T-1, U)
    later = layers.LSTM(UNITS, activation=ACTIVATION, return_sequences=True,
                        name="decoder_lstm")(decoder_inputs, initial_state=[h, c])
    # Prepend h_D(L): h_D(L) ... h_D(1), (None, 1, U) + (None, T-1, U) -> (None, T, U)
    states = layers.Concatenate(axis=1, name="decoder_states")([first, later])
    # Back in time order, h_D(1) ... h_D(L): (None, T, U)
    states = layers.Lambda(lambda s: ops.flip(s, axis=1), output_shape=(SEQ_LEN, UNITS),
                           name="time_order")(states)
    # x'(i) = w^T h_D(i) + b at every step: (None, T, U) -> (None, T, F)
    out = layers.Dense(N_FEATURES, name="output_linear")(states)
    return keras.Model(x, out, name="encdec_ad")
# >>>
