"""Text alternatives for the app's charts: one or two sentences that say what a chart shows,
computed from the figure's own data (or the trace it was drawn from), for a reader who cannot
see it (a screen reader, a printout, a colour-blind reader, a projector that washes it out).

No streamlit here: `ui.charts.chart` draws a figure with its sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .nn import HANDS_ON
from .plots import sent_at
from .shapes.trace import Trace


def number(value: float) -> str:
    """A value as a reader says it: 3 significant digits, no exponent for ordinary sizes."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if 1e-4 <= abs(value) < 1e6:
        return f"{value:.3g}"
    return f"{value:.2e}"


def _finite(values) -> list[float]:
    if values is None:
        return []
    return [float(v) for v in np.asarray(values, dtype=float).ravel() if math.isfinite(v)]


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def architecture_text(tr: Trace) -> str:
    """The diagram: the layers in order, what the code is and whether it is a bottleneck."""
    names = " → ".join(r.name for r in tr.layers)
    verdict = "a bottleneck" if tr.has_bottleneck else "no bottleneck"
    return (f"Diagram of {len(tr.layers)} layers, input {_shape(tr.input_shape)} to output "
            f"{_shape(tr.layers[-1].output_shape)}: {names}. The code leaves {tr.latent}, "
            f"{tr.latent_per_example} numbers per example against "
            f"{tr.input_per_example} in the input: {verdict}.")


def bottleneck_text(tr: Trace) -> str:
    """The bar chart of numbers per example: where the data is squeezed most."""
    values = [(r.numbers_per_example, r.name) for r in tr.layers]
    low, low_name = min(values)
    high, high_name = max(values)
    return (f"Bar chart of the numbers per example each of the {len(values)} layers passes "
            f"on (log scale), against {tr.input_per_example} in the input: fewest at "
            f"{low_name} ({low}), most at {high_name} ({high}); the code, at {tr.latent}, "
            f"holds {tr.latent_per_example}.")


def _trace_named(fig: go.Figure, start: str) -> go.Scatter | None:
    return next((t for t in fig.data if (t.name or "").startswith(start)), None)


def loss_text(fig: go.Figure) -> str:
    """The loss curves (plots.loss_figure): where each loss started and ended."""
    train = _trace_named(fig, "train ")
    val = _trace_named(fig, "validation ")
    values = _finite(train.y) if train is not None else []
    if not values:
        return "Loss chart, empty until the first epoch ends: each epoch's training and " \
               "validation loss appear here."
    loss = train.name.removeprefix("train ")
    trend = "fell" if values[-1] < values[0] else "rose" if values[-1] > values[0] else "stayed"
    epochs = len(values)
    text = (f"Training {loss} {trend} from {number(values[0])} to {number(values[-1])} over "
            f"{epochs} epoch{'s' if epochs != 1 else ''}")
    checked = _finite(val.y) if val is not None else []
    if checked:
        text += f"; validation {loss} ends at {number(checked[-1])}"
    extra = _trace_named(fig, "validation MSE (right axis)")
    if extra is not None and _finite(extra.y):
        text += f"; validation MSE (right axis) ends at {number(_finite(extra.y)[-1])}"
    return text + "."


def _panel(t) -> tuple[str, str]:
    """The subplot a trace is drawn in (its axes)."""
    return t.xaxis or "x", t.yaxis or "y"


def _mse(original, other) -> float | None:
    """Mean squared difference of two traces' y values (None if they cannot be compared)."""
    if original is None or other.y is None:
        return None
    a, b = np.asarray(original.y, dtype=float), np.asarray(other.y, dtype=float)
    return float(np.mean((a - b) ** 2)) if a.shape == b.shape and a.size else None


def _feature(t) -> str:
    """'feature 2' of 'feature 2 input' / 'feature 2 reconstruction'; '' with one feature."""
    return (t.name or "").removesuffix("input").removesuffix("reconstruction").strip()


def reconstruction_text(fig: go.Figure) -> str:
    """Series and their reconstructions (plots.reconstruction_figure and the grids built
    like it): how many series, and how far each reconstruction is from its input (MSE)."""
    inputs = [t for t in fig.data if (t.name or "").endswith("input")]
    recons = [t for t in fig.data if (t.name or "").endswith("reconstruction")]
    panels = len({_panel(t) for t in inputs})
    steps = len(inputs[0].x) if inputs and inputs[0].x is not None else 0
    features = len({_feature(t) for t in inputs})
    text = (f"{panels} series of {steps} steps each"
            + (f", {features} features each" if features > 1 else "") + ", input drawn solid")
    by_place = {(*_panel(t), _feature(t)): t for t in inputs}
    errors = [e for recon in recons
              if (e := _mse(by_place.get((*_panel(recon), _feature(recon))), recon)) is not None]
    if not recons:
        return text + "; no reconstruction yet."
    if not errors:
        return text + ", reconstructions dashed."
    low, high = number(min(errors)), number(max(errors))
    spread = f"{low} to {high}" if low != high else low
    return (text + f", reconstruction dashed; the mean squared difference between a series "
            f"and its reconstruction is {spread} (mean {number(float(np.mean(errors)))}).")


