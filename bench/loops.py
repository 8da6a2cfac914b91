"""The training loops we compare against, written as plainly as possible, plus Keras's fit."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from lstmae_demo.archs import build_model
from lstmae_demo.spec import ModelSpec


def bare_loop(model: nn.Module, x: torch.Tensor, epochs: int, batch_size: int, lr: float,
              seed: int = 0) -> None:
    """A plain PyTorch loop: shuffle, then zero_grad / forward / loss / backward / step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for i in range(0, len(x), batch_size):
            xb = x[order[i:i + batch_size]]
            optimizer.zero_grad()
            loss = model.loss(model(xb), xb)
            loss.backward()
            optimizer.step()


def bare_rate(spec: ModelSpec, x: torch.Tensor, epochs: int, batch_size: int,
              lr: float) -> float:
    """Training sequences per second of `bare_loop` on a fresh seed-0 model of `spec`."""
    model = build_model(spec, seed=0)
    start = time.perf_counter()
    bare_loop(model, x, epochs, batch_size, lr)
    return len(x) * epochs / (time.perf_counter() - start)


def one_per_step_loop(model: nn.Module, x: torch.Tensor, epochs: int, lr: float) -> None:
    """The ECG tutorial's way: batch size 1, one optimiser step per sequence (MSE, as ours)."""
    bare_loop(model, x, epochs, 1, lr)


def keras_model(spec: ModelSpec, lr: float):
    """Our codegen's Keras 3 model for `spec` (proven equal to ours in tests), compiled."""
    import keras  # KERAS_BACKEND=torch is set by bench/__main__.py before this import

    from lstmae_demo.codegen import keras_source

    namespace: dict = {}
    exec(compile(keras_source(spec), f"<keras {spec.arch}>", "exec"), namespace)  # noqa: S102
    model = namespace["build"]()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mse")
    return model


def keras_fit(model, x: np.ndarray, epochs: int, batch_size: int) -> None:
    """Keras's own model.fit, reconstructing x, shuffled, silent."""
    model.fit(x, x, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
