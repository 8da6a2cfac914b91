"""The training loop: event order, learning, determinism, cancel, divergence, targets, threads,
and TrainConfig's defaults and checks."""

import json
import math
import os
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig
from lstmae_demo.settings import default
from lstmae_demo.spec import ARCHS, preset
from lstmae_demo.training import (
    Epoch,
    Finished,
    Started,
    TrainConfig,
    TrainConfigError,
    fit,
    train,
    validate_train,
)

T = 10  # small series and models keep the whole file fast


def sines(n: int, seq_len: int = T, seed: int = 0) -> np.ndarray:
    """n seeded sine series (n, seq_len, 1) float32 in [-0.8, 0.8]; no dependency on data.py."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, seq_len)
    freq = rng.uniform(1.0, 2.0, (n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (n, 1))
    return (0.8 * np.sin(2 * np.pi * freq * t + phase))[..., None].astype(np.float32)


TRAIN_X, VAL_X = sines(64), sines(16, seed=1)


def small(arch: str = "repeatvector", seed: int = 0, **changes):
    return build_model(replace(preset(arch), seq_len=T, units=8, **changes), seed=seed)


def run(model, cfg: TrainConfig, x=TRAIN_X, v=VAL_X, cancel=None) -> list:
    return list(train(model, x, v, cfg, cancel))


def epochs_of(events) -> list[Epoch]:
    return [e for e in events if isinstance(e, Epoch)]


class CountingSteps:
    """Counts training-mode forward passes of a model (one per optimizer step)."""

    def __init__(self, model, at: int | None = None, then=None):
        self.calls, self.at, self.then = 0, at, then
        model.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        if module.training:
            self.calls += 1
            if self.calls == self.at:
                self.then()


# --- events -------------------------------------------------------------------------------


def test_event_order_counts_and_fields():
    cfg = TrainConfig(epochs=3, batch_size=20, n_show=2)
    events = run(small(), cfg)
    assert [type(e) for e in events] == [Started, Epoch, Epoch, Epoch, Finished]
    started, finished = events[0], events[-1]
    assert (started.total_epochs, started.n_train, started.n_val) == (3, 64, 16)
    assert started.steps_per_epoch == 4  # 20 + 20 + 20 + 4
    assert started.params_torch == sum(p.numel() for p in small().parameters())
    assert [e.epoch for e in epochs_of(events)] == [1, 2, 3]
    assert [e.step for e in epochs_of(events)] == [4, 8, 12]
    assert finished.reason == "completed" and finished.epochs == 3 and finished.message == ""
    last = events[-2]
    assert (finished.train_loss, finished.val_loss, finished.val_mse) == (
        last.train_loss, last.val_loss, last.val_mse)
    assert 0 < finished.train_seconds <= finished.seconds
    assert finished.sequences_per_second == pytest.approx(3 * 64 / finished.train_seconds)
    for e in epochs_of(events):
        assert 0 < e.train_seconds <= e.elapsed <= finished.seconds
        assert e.sequences_per_second == pytest.approx(64 / e.train_seconds)
    for e in events:  # strict JSON: no numpy types, no nan
        json.dumps(e.to_dict(), allow_nan=False)
    assert events[1].to_dict()["event"] == "Epoch"
    assert np.asarray(events[1].to_dict()["reconstructions"]).shape == (2, T, 1)


def test_fit_returns_finished_and_passes_every_event():
    seen = []
    finished = fit(small(), TRAIN_X, VAL_X, TrainConfig(epochs=2), on_event=seen.append)
    assert isinstance(finished, Finished) and seen[-1] is finished
    assert [type(e) for e in seen] == [Started, Epoch, Epoch, Finished]


# Each architecture in the variant that can copy its input step by step; embedding's other
# decoders (`reads`: final state only, or attention with a decoder fed zeros that must find
# each step by content) learn far slower and are checked on their own below.
# Each trains 30 epochs: the first architecture stays in the fast subset, the others are slow.
LEARNERS = [pytest.param(arch, {"reads": "steps"} if arch == "embedding" else {}, id=arch,
                         marks=() if i == 0 else pytest.mark.slow)
            for i, arch in enumerate(ARCHS)]


def learn(arch: str, **changes) -> list[Epoch]:
    """30 epochs (240 steps) at lr 0.01 on 128 sines: enough for these tiny models (the app's
    0.003 suits its 100-epoch runs of larger ones)."""
    model = build_model(replace(preset(arch), seq_len=T, units=16, **changes), seed=0)
    events = run(model, TrainConfig(epochs=30, batch_size=16, lr=0.01), sines(128),
                 sines(32, seed=1))
    assert events[-1].reason == "completed"
    return epochs_of(events)


@pytest.mark.parametrize(("arch", "changes"), LEARNERS)
def test_losses_decrease_on_sines(arch, changes):
    epochs = learn(arch, **changes)
    assert epochs[-1].train_loss < 0.5 * epochs[0].train_loss
    assert epochs[-1].val_mse < 0.5 * epochs[0].val_mse
    assert epochs[-1].val_mse < 0.2  # predicting the mean would score about 0.32


@pytest.mark.parametrize("reads", ["state", "attention"])
def test_embeddings_slower_decoders_still_learn(reads):
    epochs = learn("embedding", reads=reads)
    assert epochs[-1].train_loss < 0.9 * epochs[0].train_loss  # the cross-entropy falls


# --- determinism ----------------------------------------------------------------------------


def losses(events):
    return [(e.train_loss, e.val_loss, e.val_mse) for e in epochs_of(events)]


@pytest.mark.parametrize("arch", ["repeatvector", "encdec_ad"])
def test_same_seed_same_losses_bit_for_bit(arch):
    cfg = TrainConfig(epochs=3, batch_size=16, seed=5, threads=1)
    first = run(small(arch, seed=5), cfg)
    second = run(small(arch, seed=5), cfg)
    assert losses(first) == losses(second)
    for a, b in zip(epochs_of(first), epochs_of(second), strict=True):
        np.testing.assert_array_equal(a.reconstructions, b.reconstructions)


def test_shuffling_follows_the_seed():
    """Same initial weights, different cfg.seed: only the batch order differs."""
    a = run(small(seed=0), TrainConfig(epochs=2, batch_size=16, seed=0))
    b = run(small(seed=0), TrainConfig(epochs=2, batch_size=16, seed=1))
    assert losses(a) != losses(b)


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_between_epochs_keeps_earlier_epochs():
    cancel = threading.Event()
    events = []
    for event in train(small(), TRAIN_X, VAL_X, TrainConfig(epochs=50), cancel):
        events.append(event)
        if isinstance(event, Epoch) and event.epoch == 2:
            cancel.set()
    assert [type(e) for e in events] == [Started, Epoch, Epoch, Finished]
    finished = events[-1]
    assert finished.reason == "cancelled" and finished.epochs == 2
    assert finished.val_mse == events[2].val_mse


def test_cancel_mid_epoch_stops_within_one_step():
    """Cancel lands during step 7 (of 4 per epoch): step 7 completes, step 8 never starts."""
    cancel = threading.Event()
    model = small()
    counter = CountingSteps(model, at=7, then=cancel.set)
    events = run(model, TrainConfig(epochs=50, batch_size=16), cancel=cancel)
    assert counter.calls == 7
    assert [type(e) for e in events] == [Started, Epoch, Finished]
    assert events[-1].reason == "cancelled" and events[-1].epochs == 1


def test_cancel_from_another_thread_stops_within_one_step():
    """Another thread sets cancel while step 5 runs; the run ends without a sixth step."""
    cancel, done = threading.Event(), threading.Event()

    def cancel_elsewhere():
        cancel.set()
        done.set()

    def during_step_five():  # runs inside step 5's forward pass, in the training thread
        threading.Thread(target=cancel_elsewhere).start()
        assert done.wait(30), "the other thread never set cancel"

    model = small()
    counter = CountingSteps(model, at=5, then=during_step_five)
    events = run(model, TrainConfig(epochs=10_000, batch_size=16), cancel=cancel)
    assert counter.calls == 5  # of a run that would take 40,000 steps
    assert [type(e) for e in events] == [Started, Epoch, Finished]
    assert events[-1].reason == "cancelled" and events[-1].epochs == 1


# --- divergence -----------------------------------------------------------------------------


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_huge_data_diverges_at_the_first_step_without_touching_weights():
    model = small(activation="relu")
    before = weights(model)
    counter = CountingSteps(model)
    events = run(model, TrainConfig(epochs=5, clip_norm=None), x=TRAIN_X * 1e30)
    assert [type(e) for e in events] == [Started, Finished]
    finished = events[-1]
    assert finished.reason == "diverged" and finished.epochs == 0
    assert not math.isfinite(finished.train_loss)
    msg = finished.message
    assert "epoch 1" in msg and "step 1" in msg and "learning rate" in msg
    assert "tanh" in msg and "clip_norm" in msg
    assert counter.calls == 1
    after = weights(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_nan_loss_mid_run_stops_at_once():
    """The 6th step's loss is nan: 5 steps ran (one Epoch of 4), no 7th forward pass."""
    model = small()
    counter = CountingSteps(model)
    real_loss = model.loss

    def loss(output, x):
        value = real_loss(output, x)
        return value * math.nan if counter.calls == 6 else value

    model.loss = loss
    events = run(model, TrainConfig(epochs=10, batch_size=16))
    assert [type(e) for e in events] == [Started, Epoch, Finished]
    assert events[-1].reason == "diverged" and events[-1].epochs == 1
    assert "epoch 2 at step 6" in events[-1].message
    assert counter.calls == 6
    assert all(torch.isfinite(p).all() for p in model.parameters())
    json.dumps(events[-1].to_dict(), allow_nan=False)


