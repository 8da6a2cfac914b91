"""How to read each pitfall's runs: what the faulty code did, what its fix produced.

A symptom reader turns the faulty run into a `Symptom` (outcome, message, and where the message
comes from); a fix reader turns the fix's run into one sentence. Every number is taken from the
run itself, never typed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import torch

from .runner import Run, error_text, execute, snippet

OUTCOMES: tuple[str, ...] = ("error", "silent", "diverged")
PYTORCH = "PyTorch"  # the message is the text torch raised (exception or warning) on this run
MEASURED = "measured on this run"  # the message is a symptom the app computed from the run


class Symptom(NamedTuple):
    """What the faulty code did: outcome (one of OUTCOMES), message, and the message's source."""

    outcome: str
    message: str
    source: str


def keras_source(version: str) -> str:
    """The `message_source` of a message recorded from Keras `version`."""
    return f"Keras {version} (recorded)"


def _shape(tensor: torch.Tensor) -> str:
    return str(tuple(tensor.shape))


def _losses_text(losses: list[float], head: int = 6) -> str:
    shown = ", ".join(f"{v:.4g}" for v in losses[:head])
    return f"[{shown}, ...]" if len(losses) > head else f"[{shown}]"


# --- guards: a reader must never take the page down ------------------------------------------


def raised(run: Run) -> Symptom:
    """Default reading of a faulty run that is expected to raise."""
    if run.error is not None:
        return Symptom("error", "\n".join([*run.warnings, error_text(run.error)]), PYTORCH)
    seen = "; ".join(run.warnings) or "no warning either"
    return Symptom("silent", f"No exception was raised with torch {torch.__version__} ({seen}).",
                   MEASURED)


def guard_fix(read: Callable[[Run], str]) -> Callable[[Run], str]:
    """Wrap a fix reader: report an unexpected exception instead of raising."""

    def guarded(run: Run) -> str:
        if run.error is not None:
            return f"the fix failed: {error_text(run.error)}"
        try:
            return read(run)
        except Exception as err:  # a reader bug must not take the page down
            return f"the fix ran, but reading its result failed: {error_text(err)}"

    return guarded


def guard_symptom(read: Callable[[Run], Symptom], expects: str) -> Callable[[Run], Symptom]:
    """Wrap a symptom reader: an unexpected exception is reported as it is, never raised."""

    def guarded(run: Run) -> Symptom:
        if run.error is not None and expects != "error":
            return raised(run)  # a silent mistake that raised after all: show what it raised
        try:
            return read(run)
        except Exception as err:  # a reader bug must not take the page down
            return Symptom("silent", "the code ran, but reading its result failed: "
                           f"{error_text(err)}", MEASURED)

    return guarded


# --- repeatvector -------------------------------------------------------------------------------


def fixed_keras_activation(run: Run) -> str:
    """ActLSTM's output and state shapes, and its parameter count next to nn.LSTM's."""
    n = run.names
    ours = sum(p.numel() for p in n["encoder"].parameters())
    native = sum(p.numel() for p in torch.nn.LSTM(1, 100).parameters())
    return (f"ActLSTM ran: output shape {_shape(n['output'])}, h_n {_shape(n['h_n'])}; "
            f"{ours} parameters, nn.LSTM(1, 100) has {native}")


def fixed_last_step(run: Run) -> str:
    """The fixed autoencoder's output shapes and losses, and the warnings left (none expected)."""
    n = run.names
    y_batch = n["autoencode"](n["batch"])
    warned = "; ".join(run.warnings) or "no warning"
    return (f"output shape {_shape(n['y_one'])} for one sequence and {_shape(y_batch)} for the "
            f"batch; losses {n['loss_one'].item():.4f} and {n['loss_batch'].item():.4f}; "
            f"{warned}")


def symptom_relu(run: Run) -> Symptom:
    """The step at which the relu run's loss first stops being finite."""
    losses: list[float] = run.names["losses"]
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    if bad is None:
        return Symptom("silent", f"No divergence on this run: losses {_losses_text(losses)}, "
                       f"final loss {losses[-1]:.4g}.", MEASURED)
    return Symptom("diverged", f"loss per step {_losses_text(losses)}: first non-finite loss "
                   f"({losses[bad]}) at step {bad + 1} of {len(losses)}, after {bad} "
                   f"update(s); final loss {losses[-1]}.", MEASURED)