def grid_text(fig: go.Figure) -> str:
    """The Compare page's grid (compare_plots.reconstruction_grid): the same series
    reconstructed by each model, and each model's mean squared difference from the inputs."""
    inputs = {_panel(t): t for t in fig.data if t.name == "input"}
    errors: dict[str, list[float]] = {}
    for t in fig.data:
        if t.name != "input" and (e := _mse(inputs.get(_panel(t)), t)) is not None:
            errors.setdefault(t.name, []).append(e)
    columns = sum(1 for a in fig.layout.annotations if (a.text or "").startswith("series "))
    text = f"The same {columns} validation series (input solid, black) reconstructed by each model"
    if not errors:
        return text + "; no reconstruction yet."
    return text + "; mean squared difference from the input: " + ", ".join(
        f"{name} {number(float(np.mean(v)))}" for name, v in errors.items()) + "."


def heatmap_text(fig: go.Figure, what: str = "values") -> str:
    """A units x time heat map (plots.states_heatmap): its size and range, and the step line."""
    heat = next(t for t in fig.data if t.type == "heatmap")
    z = np.asarray(heat.z, dtype=float)
    units, steps = z.shape
    text = (f"Heat map of {units} units over {steps} time steps, {what} from "
            f"{number(float(np.nanmin(z)))} (blue) to {number(float(np.nanmax(z)))} (red)")
    marked = [s.x0 for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]
    if marked:
        step = int(marked[0])
        column = z[:, step - 1]
        unit = int(np.nanargmax(np.abs(column)))
        text += (f"; at step {step} (the line) unit {unit} is largest in size, "
                 f"{number(float(column[unit]))}")
    return text + "."


def flow_text(tr: Trace, step: int | None = None) -> str:
    """The time-step flow chart (plots.flow_figure): which steps each layer hands on."""
    steps = tr.spec.seq_len
    parts = []
    for rec in tr.layers:
        sent = [t + 1 for t in range(steps) if sent_at(rec.passes, t, steps)]
        which = (f"all {steps} steps" if len(sent) == steps else
                 f"step {sent[0]} only" if len(sent) == 1 else f"{len(sent)} steps")
        parts.append(f"{rec.name} hands on {which} ({HANDS_ON[rec.passes]})")
    text = "Which time steps each layer hands to the next: " + "; ".join(parts) + "."
    if step is not None:
        text += f" The line marks step {step}."
    return text


def lines_text(fig: go.Figure, what: str) -> str:
    """Any chart of named lines and points: `what` it shows, then each named trace's first
    and last value (a line) or its position (a single point)."""
    parts = []
    for t in fig.data:
        if t.type != "scatter" or not t.name or t.showlegend is False:
            continue
        ys = [float(v) if v is not None and math.isfinite(float(v)) else None
              for v in (t.y if t.y is not None else ())]
        xs = list(t.x) if t.x is not None else []
        known = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None]
        if not known:
            continue
        if len(known) == 1:
            x, y = known[0]
            parts.append(f"{t.name} at {_axis_value(x)}, {number(y)}")
        else:
            parts.append(f"{t.name} from {number(known[0][1])} to {number(known[-1][1])} "
                         f"(lowest {number(min(y for _, y in known))})")
    if not parts:
        return f"{what}: nothing drawn yet."
    return f"{what}: " + "; ".join(parts) + "."


def score_text(scores: np.ndarray, mask: np.ndarray, tau: float, window_label: str) -> str:
    """The Anomalies page's score chart (anomaly.figures.score_figure): the scores' range,
    tau, and how many steps are flagged inside and outside the shaded window."""
    scores = np.asarray(scores, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    flagged = scores > tau
    return (f"Score a(i) of {len(scores)} steps on a log scale, from "
            f"{number(float(scores.min()))} to {number(float(scores.max()))}, against "
            f"τ = {number(tau)}: {int(flagged.sum())} steps flagged, "
            f"{int((flagged & mask).sum())} of them in the {int(mask.sum())}-step "
            f"{window_label} window.")


def _axis_value(x) -> str:
    try:
        return number(float(x))
    except (TypeError, ValueError):
        return str(x)


def scatter_text(points: np.ndarray, shares: Sequence[float], colour_label: str,
                 colour: np.ndarray, ends: tuple[int, int]) -> str:
    """The Latent space page's code scatter: how many codes, how much the axes hold, what the
    colour means, where A and B are."""
    low, high = float(np.min(colour)), float(np.max(colour))
    a, b = ends
    return (f"Scatter of {len(points)} codes on their two principal axes, which hold "
            f"{100 * shares[0]:.0f}% and {100 * shares[1]:.0f}% of the variance; colour is "
            f"the {colour_label}, {number(low)} to {number(high)}. A is series {a + 1} at "
            f"({number(points[a, 0])}, {number(points[a, 1])}), B series {b + 1} at "
            f"({number(points[b, 0])}, {number(points[b, 1])}).")
