"""The training loop: an iterator of plain events that a page, the CLI or a test consumes.

    for event in train(model, train_x, val_x, TrainConfig(epochs=20)):
        ...  # Started, then one Epoch per epoch, then exactly one Finished

It knows nothing of Streamlit or plotting: it yields numbers and arrays, the caller draws them.
It never catches BaseException, so Streamlit's stop and rerun signals pass straight through.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..archs import Autoencoder, count_params
from .clipping import clip_gradients
from .config import TrainConfig, validate_train
from .events import Epoch, Finished, Started
from .runtime import torch_threads, tune_allocator
from .schedule import lr_factor

EVAL_CHUNK = 512  # validation series per forward pass: bounds memory for long CSV data sets


def _as_tensor(name: str, x, model: nn.Module) -> torch.Tensor:
    """(N, T, F) finite float32 tensor, checked against the model's spec when it has one."""
    array = np.ascontiguousarray(x, dtype=np.float32)
    if array.ndim != 3:
        raise ValueError(f"{name} must have shape (series, time steps, features), "
                         f"got shape {array.shape}")
    spec = getattr(model, "spec", None)
    if spec is not None and array.shape[1:] != (spec.seq_len, spec.n_features):
        raise ValueError(f"{name} has {array.shape[1]} time steps x {array.shape[2]} features "
                         f"per series, the model expects {spec.seq_len} x {spec.n_features}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains nan or inf values")
    return torch.from_numpy(array)


@torch.no_grad()
def _evaluate(model: nn.Module, val: torch.Tensor, n_show: int
              ) -> tuple[float, float, np.ndarray | None]:
    """(val_loss, val_mse, first n_show reconstructions) in eval mode; train mode restored."""
    if len(val) == 0:
        return math.nan, math.nan, None
    was_training = model.training
    model.eval()
    # Models whose reconstruction is their forward output: one forward pass serves both.
    reuse = type(model).reconstruct is Autoencoder.reconstruct
    loss_sum = sq_sum = 0.0
    recs = None
    try:
        for chunk in torch.split(val, EVAL_CHUNK):
            output = model(chunk)
            rec = output if reuse else model.reconstruct(chunk)  # (b, T, F)
            loss_sum += model.loss(output, chunk).item() * len(chunk)
            sq_sum += F.mse_loss(rec, chunk, reduction="sum").item()
            if recs is None and n_show:  # n_show <= 64 < EVAL_CHUNK: all in the first chunk
                recs = rec[:n_show].numpy().copy()  # (n_show, T, F)
    finally:
        model.train(was_training)
    return loss_sum / len(val), sq_sum / val.numel(), recs


def _divergence_message(what: str, value: float, epoch: int, step: int,
                        model: nn.Module, cfg: TrainConfig) -> str:
    tips = [f"a lower learning rate (now {cfg.lr:g}; try {cfg.lr / 10:g})"]
    if getattr(getattr(model, "spec", None), "activation", None) == "relu":
        tips.append("the tanh activation instead of relu (relu lets the LSTM cell state grow "
                    "without bound)")
    tips.append("gradient clipping (clip_norm, now off; try 1.0)" if cfg.clip_norm is None
                else f"a smaller clip_norm (now {cfg.clip_norm:g})")
    return (f"Training diverged in epoch {epoch} at step {step}: the {what} became {value}. "
            f"The weights were not updated with it. Try {', or '.join(tips)}.")


def train(model: nn.Module, train_x: np.ndarray, val_x: np.ndarray, cfg: TrainConfig,
          cancel: threading.Event | None = None) -> Iterator[Started | Epoch | Finished]:
    """Train `model` in place with Adam; yield Started, an Epoch per epoch, then Finished.

    Settings and data are checked now (raising TrainConfigError or ValueError); training
    starts at the first next(). Set `cancel` to stop: it is checked before every step.
    However the run ends, the model is left in eval mode and torch's thread count restored.
    """
    validate_train(cfg)
    train_t = _as_tensor("train_x", train_x, model)  # converted once, never per step
    val_t = _as_tensor("val_x", val_x, model)
    if len(train_t) == 0:
        raise ValueError("train_x holds no series")
    return _run(model, train_t, val_t, cfg, cancel)


def _run(model: nn.Module, train_t: torch.Tensor, val_t: torch.Tensor, cfg: TrainConfig,
         cancel: threading.Event | None) -> Iterator[Started | Epoch | Finished]:
    tune_allocator()
    try:
        with torch_threads(cfg.threads):  # per run; restored however the run ends
            yield from _loop(model, train_t, val_t, cfg, cancel)
    finally:
        model.eval()  # hand it on ready for inference (encdec_ad then decodes free-running)