def test_inf_gradient_with_finite_loss_is_caught_by_clipping():
    model = small()
    real_loss = model.loss

    def loss(output, x):  # the same finite value, but a gradient too large for float32
        return real_loss(output, x) + (output.sum() - output.sum().detach()) * 3e38

    model.loss = loss
    before = weights(model)
    events = run(model, TrainConfig(epochs=2, clip_norm=1.0))
    assert events[-1].reason == "diverged"
    assert "gradient norm" in events[-1].message and "step 1" in events[-1].message
    after = weights(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


# --- target, snapshots, eval mode ---------------------------------------------------------


def test_until_mse_stops_at_the_first_epoch_reaching_it():
    cfg = TrainConfig(epochs=12, batch_size=16)
    full = epochs_of(run(small(), cfg))
    target = full[5].val_mse
    expected = next(e.epoch for e in full if e.val_mse <= target)
    events = run(small(), replace(cfg, until_mse=target))
    assert events[-1].reason == "target_reached"
    assert events[-1].epochs == expected == events[-2].epoch
    assert events[-2].reconstructions is not None  # the final state is always shown


def test_reconstructions_sent_on_first_every_nth_and_last_epoch():
    model = small()
    cfg = TrainConfig(epochs=7, snapshot_every=3, n_show=3, batch_size=16)
    epochs = epochs_of(run(model, cfg))
    sent = [e.epoch for e in epochs if e.reconstructions is not None]
    assert sent == [1, 3, 6, 7]
    assert all(e.reconstructions.shape == (3, T, 1) for e in epochs if e.epoch in sent)
    assert epochs[-1].reconstructions.dtype == np.float32
    model.eval()
    with torch.no_grad():
        expected = model.reconstruct(torch.from_numpy(VAL_X[:3])).numpy()
    np.testing.assert_allclose(epochs[-1].reconstructions, expected, rtol=1e-6, atol=1e-6)


def test_n_show_zero_sends_nothing_and_large_n_show_is_capped():
    none = epochs_of(run(small(), TrainConfig(epochs=2, n_show=0)))
    assert all(e.reconstructions is None for e in none)
    capped = epochs_of(run(small(), TrainConfig(epochs=1, n_show=64)))
    assert capped[0].reconstructions.shape == (len(VAL_X), T, 1)


def test_encdec_ad_is_validated_free_running_in_eval_mode():
    model = small("encdec_ad")
    events = run(model, TrainConfig(epochs=3, batch_size=16))
    last = events[-2]
    val = torch.from_numpy(VAL_X)
    with torch.no_grad():
        model.eval()
        free = model.reconstruct(val)
        model.train()
        forced = model.reconstruct(val)  # teacher forcing: sees the true values
    assert last.val_mse == pytest.approx(F.mse_loss(free, val).item(), rel=1e-5)
    assert last.val_loss == pytest.approx(last.val_mse, rel=1e-5)  # its loss is MSE
    assert abs(F.mse_loss(forced, val).item() - last.val_mse) > 1e-4


def test_model_is_left_in_eval_mode_however_the_run_ends():
    model = small("encdec_ad")
    fit(model, TRAIN_X, VAL_X, TrainConfig(epochs=1))
    assert not model.training  # reconstruct() now decodes free-running, as at inference
    model.train()
    gen = train(model, TRAIN_X, VAL_X, TrainConfig(epochs=5))
    next(gen)
    next(gen)
    assert model.training
    gen.close()
    assert not model.training


def test_embedding_val_loss_is_cross_entropy_and_val_mse_is_values():
    events = run(small("embedding"), TrainConfig(epochs=2))
    last = events[-2]
    assert last.val_loss != pytest.approx(last.val_mse)
    assert last.val_loss > 0 and 0 <= last.val_mse < 2


def test_empty_validation_set_gives_nan_metrics():
    events = run(small(), TrainConfig(epochs=2, until_mse=1.0), v=VAL_X[:0])
    assert events[-1].reason == "completed"
    assert math.isnan(events[-2].val_mse) and events[-2].reconstructions is None


# --- threads --------------------------------------------------------------------------------


@pytest.fixture
def other_threads():
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    if other > (os.cpu_count() or 1):
        pytest.skip("needs 2 cores to choose a different thread count")
    yield before, other
    torch.set_num_threads(before)


def test_threads_set_during_the_run_and_restored_after(other_threads):
    before, other = other_threads
    during = []
    fit(small(), TRAIN_X, VAL_X, TrainConfig(epochs=2, threads=other),
        on_event=lambda e: during.append(torch.get_num_threads()))
    assert set(during) == {other}
    assert torch.get_num_threads() == before


def test_threads_restored_when_the_generator_is_closed_early(other_threads):
    before, other = other_threads
    gen = train(small(), TRAIN_X, VAL_X, TrainConfig(epochs=50, threads=other))
    next(gen)
    assert torch.get_num_threads() == other
    gen.close()
    assert torch.get_num_threads() == before


def test_threads_none_leaves_the_setting_alone():
    before = torch.get_num_threads()
    fit(small(), TRAIN_X, VAL_X, TrainConfig(epochs=1, threads=None))
    assert torch.get_num_threads() == before


# --- validation of settings and data ------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("epochs", 0), ("epochs", 1.5), ("epochs", True), ("epochs", 10_001),
    ("batch_size", 0), ("batch_size", "32"),
    ("lr", 0), ("lr", -0.1), ("lr", math.nan), ("lr", math.inf), ("lr", 11.0), ("lr", None),
    ("seed", -1), ("clip_norm", 0.0), ("clip_norm", -1.0), ("until_mse", -0.5),
    ("until_mse", math.nan), ("snapshot_every", 0), ("n_show", -1), ("n_show", 65),
    ("threads", 0), ("threads", (os.cpu_count() or 1) + 1),
])
def test_validate_train_rejects_bad_values_naming_field_and_value(field, value):
    with pytest.raises(TrainConfigError) as err:
        validate_train(replace(TrainConfig(), **{field: value}))
    message = str(err.value)
    assert message.startswith(field)
    assert repr(value) in message or str(value) in message
    with pytest.raises(ValueError):  # TrainConfigError is a ValueError
        train(small(), TRAIN_X, VAL_X, replace(TrainConfig(), **{field: value}))


