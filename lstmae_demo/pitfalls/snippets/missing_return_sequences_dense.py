import keras
import numpy as np
from keras import layers

sequence = np.linspace(0.1, 0.9, 9).reshape((1, 9, 1))  # Brownlee's one sequence: (1, 9, 1)
model = keras.Sequential([
    keras.Input(shape=(9, 1)),
    layers.LSTM(100, activation="relu"),                # the bottleneck: (None, 100)
    layers.RepeatVector(9),                             # (None, 9, 100)
    layers.LSTM(100, activation="relu"),                # return_sequences=True forgotten
    layers.Dense(1),                                    # a plain Dense: (None, 1)
])
model.compile(optimizer="adam", loss="mse")
history = model.fit(sequence, sequence, epochs=300, verbose=0)
prediction = model.predict(sequence, verbose=0)
