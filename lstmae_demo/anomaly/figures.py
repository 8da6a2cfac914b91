"""Plotly figures of the anomaly lab, from plain arrays and the lab's results (no streamlit).

- `series_figure`: the test input, its reconstruction, the anomaly window shaded
- `score_figure`: the anomaly score a(i) over time against tau (log scale), the window shaded
- `pr_figure`: the test set's precision-recall curve with the chosen tau and the validation's
  best tau marked
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..plots import readable
from .threshold import Metrics, PRCurve

# Okabe-Ito blue, vermillion, reddish purple and yellow (colour-blind-safe); each series also
# has its own dash or marker.
INPUT, RECON, SCORE, TAU, SHADE = "#0072B2", "#D55E00", "#5f6368", "#CC79A7", "#F0E442"
HEIGHT = 300


def windows(mask: np.ndarray) -> list[tuple[int, int]]:
    """The runs of True in a (L,) bool mask, as (first, last) indices."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _shade(fig: go.Figure, x: np.ndarray, mask: np.ndarray, label: str) -> None:
    """The labelled windows shaded, named once in the legend: a label drawn in the plot sat on
    the very lines and flagged points it was labelling."""
    spans = windows(mask)
    for first, last in spans:
        fig.add_vrect(x0=x[first], x1=x[last], fillcolor=SHADE, opacity=0.25, line_width=0,
                      layer="below")
    if spans:  # a legend entry only: no point to draw, so nothing for the hover or the text
        fig.add_trace(go.Scatter(x=[None], y=[None], name=label, mode="markers",
                                 hoverinfo="skip", marker=dict(symbol="square", size=14,
                                                               color=SHADE, opacity=0.6)))


def _dates(fig: go.Figure, x: np.ndarray) -> None:
    """Timestamps as 'Apr 11' on one line (the year on a second line would meet the legend)."""
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        fig.update_xaxes(tickformat="%b %d")


def _layout(fig: go.Figure, title: str, y_title: str, legend_y: float = -0.18) -> go.Figure:
    fig.update_layout(title=dict(text=title, font_size=14), height=HEIGHT,
                      margin=dict(l=10, r=10, t=40, b=10), yaxis_title=y_title,
                      legend=dict(orientation="h", yanchor="top", y=legend_y, x=0,
                                  xanchor="left"))
    return readable(fig)


def series_figure(x: np.ndarray, values: np.ndarray, recon: np.ndarray, mask: np.ndarray,
                  title: str, window_label: str) -> go.Figure:
    """The input (L, F) and its reconstruction (L, F) over x (L,), the anomaly shaded."""
    fig = go.Figure()
    n_features = values.shape[1]
    for f in range(n_features):
        suffix = f" (feature {f + 1})" if n_features > 1 else ""
        fig.add_trace(go.Scatter(x=x, y=values[:, f], name="input" + suffix, mode="lines",
                                 line=dict(color=INPUT, width=1.5), legendgroup="input",
                                 showlegend=f == 0))
        fig.add_trace(go.Scatter(x=x, y=recon[:, f], name="reconstruction" + suffix,
                                 mode="lines", line=dict(color=RECON, width=1.5, dash="dot"),
                                 legendgroup="recon", showlegend=f == 0))
    _shade(fig, x, mask, window_label)
    _dates(fig, x)
    return _layout(fig, title, "value")


def score_figure(x: np.ndarray, scores: np.ndarray, mask: np.ndarray, tau: float,
                 window_label: str) -> go.Figure:
    """a(i) over x on a log axis, tau as a line, the steps above it marked, the window shaded."""
    floor = max(float(scores[scores > 0].min()) if (scores > 0).any() else 1e-12, 1e-12)
    shown = np.maximum(scores, floor)  # a log axis cannot show 0
    above = scores > tau
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=shown, name="score a(i)", mode="lines",
                             line=dict(color=SCORE, width=1.2)))
    fig.add_trace(go.Scatter(x=x[above], y=shown[above], name="above τ (flagged)",
                             mode="markers", marker=dict(color=TAU, size=5)))
    # tau as a trace, not add_hline's annotation: on a log axis an annotation's y is read as
    # log10 of the value, which would stretch the axis to 10^tau.
    fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[tau, tau], name=f"τ = {tau:.3g}",
                             mode="lines", line=dict(color=TAU, dash="dash", width=1.5)))
    _shade(fig, x, mask, window_label)
    _dates(fig, x)
    top = max(float(shown.max()), tau)
    # Over a few decades powers of ten read best; over less, plain numbers (else every tick
    # of a narrow range can read "1").
    narrow = np.log10(top / max(min(float(shown.min()), tau), 1e-300)) < 2
    fig.update_yaxes(type="log", **({"tickformat": ".2g"} if narrow else
                                    {"exponentformat": "power"}))
    return _layout(fig, "Score a(i) against τ", "score (log scale)")


def pr_figure(curve: PRCurve, chosen: Metrics, best_on_test: Metrics,
              unit_words: str) -> go.Figure:
    """The test set's precision-recall curve; the chosen tau and the validation's best tau."""
    keep = (curve.tp + curve.fp) > 0  # a threshold that flags nothing has no precision
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curve.recall[keep], y=curve.precision[keep], mode="lines",
                             line=dict(color=SCORE, shape="hv"), name="every τ"))
    fig.add_trace(go.Scatter(x=[best_on_test.recall], y=[best_on_test.precision],
                             mode="markers", marker=dict(color=RECON, size=12, symbol="diamond"),
                             name=f"validation's best τ = {best_on_test.tau:.3g}"))
    fig.add_trace(go.Scatter(x=[chosen.recall], y=[chosen.precision], mode="markers",
                             marker=dict(color=TAU, size=10), name=f"your τ = {chosen.tau:.3g}"))
    fig.update_xaxes(range=[-0.02, 1.02], title="recall")
    fig.update_yaxes(range=[-0.02, 1.05])
    return _layout(fig, f"Test set, counting {unit_words}", "precision", legend_y=-0.3)
