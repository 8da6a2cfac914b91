"""What each layer produces at time step t, and what the next layer actually receives.

Built from a trace and the real activations of one example (probe.probe with batch 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn import HANDS_ON
from .probe import Observed
from .records import LayerRecord
from .trace import Trace


@dataclass(frozen=True)
class StepView:
    """One layer at one time step."""

    name: str
    produces: str  # what the layer computes at step t
    passes_on: str  # what the layer hands on, in words: a value of nn.HANDS_ON
    sent_at_t: bool  # does the next layer receive something computed at step t?
    values: np.ndarray | None  # the numbers computed at step t (1-D), if any
    over_time: np.ndarray | None  # (T, width): this layer's per-step values, for a heatmap


def _view(rec: LayerRecord, seen: Observed, t: int, last: int) -> StepView:
    out = seen.output.detach().numpy()[0]  # drop the batch axis (batch 1)
    hands_on = HANDS_ON[rec.passes]
    if rec.passes == "reversed":  # EncDec-AD's decoder
        return StepView(rec.name, f"h_D({t + 1}) — computed backwards, {last - t} step(s) "
                        "after the start from the encoder's state", hands_on, True, out[t], out)
    if rec.kind == "LSTM":
        full = seen.full_output.detach().numpy()[0]  # (T, U)
        if rec.passes == "sequence":
            return StepView(rec.name, f"output h_{t + 1}, from this step's input and h_{t}",
                            hands_on, True, full[t], full)
        if rec.passes in ("last", "h_n"):
            sent = t == last
            return StepView(rec.name, f"h_{t + 1}: " + ("passed on (the last step)" if sent
                            else "computed, then thrown away"), hands_on, sent, full[t], full)
        if rec.passes == "sequence_state":
            return StepView(rec.name, f"output h_{t + 1}, passed on" + (
                f"; with c_{t + 1}, the final state too" if t == last else ""),
                hands_on, True, full[t], full)
        handed = f"h_{t + 1}, c_{t + 1}" if rec.passes == "state" else f"h_{t + 1}"
        return StepView(rec.name, handed + ": " + (
            "the final state, handed to the decoder" if t == last else "kept inside only"),
            hands_on, t == last, full[t], full)
    if rec.kind == "RepeatVector":
        return StepView(rec.name, "the same code vector as at every other step", hands_on,
                        True, out[t], out)
    if rec.kind == "Quantize":
        return StepView(rec.name, f"token id {int(out[t])}", hands_on, True,
                        out[t : t + 1].astype(float), out[:, None].astype(float))
    produces = {"Input": f"x_{t + 1}", "Embedding": "the id's learned vector",
                "Attention": "a mix of every encoder output, weighted for this step",
                "Concatenate": "this step's decoder output beside its attention mix",
                "Linear": f"x'_{t + 1} from this step's decoder output"}
    return StepView(rec.name, produces.get(rec.kind, "one step"), hands_on, True, out[t], out)


def step_views(tr: Trace, observed: dict[str, Observed], t: int) -> list[StepView]:
    """Every traced layer at step t (0-based), in data-flow order."""
    last = tr.spec.seq_len - 1
    if not 0 <= t <= last:
        raise ValueError(f"t must be between 0 and {last}, got {t}")
    return [_view(rec, observed[rec.name], t, last) for rec in tr.layers]
