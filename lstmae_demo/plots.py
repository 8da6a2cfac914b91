"""Plotly figures built from plain arrays and trace records (no streamlit, no torch)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .shapes.trace import Trace

SEQUENCE_COLOR = "#0b57d0"  # 3-D (batch, seq, ...) tensors
VECTOR_COLOR = "#b3261e"  # 2-D (batch, units) vectors and state hand-offs
LAYER_FILL = "#eef1f5"
INK = "#111111"
FONT = dict(size=15, color=INK)


def _glyph(fig: go.Figure, x: float, y: float, sequence: bool, color: str, steps: int) -> None:
    """A sequence as a deck of offset cards ('x T'), a vector as one tall bar."""
    if sequence:
        for k in range(3):
            dx, dy = 0.05 * k, 0.05 * k
            fig.add_shape(type="rect", x0=x - 0.12 + dx, x1=x + 0.02 + dx, y0=y - 0.22 + dy,
                          y1=y + 0.14 + dy, line=dict(color=color, width=2), fillcolor="white")
        fig.add_annotation(x=x + 0.3, y=y, text=f"x{steps}", showarrow=False,
                           font=dict(size=13, color=color), xanchor="left")
    else:
        fig.add_shape(type="rect", x0=x - 0.03, x1=x + 0.03, y0=y - 0.22, y1=y + 0.22,
                      line=dict(color=color, width=2), fillcolor=color)


def architecture_figure(tr: Trace) -> go.Figure:
    """Left-to-right diagram: a box per layer, arrows labelled with the tensor passed on.

    Sequences (batch, seq, ...) are drawn as a deck of cards, per-example vectors as one bar;
    the latent's arrow is thick and labelled 'bottleneck' (or 'no bottleneck'). Shapes are
    written under the arrows, below the boxes, so long labels never cover a box.
    """
    fig = go.Figure()
    layers = tr.layers
    gap, half = 2.4, 0.64
    for i, rec in enumerate(layers):
        x = i * gap
        is_latent = rec.name == tr.latent
        fig.add_shape(type="rect", x0=x - half, x1=x + half, y0=-0.5, y1=0.5,
                      line=dict(color=VECTOR_COLOR if is_latent else "#5f6368",
                                width=3 if is_latent else 1.5),
                      fillcolor=LAYER_FILL, layer="below")
        name = rec.name.replace(" ", "<br>", 1) if len(rec.name) > 10 else rec.name
        params = f"{rec.params_torch:,}<br>params" if rec.params_torch else "no<br>params"
        fig.add_annotation(x=x, y=0.17, text=f"<b>{name}</b>", showarrow=False,
                           font=dict(size=13, color=INK))
        fig.add_annotation(x=x, y=-0.27, text=params, showarrow=False,
                           font=dict(size=11, color="#3c4043"))
        if i == len(layers) - 1:
            continue
        x0, x1 = x + half + 0.04, x + gap - half - 0.04  # the arrow to the next layer
        mid = (x0 + x1) / 2
        color = SEQUENCE_COLOR if rec.is_sequence else VECTOR_COLOR
        fig.add_annotation(x=x1, y=0, ax=x0, ay=0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowsize=1.2,
                           arrowwidth=5 if is_latent else 2.5, arrowcolor=color, text="")
        _glyph(fig, mid, 0.75, rec.is_sequence, color, tr.spec.seq_len)
        label = "x".join(str(n) for n in rec.output_shape)
        fig.add_annotation(x=mid, y=-0.72, showarrow=False, text=f"<b>({label})</b>",
                           font=dict(size=13, color=color))
        fig.add_annotation(x=mid, y=-0.98, showarrow=False, text=f"<i>{', '.join(rec.axes)}</i>",
                           font=dict(size=11, color=color))
        if is_latent:
            verdict = "bottleneck" if tr.has_bottleneck else "no bottleneck"
            fig.add_annotation(
                x=mid, y=1.3, showarrow=False,
                text=f"<b>{verdict}</b>: {rec.numbers_per_example} numbers/example",
                font=dict(size=13, color=VECTOR_COLOR),
            )
    fig.update_xaxes(visible=False, range=[-0.9, (len(layers) - 1) * gap + 0.9])
    fig.update_yaxes(visible=False, range=[-1.15, 1.45])
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white", paper_bgcolor="white", showlegend=False)
    return fig


def bottleneck_figure(tr: Trace) -> go.Figure:
    """Numbers per example, layer by layer (log scale): where the data is squeezed."""
    names = [r.name for r in tr.layers]
    values = [r.numbers_per_example for r in tr.layers]
    colors = [VECTOR_COLOR if r.name == tr.latent else
              (SEQUENCE_COLOR if r.is_sequence else "#7f8c8d") for r in tr.layers]
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colors, text=values,
                           textposition="outside", cliponaxis=False))
    fig.add_hline(y=tr.input_per_example, line_dash="dash", line_color=INK,
                  annotation_text=f"input: {tr.input_per_example}",
                  annotation_position="top left")
    top = math.log10(max(max(values), tr.input_per_example)) + 0.6
    fig.update_yaxes(type="log", title="numbers per example", range=[0, top])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      plot_bgcolor="white")
    return fig


def loss_figure(train: Sequence[float], val: Sequence[float], log_y: bool = True,
                total_epochs: int | None = None) -> go.Figure:
    """Training and validation loss per epoch."""
    epochs = list(range(1, len(train) + 1))
    mode = "lines+markers" if len(epochs) <= 40 else "lines"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=list(train), mode=mode, name="train loss",
                             line=dict(color=SEQUENCE_COLOR, width=3)))
    fig.add_trace(go.Scatter(x=epochs[: len(val)], y=list(val), mode=mode,
                             name="validation loss",
                             line=dict(color=VECTOR_COLOR, width=3, dash="dot")))
    fig.update_xaxes(title="epoch", range=[0.5, max(total_epochs or 1, len(epochs)) + 0.5])
    fig.update_yaxes(title="loss", type="log" if log_y else "linear")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      legend=dict(orientation="h", y=1.12), plot_bgcolor="white")
    if not epochs:  # before the first epoch: no made-up loss scale, say what will appear
        fig.update_yaxes(showticklabels=False)
        fig.add_annotation(text="the losses of each epoch appear here", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5,
                           font=dict(color="#5f6368"))
    return fig


def reconstruction_figure(originals: np.ndarray, reconstructions: np.ndarray | None,
                          title: str = "") -> go.Figure:
    """Small multiples: each validation series (solid) and its reconstruction (dashed).

    originals, reconstructions: (n, T, F); one panel per series, feature 0 and up to 3 more.
    """
    n = originals.shape[0]
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True,
                        subplot_titles=[f"series {i + 1}" for i in range(n)])
    steps = np.arange(1, originals.shape[1] + 1)  # time steps counted from 1, as on the pages
    for i in range(n):
        r, c = divmod(i, cols)
        for f in range(min(originals.shape[2], 4)):
            first = i == 0 and f == 0
            fig.add_trace(go.Scatter(x=steps, y=originals[i, :, f], mode="lines", name="input",
                                     legendgroup="input", showlegend=first,
                                     line=dict(color=INK, width=2)), row=r + 1, col=c + 1)
            if reconstructions is not None:
                fig.add_trace(go.Scatter(x=steps, y=reconstructions[i, :, f], mode="lines",
                                         name="reconstruction", legendgroup="recon",
                                         showlegend=first,
                                         line=dict(color=VECTOR_COLOR, width=3, dash="dash")),
                              row=r + 1, col=c + 1)
    fig.update_yaxes(range=[-1.15, 1.15])
    fig.update_layout(height=90 + 220 * rows, margin=dict(l=10, r=10, t=80, b=10), font=FONT,
                      title=dict(text=title, y=0.99, yanchor="top", yref="container"),
                      plot_bgcolor="white",
                      legend=dict(orientation="h", x=1, xanchor="right", y=0.99,
                                  yanchor="top", yref="container"))
    return fig


def states_heatmap(states: np.ndarray, title: str, step: int | None = None) -> go.Figure:
    """Hidden states over time: states (T, U) shown as units x time; a line marks `step`.

    Steps are counted from 1; units from 0 (as they are indexed in the tensor).
    """
    fig = go.Figure(go.Heatmap(z=states.T, colorscale="RdBu", zmid=0,
                               colorbar=dict(title="value"),
                               x=np.arange(1, states.shape[0] + 1), y=np.arange(states.shape[1])))
    if step is not None:
        fig.add_vline(x=step, line_color=INK, line_width=3)
    fig.update_xaxes(title="time step")
    fig.update_yaxes(title="unit")
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=40, b=10), title=title, font=FONT)
    return fig


FLOW_STATES = (  # (label, colour) per code used by flow_figure
    ("passed on", SEQUENCE_COLOR),
    ("computed, then thrown away", "#d0d4da"),
    ("kept inside (state only)", "#f3d4d1"),
    ("passed on: the final state", VECTOR_COLOR),
    ("copy of the one code vector", "#8ab4f8"),
)


def _flow_row(passes: str, steps: int) -> list[int]:
    """Per time step, which FLOW_STATES code a layer's output has."""
    if passes == "last":
        return [1] * (steps - 1) + [0]
    if passes == "state":
        return [2] * (steps - 1) + [3]
    if passes == "repeat":
        return [4] * steps
    return [0] * steps


def flow_figure(tr: Trace, step: int | None = None) -> go.Figure:
    """Layers x time steps: which step's output each layer hands to the next one."""
    steps = tr.spec.seq_len
    rows = [_flow_row(r.passes, steps) for r in tr.layers]
    n = len(FLOW_STATES)
    scale = []
    for code, (_, colour) in enumerate(FLOW_STATES):
        scale += [[code / n, colour], [(code + 1) / n, colour]]
    labels = [[FLOW_STATES[c][0] for c in row] for row in rows]
    fig = go.Figure(go.Heatmap(
        z=rows, x=list(range(1, steps + 1)), y=[r.name for r in tr.layers], zmin=0, zmax=n,
        colorscale=scale, showscale=False, xgap=1, ygap=3, customdata=labels,
        hovertemplate="%{y}, step %{x}: %{customdata}<extra></extra>"))
    if step is not None:
        fig.add_vline(x=step, line_color=INK, line_width=3)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="time step")
    fig.update_layout(height=70 + 42 * len(rows), margin=dict(l=10, r=10, t=20, b=10),
                      font=FONT, plot_bgcolor="white")
    return fig
