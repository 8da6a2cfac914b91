"""The trainer: an iterator of plain events that a page, the CLI or a test consumes.

    for event in train(model, train_x, val_x, TrainConfig(epochs=20)):
        ...  # Started, then one Epoch per epoch, then exactly one Finished

It knows nothing of Streamlit or plotting: it yields numbers and arrays, the caller draws them.
It never catches BaseException, so Streamlit's stop and rerun signals pass straight through.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import numbers
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..archs import Autoencoder, count_params

REASONS: tuple[str, ...] = ("completed", "target_reached", "cancelled", "diverged")
EVAL_CHUNK = 512  # validation series per forward pass: bounds memory for long CSV data sets

# glibc malloc: with its defaults every step's ~1-3 MB of LSTM workspace is handed back to the
# OS and faulted in again (~30% of a step in page faults, measured in bench/RESULTS.md). Keep
# blocks up to 32 MB on the heap and trim only when 128 MB are free at its top.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt() parameter numbers from <malloc.h>
MALLOC_MMAP_THRESHOLD = 32 * 2**20
MALLOC_TRIM_THRESHOLD = 128 * 2**20


class TrainConfigError(ValueError):
    """A training setting is invalid; the message names the field, the value and what is allowed."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: every knob the page, the CLI and the benchmarks can turn."""

    epochs: int = 100  # passes over the training series
    batch_size: int = 16  # series per optimizer step
    lr: float = 0.003  # Adam's learning rate: held for 70% of the steps, then decayed (lr_factor)
    seed: int = 0  # model init (build_model(spec, seed)) and the shuffling order
    clip_norm: float | None = 1.0  # rescale gradients whose total norm exceeds this (None: off)
    until_mse: float | None = None  # stop once the validation MSE is <= this (None: never)
    snapshot_every: int = 1  # epochs between reconstruction snapshots (plus the first and last)
    n_show: int = 4  # validation series whose reconstructions are sent (0: none)
    threads: int | None = None  # torch intra-op threads for this run (None: leave as is)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


def _max_threads() -> int:
    return os.cpu_count() or 1


# field -> (kind, low, high, may be None); int ranges are inclusive, float ranges say below.
_LIMITS: dict[str, tuple[type, float, float, bool]] = {
    "epochs": (int, 1, 10_000, False),
    "batch_size": (int, 1, 4096, False),
    "lr": (float, 0.0, 10.0, False),  # 0 < lr <= 10
    "seed": (int, 0, 2**63 - 1, False),
    "clip_norm": (float, 0.0, 1e6, True),  # 0 < clip_norm <= 1e6
    "until_mse": (float, 0.0, 1e6, True),  # 0 <= until_mse <= 1e6
    "snapshot_every": (int, 1, 10_000, False),
    "n_show": (int, 0, 64, False),
    "threads": (int, 1, -1, True),  # 1 .. os.cpu_count()
}
_OPEN_LOW = {"lr", "clip_norm"}  # fields whose lower bound is excluded


def _check_field(name: str, value: object) -> str | None:
    """The problem with one field's value, or None if it is fine."""
    kind, low, high, optional = _LIMITS[name]
    if name == "threads":
        high = _max_threads()
    if value is None:
        return None if optional else f"{name} must be set, got None"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return f"{name} must be a whole number between {low} and {high}, got {value!r}"
        if not low <= value <= high:
            return f"{name} must be between {low} and {high}, got {value}"
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{name} must be a number, got {value!r}"
    low_ok = value > low if name in _OPEN_LOW else value >= low
    if not (math.isfinite(value) and low_ok and value <= high):
        bracket = "greater than" if name in _OPEN_LOW else "at least"
        return f"{name} must be {bracket} {low:g} and at most {high:g}, got {value!r}"
    return None


def validate_train(cfg: TrainConfig) -> TrainConfig:
    """Return cfg if every field is in range; else raise TrainConfigError listing each problem."""
    problems = [p for f in fields(cfg) if (p := _check_field(f.name, getattr(cfg, f.name)))]
    if problems:
        raise TrainConfigError("; ".join(problems))
    return cfg


# ------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------


def _plain(value):
    """JSON-ready: arrays to nested lists, nan/inf to None (JSON has no nan)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Event:
    def to_dict(self) -> dict:
        """Plain JSON-ready dict with the event's kind; nan/inf become None."""
        out = {"event": type(self).__name__}
        out.update({f.name: _plain(getattr(self, f.name)) for f in fields(self)})
        return out