def test_validate_train_lists_every_problem_and_accepts_good_values():
    with pytest.raises(TrainConfigError, match=r"epochs .*; lr must be greater than 0"):
        validate_train(TrainConfig(epochs=0, lr=0.0))
    cfg = TrainConfig(epochs=1, lr=10.0, clip_norm=None, until_mse=0.0, n_show=0, threads=1)
    assert validate_train(cfg) is cfg


@pytest.mark.parametrize(("x", "message"), [
    (TRAIN_X[..., 0], "shape"),
    (sines(8, seq_len=T + 1), "the model expects 10 x 1"),
    (np.where(TRAIN_X > 0.7, np.nan, TRAIN_X), "nan"),
    (TRAIN_X[:0], "no series"),
])
def test_bad_data_is_rejected_before_training(x, message):
    with pytest.raises(ValueError, match=message):
        train(small(), x, VAL_X, TrainConfig())


def test_defaults_are_the_settings_tables():
    cfg, app = TrainConfig(), AppConfig.default().train
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed) == (
        default("epochs"), default("batch_size"), float(default("lr")), default("seed"))
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed) == (
        app.epochs, app.batch_size, app.lr, app.seed)
    assert validate_train(cfg) is cfg


def test_validate_train_names_what_it_needs_when_given_no_config():
    with pytest.raises(TrainConfigError, match="must be a TrainConfig, got dict"):
        validate_train({"epochs": 3})