def _loop(model: nn.Module, train_t: torch.Tensor, val_t: torch.Tensor, cfg: TrainConfig,
          cancel: threading.Event | None) -> Iterator[Started | Epoch | Finished]:
    run_start = time.perf_counter()
    n, bs = len(train_t), cfg.batch_size
    params = [p for p in model.parameters() if p.requires_grad]
    # foreach: one batched update for all parameters, 25% cheaper than the default per-tensor
    # loop on CPU with the same numbers. (fused=True is cheaper still, but with its rounding
    # hidden_n missed MSE 0.01 for 2 of 3 seeds, one stuck at the mean: docs/bench-studies.md.)
    optimizer = torch.optim.Adam(params, lr=cfg.lr, foreach=True)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    yield Started(total_epochs=cfg.epochs, n_train=n, n_val=len(val_t),
                  params_torch=count_params(model), steps_per_epoch=math.ceil(n / bs))

    step = epochs_done = seen = 0
    total_steps = cfg.epochs * math.ceil(n / bs)
    train_seconds = 0.0
    train_loss = val_loss = val_mse = math.nan

    def finished(reason: str, message: str = "") -> Finished:
        return Finished(reason=reason, epochs=epochs_done,
                        seconds=time.perf_counter() - run_start, train_seconds=train_seconds,
                        train_loss=train_loss, val_loss=val_loss, val_mse=val_mse,
                        sequences_per_second=seen / train_seconds if train_seconds else 0.0,
                        message=message)

    model.train()
    for epoch in range(1, cfg.epochs + 1):
        # --- the hot loop: one shuffled copy per epoch, then views; one .item() per step.
        epoch_start = time.perf_counter()
        batches = torch.split(train_t[torch.randperm(n, generator=shuffle)], bs)
        loss_sum, epoch_seen, cancelled, problem = 0.0, 0, False, None
        for xb in batches:
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            optimizer.zero_grad(set_to_none=True)
            loss = model.loss(model(xb), xb)
            value = loss.item()
            if not math.isfinite(value):  # stop before this loss can touch the weights
                problem = ("training loss", value, value)
                break
            loss.backward()
            if cfg.clip_norm is not None:
                norm = clip_gradients(params, cfg.clip_norm)
                if not math.isfinite(norm):
                    problem = ("gradient norm", norm, value)
                    break
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * lr_factor(step, total_steps)
            optimizer.step()
            step += 1
            loss_sum += value * len(xb)
            epoch_seen += len(xb)
        epoch_seconds = time.perf_counter() - epoch_start
        train_seconds += epoch_seconds
        seen += epoch_seen

        if problem is not None:
            what, bad, train_loss = problem
            message = _divergence_message(what, bad, epoch, step + 1, model, cfg)
            yield finished("diverged", message)
            return
        if cancelled:
            yield finished("cancelled")
            return

        # --- outside the timed loop: validation in eval mode, and the snapshot.
        train_loss = loss_sum / n
        val_loss, val_mse, recs = _evaluate(model, val_t, cfg.n_show)
        epochs_done = epoch
        reached = cfg.until_mse is not None and val_mse <= cfg.until_mse
        last = reached or epoch == cfg.epochs
        send = epoch == 1 or epoch % cfg.snapshot_every == 0 or last
        yield Epoch(epoch=epoch, step=step, train_loss=train_loss, val_loss=val_loss,
                    val_mse=val_mse, elapsed=time.perf_counter() - run_start,
                    train_seconds=epoch_seconds,
                    sequences_per_second=n / epoch_seconds if epoch_seconds else 0.0,
                    reconstructions=recs if send and cfg.n_show else None)
        if reached:
            yield finished("target_reached")
            return
    yield finished("completed")


def fit(model: nn.Module, train_x: np.ndarray, val_x: np.ndarray, cfg: TrainConfig,
        on_event: Callable[[Started | Epoch | Finished], object] | None = None,
        cancel: threading.Event | None = None) -> Finished:
    """Run `train` to the end, passing each event to on_event; return the Finished event."""
    last = None
    for event in train(model, train_x, val_x, cfg, cancel):
        if on_event is not None:
            on_event(event)
        last = event
    if not isinstance(last, Finished):  # train always ends with Finished; guard against edits
        raise RuntimeError(f"training ended without a Finished event (last: {last!r})")
    return last