@dataclass(frozen=True)
class Started(_Event):
    """Sent once, before the first step."""

    total_epochs: int
    n_train: int  # training series
    n_val: int  # validation series
    params_torch: int  # trainable parameters
    steps_per_epoch: int  # optimizer steps per epoch (the last batch may be smaller)


@dataclass(frozen=True, eq=False)  # eq=False: == on numpy arrays has no single answer
class Epoch(_Event):
    """Sent after every completed epoch; all metrics in eval mode except train_loss."""

    epoch: int  # 1-based
    step: int  # optimizer steps so far, whole run
    train_loss: float  # mean training loss over this epoch's steps (model.loss, train mode)
    val_loss: float  # model.loss on the validation set (nan if there is none)
    val_mse: float  # MSE of reconstruct(val) vs val: comparable across architectures
    elapsed: float  # seconds since the run started, everything included
    train_seconds: float  # seconds this epoch spent in optimizer steps (no validation)
    sequences_per_second: float  # training series / train_seconds, this epoch
    reconstructions: np.ndarray | None  # (n_show, T, F) of the first validation series, or None


@dataclass(frozen=True)
class Finished(_Event):
    """Sent once, last: why the run ended and its totals."""

    reason: str  # one of REASONS
    epochs: int  # completed epochs
    seconds: float  # whole run, validation and snapshots included
    train_seconds: float  # time in optimizer steps only
    train_loss: float  # last completed epoch's ("diverged": the diverging step's loss)
    val_loss: float  # last measured (nan if no epoch completed)
    val_mse: float
    sequences_per_second: float  # training series processed / train_seconds
    message: str = ""  # for "diverged": where and what to try


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


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


DECAY_FROM = 0.7  # the learning rate is held for this fraction of a run's steps ...
FINAL_LR = 0.05  # ... then falls linearly to this fraction of it by the last step


def lr_factor(step: int, total_steps: int) -> float:
    """The multiple of cfg.lr used for optimiser step `step` (0-based) of `total_steps`.

    A constant rate escapes the "predict the mean" plateau fastest but leaves the model
    jittering around its optimum at the end of a run (a free-running encdec_ad decoder most of
    all); decaying over the last 30% settles it, whatever the number of epochs.
    """
    progress = step / max(1, total_steps)
    if progress <= DECAY_FROM:
        return 1.0
    return 1.0 - (1.0 - FINAL_LR) * (progress - DECAY_FROM) / (1.0 - DECAY_FROM)


@functools.cache
def tune_allocator() -> bool:
    """Once per process: stop glibc's malloc returning training memory to the OS every step.

    Returns True if the settings took effect (Linux with glibc), False elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # glibc only: musl's mallopt is a stub  # noqa: B018
    except (OSError, AttributeError):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
                and libc.mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))


def _clip_gradients(params: list[nn.Parameter], max_norm: float) -> float:
    """clip_grad_norm_ with the same numbers, at half its cost: skip the multiply by 1.

    Returns the total gradient norm before clipping (nan/inf when the gradients are).
    """
    grads = [p.grad for p in params if p.grad is not None]
    total = nn.utils.get_total_norm(grads, foreach=True)
    if (max_norm / (total + 1e-6)).item() < 1.0:  # torch's own factor; 1 or more is a no-op
        nn.utils.clip_grads_with_norm_(params, max_norm, total, foreach=True)
    return total.item()


def _run(model: nn.Module, train_t: torch.Tensor, val_t: torch.Tensor, cfg: TrainConfig,
         cancel: threading.Event | None) -> Iterator[Started | Epoch | Finished]:
    tune_allocator()
    previous_threads = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)  # per run; restored below however the run ends
    try:
        yield from _loop(model, train_t, val_t, cfg, cancel)
    finally:
        model.eval()  # hand it on ready for inference (encdec_ad then decodes free-running)
        if cfg.threads is not None:
            torch.set_num_threads(previous_threads)


def _loop(model: nn.Module, train_t: torch.Tensor, val_t: torch.Tensor, cfg: TrainConfig,
          cancel: threading.Event | None) -> Iterator[Started | Epoch | Finished]:
    run_start = time.perf_counter()
    n, bs = len(train_t), cfg.batch_size
    params = [p for p in model.parameters() if p.requires_grad]
    # foreach: one batched update for all parameters, 25% cheaper than the default per-tensor
    # loop on CPU with the same numbers. (fused=True is 3.5x cheaper still, but its rounding
    # kept hidden_n on the "predict the mean" plateau for 4 of 5 seeds: bench/RESULTS.md.)
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
                norm = _clip_gradients(params, cfg.clip_norm)
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
