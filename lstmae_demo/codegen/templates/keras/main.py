"""Template: the exported Keras script's __main__ (see codegen/templating.py)."""

import keras

SEQ_LEN = N_FEATURES = 2  # stand-ins: the exported script defines them from the spec


def build() -> keras.Model:
    """Stand-in: the exported script defines build()."""
    return keras.Sequential()


# <<< main
if __name__ == "__main__":
    model = build()
    model.summary()  # Keras's own table of output shapes and parameter counts
    # [if embedding]
    x = keras.random.uniform((4, SEQ_LEN, N_FEATURES), -1.0, 1.0, seed=0)  # (B, T, 1)
    # [else]
    x = keras.random.normal((4, SEQ_LEN, N_FEATURES), seed=0)  # (B, T, F), B = 4
    # [end]
    y = model(x)
    print("output shape:", tuple(y.shape))
    print(f"parameters: {model.count_params():,}")
# >>>