def fixed_relu(run: Run) -> str:
    """The tanh run's losses: finite or not, its peak, and where it ends against where it began."""
    losses: list[float] = run.names["losses"]
    finite = all(math.isfinite(v) for v in losses)
    first, last = losses[0], losses[-1]
    peak = max(range(len(losses)), key=lambda i: losses[i])
    if last < first:
        ending = f"below the first step's {first:.4g}: it learns despite the jolt"
    else:
        ending = (f"not below the first step's {first:.4g}: it stays finite but does not learn "
                  "at this learning rate")
    return (f"tanh, same settings: loss per step {_losses_text(losses)}; "
            f"{'all finite' if finite else 'NOT all finite'}, largest {losses[peak]:.4g} at "
            f"step {peak + 1}; final loss {last:.4g} after {len(losses)} steps, {ending}")


# --- keras: recorded, not run here ------------------------------------------------------------


def _keras_shape(dims: Sequence[int | None]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ")"


def _line(name: str, number: int) -> str:
    return snippet(name).splitlines()[number - 1].strip()


def _keras_ran(case: Mapping[str, Any]) -> str:
    """What one recorded Keras run that raised nothing showed: warnings and fit()'s epochs."""
    warned = "; ".join(case["warnings"]) or "no warning"
    return f"fit() ran {case['epochs']} epochs with no error and {warned}"


def read_missing_return_sequences(record: Mapping[str, Any]) -> tuple[Symptom, str]:
    """Keras's recorded behaviour: the TimeDistributed error, the silent Dense, the fix."""
    faulty, dense, fix = record["faulty"], record["dense"], record["fix"]
    source = keras_source(record["keras_version"])
    lines = [*faulty["warnings"]]
    if faulty["error"] is None:
        lines.append("No error was raised.")
    else:
        where = _line(faulty["snippet"], faulty["error_line"])
        lines += [faulty["error"], f"(raised at line {faulty['error_line']}, `{where}`)"]
    lines.append(
        f"With a plain Dense(1) instead of TimeDistributed(Dense(1)): output shape "
        f"{_keras_shape(dense['output_shape'])}, prediction {_keras_shape(dense['prediction'])} "
        f"for the sequence (1, 9, 1); {_keras_ran(dense)}.")
    outcome = "silent" if faulty["error"] is None else "error"
    fix_result = (f"{source}: output shape {_keras_shape(fix['output_shape'])}, "
                  f"{fix['params']} parameters, prediction {_keras_shape(fix['prediction'])}; "
                  f"{_keras_ran(fix)}")
    return Symptom(outcome, "\n".join(lines), source), fix_result


# --- embedding --------------------------------------------------------------------------------


def fixed_embedding_ids(run: Run) -> str:
    """The ids' dtype and range, and the looked-up vectors' shape."""
    n = run.names
    ids = n["ids"]
    return (f"ids {ids.dtype} in [{ids.min().item()}, {ids.max().item()}]; vectors shape "
            f"{_shape(n['vectors'])}")


def fixed_state_tuple(run: Run) -> str:
    """The decoder's output shape and the (h, c) it started from."""
    n = run.names
    h, c = n["hidden"]
    return f"decoder output shape {_shape(n['out'])}, started from h {_shape(h)}, c {_shape(c)}"


def _numbers_read(run: Run) -> tuple[str, int, int]:
    """What the decoder reads of the encoder: its shapes, numbers per series, input values."""
    read: dict[str, torch.Tensor] = run.names["read"]
    x: torch.Tensor = run.names["x"]
    per_series = sum(t.numel() for t in read.values()) // x.shape[0]
    return " and ".join(f"{k} {_shape(t)}" for k, t in read.items()), per_series, x[0].numel()


def symptom_reads_every_output(run: Run) -> Symptom:
    """How many numbers per series the decoder reads, against the input's values."""
    shapes, read, given = _numbers_read(run)
    return Symptom("silent", (
        f"No error, and no bottleneck: the decoder reads the encoder's {shapes}, "
        f"{read} numbers per series, for an input {_shape(run.names['x'])} of {given} values: "
        f"{read / given:.3g} times as many numbers as it should summarise."), MEASURED)


def fixed_reads_final_state(run: Run) -> str:
    """How many numbers per series the decoder reads when given the final state only."""
    shapes, read, given = _numbers_read(run)
    return (f"the decoder reads {shapes}: {read} numbers per series for {given} input values, "
            f"compressed {given / read:.3g} times; logits {_shape(run.names['logits'])}")


# --- hidden_n -----------------------------------------------------------------------------------


def fixed_encode(run: Run) -> str:
    """The fixed encoder's input and code shapes."""
    n = run.names
    return f"input {_shape(n['x'])} -> code z shape {_shape(n['z'])}"


def symptom_h_n(run: Run) -> Symptom:
    """What each wrong guess at h_n's layout really holds (layers and examples counted from 0)."""
    n = run.names
    last, h_n, view = n["output"][:, -1], n["h_n"], n["z_view"]
    units, top = h_n.shape[-1], h_n.shape[0] - 1
    mixed = torch.equal(view[0, units:], h_n[0, 1])
    return Symptom("silent", "\n".join([
        f"No error. output {_shape(n['output'])}, but h_n {_shape(h_n)}: layers first. "
        f"Layers and examples are counted from 0, as Python indexes them: layer 0 is the "
        f"lowest, layer {top} the top.",
        f"h_n[0] {_shape(n['z_first'])}: equals output[:, -1]? "
        f"{torch.allclose(n['z_first'], last)} (it is layer 0, not the top layer {top})",
        f"h_n[:, 0] {_shape(n['z_example'])}: {n['z_example'].shape[0]} rows for a batch of "
        f"{h_n.shape[1]} (example 0 in each layer)",
        f"h_n.view({h_n.shape[1]}, -1) {_shape(view)}: row 0 ends with example 1's layer-0 "
        f"state? {mixed}",
    ]), MEASURED)


def fixed_h_n(run: Run) -> str:
    """h_n[-1]'s shape, and whether it equals the last step of `output`."""
    n = run.names
    same = torch.allclose(n["z"], n["output"][:, -1])
    return f"h_n[-1] shape {_shape(n['z'])}; equals output[:, -1]: {same}"


def _own_code_steps(run: Run) -> tuple[int, int, int]:
    """Steps at which series 0's decoder input is its own code, the other's code, and T."""
    x, z = run.names["x"], run.names["z"]
    own = sum(torch.equal(row, z[0]) for row in x[0])
    other = sum(torch.equal(row, z[1]) for row in x[0])
    return own, other, x.shape[1]


def symptom_repeat(run: Run) -> Symptom:
    """At how many steps series 0's decoder input is its own code."""
    own, other, steps = _own_code_steps(run)
    return Symptom("silent", (
        f"No error, shape {_shape(run.names['x'])} as hoped, but series 0's decoder input is "
        f"its own code at {own} of {steps} steps and series 1's code at the other {other}."),
        MEASURED)


def fixed_repeat(run: Run) -> str:
    """At how many steps series 0's decoder input is its own code, after the fix."""
    own, other, steps = _own_code_steps(run)
    return (f"shape {_shape(run.names['x'])}; series 0 sees its own code at {own} of {steps} "
            f"steps, series 1's at {other}")


# --- encdec_ad ----------------------------------------------------------------------------------


def symptom_batch_first(run: Run) -> Symptom:
    """h_n's row count, and whether editing series 0 changes series 1's output."""
    n = run.names
    lstm, x = n["lstm"], n["x"]
    edited = x.clone()
    edited[0] += 1.0  # change series 0 only
    with torch.no_grad():
        leaked = not torch.allclose(lstm(edited)[0][1], n["output"][1])
    return Symptom("silent", (
        f"No error: output shape {_shape(n['output'])}, the shape batch_first would give. But "
        f"h_n is {_shape(n['h_n'])}: 20 'series', not 4. Changing series 0's values changes "
        f"series 1's output: {leaked} (the recurrence runs across the batch)."), MEASURED)


def fixed_batch_first(run: Run) -> str:
    """The fixed shapes, and how far the outputs are from the run without batch_first."""
    n = run.names
    faulty = execute(snippet("batch_first_forgotten"), "batch_first_compare").names["output"]
    differ = (n["output"] - faulty).abs().max().item()
    return (f"output shape {_shape(n['output'])}, h_n {_shape(n['h_n'])}; same weights and "
            f"input, yet the outputs differ from the run without it by up to {differ:.3g}")


def fixed_state(run: Run) -> str:
    """The decoder's output shape and the state it started from."""
    n = run.names
    return (f"decoder output shape {_shape(n['out'])}, started from h_n {_shape(n['h_n'])} "
            f"and c_n {_shape(n['c_n'])}")
