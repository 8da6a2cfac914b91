"""The hot loop's pieces against torch's own: gradient clipping and the lr schedule."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from lstmae_demo.archs import build_model
from lstmae_demo.spec import preset
from lstmae_demo.training import DECAY_FROM, FINAL_LR, TrainConfig, lr_factor, train
from lstmae_demo.training.clipping import clip_gradients

T = 10


def sines(n: int, seed: int = 0) -> np.ndarray:
    """n seeded sine series (n, T, 1) float32 in [-0.8, 0.8]."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, T)
    freq = rng.uniform(1.0, 2.0, (n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (n, 1))
    return (0.8 * np.sin(2 * np.pi * freq * t + phase))[..., None].astype(np.float32)


TRAIN_X, VAL_X = sines(64), sines(16, seed=1)


# --- the hot loop's pieces, against torch's own -----------------------------------------------


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])  # total norm below, near and above max_norm
def test_clip_gradients_matches_torch_bit_for_bit(scale: float) -> None:
    ours, theirs = (build_model(replace(preset("hidden_n"), seq_len=T, units=8), seed=0)
                    for _ in range(2))
    x = torch.from_numpy(sines(8))
    for model in (ours, theirs):
        (model(x).pow(2).sum() * scale).backward()
    norm = clip_gradients([p for p in ours.parameters()], 1.0)
    torch_norm = torch.nn.utils.clip_grad_norm_(list(theirs.parameters()), 1.0).item()
    assert norm == torch_norm
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a.grad, b.grad)


def test_clip_gradients_reports_a_non_finite_norm() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.tensor([1.0, float("inf"), 0.0])
    assert not math.isfinite(clip_gradients([p], 1.0))


def test_learning_rate_is_held_then_decays_to_its_final_fraction() -> None:
    total = 1000
    factors = [lr_factor(step, total) for step in range(total + 1)]
    held = int(DECAY_FROM * total)
    assert all(f == 1.0 for f in factors[: held + 1])
    assert all(a > b for a, b in zip(factors[held:], factors[held + 1:], strict=False))
    assert factors[-1] == pytest.approx(FINAL_LR)


def test_the_trainer_uses_the_schedule_on_every_step(monkeypatch) -> None:
    seen: list[float] = []
    step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    cfg = TrainConfig(epochs=5, batch_size=16, lr=0.002)
    list(train(build_model(replace(preset("repeatvector"), seq_len=T, units=4), seed=0),
               TRAIN_X, VAL_X, cfg))
    total = 5 * math.ceil(len(TRAIN_X) / 16)
    assert seen == [pytest.approx(0.002 * lr_factor(i, total)) for i in range(total)]
