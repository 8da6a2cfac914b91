"""The Compare page's Plotly figures, built from plain run numbers (no streamlit, no torch)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .findings import MILESTONES, RunNumbers
from .plots import FONT, INK, epoch_axis, log_ticks, readable
from .settings import ARCHS

# One colour and dash per architecture, the same on every figure (Okabe-Ito: safe for the
# common colour-vision deficiencies); the dash tells them apart in grey too.
COLORS = dict(zip(ARCHS, ("#0072B2", "#E69F00", "#009E73", "#CC79A7"), strict=True))
DASHES = dict(zip(ARCHS, ("solid", "dash", "dot", "dashdot"), strict=True))
GUIDE = "#5f6368"
X_AXES = {"epoch": "epoch", "seconds": "seconds on a training slot (waiting for a turn not "
                                      "counted)"}


def _axis_range(values: Sequence[float]) -> dict:
    ticks = log_ticks(values)
    if not ticks:
        return dict(type="log")
    low, high = math.log10(ticks[0]), math.log10(ticks[-1])
    pad = 0.03 * (high - low)
    return dict(type="log", tickmode="array", tickvals=ticks,
                ticktext=[f"{t:.6g}" if t >= 1e-4 else f"{t:.0e}" for t in ticks],
                range=[low - pad, high + pad])


def mse_curves(runs: Sequence[RunNumbers], x: str, level: float | None,
               total_epochs: int) -> go.Figure:
    """Every run's validation MSE (data units) on one log axis, by epoch or by seconds on a
    slot; the "predict the mean" level and the table's milestones as guides."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {', '.join(X_AXES)}, got {x!r}")
    fig = go.Figure()
    shown: list[float] = []
    for run in runs:
        ys = [v for v in run.val_mses]
        xs = (list(range(1, len(ys) + 1)) if x == "epoch"
              else list(run.slot_seconds[: len(ys)]))
        ys = ys[: len(xs)]
        shown += [v for v in ys if v > 0 and math.isfinite(v)]
        arch = run.spec.arch
        fig.add_trace(go.Scatter(
            x=xs, y=[v if v > 0 and math.isfinite(v) else None for v in ys],
            mode="lines+markers" if len(xs) <= 40 else "lines", name=run.label,
            line=dict(color=COLORS.get(arch, INK), width=3, dash=DASHES.get(arch, "solid")),
            marker=dict(size=5),
            hovertemplate=f"{run.label}<br>{'epoch %{x}' if x == 'epoch' else '%{x:.1f} s'}"
                          "<br>validation MSE %{y:.3g}<extra></extra>"))
    guides = [(m, f"MSE {m:g}") for m in MILESTONES]
    if level is not None and level > 0 and math.isfinite(level):
        guides.insert(0, (level, f"predicting the mean: {level:.3g}"))
    for value, text in guides:
        fig.add_hline(y=value, line=dict(color=GUIDE, width=1, dash="dot"))
        # An annotation on a log axis is placed by the logarithm of its value.
        fig.add_annotation(text=text, x=1, xref="paper", xanchor="right", y=math.log10(value),
                           yanchor="bottom", showarrow=False, font=dict(size=12, color=GUIDE))
    everything = shown + [v for v, _ in guides]
    fig.update_yaxes(title="validation MSE (data units)", **_axis_range(everything))
    if x == "epoch":
        epoch_axis(fig, total_epochs, X_AXES[x])
    else:
        fig.update_xaxes(title=X_AXES[x], rangemode="tozero")
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      plot_bgcolor="white", legend=dict(orientation="h", y=1.02,
                                                        yanchor="bottom", x=0))
    if not shown:
        fig.add_annotation(text="each model's validation MSE appears here, epoch by epoch",
                           showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                           font=dict(color=GUIDE))
    return readable(fig)


def reconstruction_grid(originals: np.ndarray, rows: Sequence[tuple[str, str, np.ndarray | None,
                                                                      int]]) -> go.Figure:
    """The same validation series (columns) reconstructed by each model (rows).

    originals: (n, T, F); rows: (label, arch, reconstructions (n, T, F) or None, epoch of the
    snapshot). Feature 0 is drawn.
    """
    n = originals.shape[0]
    k = max(1, len(rows))
    titles = [f"series {i + 1}" for i in range(n)] + [""] * (n * (k - 1))
    fig = make_subplots(rows=k, cols=n, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=titles, vertical_spacing=0.04, horizontal_spacing=0.02)
    steps = np.arange(1, originals.shape[1] + 1)
    for r, (label, arch, recon, epoch) in enumerate(rows, start=1):
        for c in range(n):
            fig.add_trace(go.Scatter(x=steps, y=originals[c, :, 0], mode="lines", name="input",
                                     legendgroup="input", showlegend=r == 1 and c == 0,
                                     line=dict(color=INK, width=2), hoverinfo="skip"),
                          row=r, col=c + 1)
            if recon is not None and c < len(recon):
                fig.add_trace(go.Scatter(x=steps, y=recon[c, :, 0], mode="lines", name=label,
                                         legendgroup=label, showlegend=c == 0,
                                         line=dict(color=COLORS.get(arch, INK), width=3,
                                                   dash=DASHES.get(arch, "dash"))),
                              row=r, col=c + 1)
        when = f"epoch {epoch}" if recon is not None else "not yet"
        fig.update_yaxes(title=dict(text=f"{arch}<br>{when}", font=dict(size=12)), row=r,
                         col=1)
    fig.update_yaxes(range=[-1.15, 1.15], showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    # The legend's top margin leaves room for three legend lines on a phone.
    fig.update_layout(height=130 + 150 * k, margin=dict(l=10, r=10, t=120, b=10), font=FONT,
                      plot_bgcolor="white",
                      legend=dict(orientation="h", y=1.0, yanchor="top", yref="container",
                                  x=0, xanchor="left"))
    return readable(fig)
