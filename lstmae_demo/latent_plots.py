"""Plotly figures of the Latent space page, built from plain arrays (no streamlit, no torch)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .plots import FONT, INK, VECTOR_COLOR, readable, reconstruction_figure

A_COLOR, B_COLOR = "#0b57d0", "#b3261e"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def code_scatter(points: np.ndarray, colour: np.ndarray, colour_label: str, cyclic: bool,
                 hover: list[str], shares: tuple[float, float], ends: tuple[int, int],
                 path: np.ndarray | None = None, position: np.ndarray | None = None
                 ) -> go.Figure:
    """Every series' code on the two principal axes, coloured by a generator parameter.

    points (N, 2); colour (N,); hover: one text per series; ends: the series A and B; path
    (S, 2): the decoded points on the line between them; position (2,): the slider's point.
    Each series' marker carries its index as customdata, for a selection event.
    """
    n = len(points)
    fig = go.Figure(go.Scatter(
        x=points[:, 0], y=points[:, 1], mode="markers", name="series", showlegend=False,
        customdata=np.arange(n), text=hover, hovertemplate="%{text}<extra></extra>",
        marker=dict(size=10, color=colour, line=dict(color="white", width=0.5),
                    colorscale="Twilight" if cyclic else "Viridis",
                    colorbar=dict(title=dict(text=colour_label, side="right"),
                                  thickness=14)),
        selected=dict(marker=dict(size=14)), unselected=dict(marker=dict(opacity=0.55)),
    ))
    if path is not None:
        fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers",
                                 name="line from A to B", hoverinfo="skip",
                                 line=dict(color=INK, width=2, dash="dot"),
                                 marker=dict(size=5, color=INK)))
    for label, index, colour_ in (("A", ends[0], A_COLOR), ("B", ends[1], B_COLOR)):
        fig.add_trace(go.Scatter(
            x=[points[index, 0]], y=[points[index, 1]], mode="markers+text", text=[label],
            textposition="top center", name=f"{label}: series {index + 1}", hoverinfo="skip",
            textfont=dict(size=16, color=colour_),
            marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(color=colour_, width=3))))
    if position is not None:
        fig.add_trace(go.Scatter(x=[position[0]], y=[position[1]], mode="markers",
                                 name="decoded below", hoverinfo="skip",
                                 marker=dict(symbol="star", size=18, color=INK)))
    fig.update_xaxes(title=f"principal axis 1 ({_percent(shares[0])} of the variance)",
                     zeroline=False)
    fig.update_yaxes(title=f"principal axis 2 ({_percent(shares[1])} of the variance)",
                     zeroline=False)
    # The legend goes under the plot: above it, the toolbar (box and lasso select) covers it.
    fig.update_layout(height=500, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      plot_bgcolor="#fafafa", dragmode="select", clickmode="event+select",
                      legend=dict(orientation="h", x=0, y=-0.14, yanchor="top"))
    return readable(fig)


def morph_figure(positions: np.ndarray, decoded: np.ndarray, series_a: np.ndarray,
                 series_b: np.ndarray, current: int, frequencies: list[float | None]
                 ) -> go.Figure:
    """The series decoded along the line from A's code to B's: every step faint, the chosen
    one bold, the two input series dotted. Feature 0 only.

    positions (S,); decoded (S, T, F); series_a, series_b (T, F); frequencies: the fitted
    frequency of each decoded series (None: flat), for the legend.
    """
    steps = np.arange(1, decoded.shape[1] + 1)
    fig = go.Figure()
    # A dotted, B dashed: told apart without their colours too
    for name, series, colour, dash in (("input A", series_a, A_COLOR, "dot"),
                                       ("input B", series_b, B_COLOR, "dash")):
        fig.add_trace(go.Scatter(x=steps, y=series[:, 0], mode="lines", name=name,
                                 line=dict(color=colour, width=2, dash=dash)))
    for i, (position, series) in enumerate(zip(positions, decoded, strict=True)):
        mix = _blend(A_COLOR, B_COLOR, float(position))
        chosen = i == current
        fitted = "flat" if frequencies[i] is None else f"{frequencies[i]:.2f} cycles"
        fig.add_trace(go.Scatter(
            x=steps, y=series[:, 0], mode="lines", name=f"decoded at {position:.1f}: {fitted}",
            showlegend=chosen, opacity=1.0 if chosen else 0.3,
            line=dict(color=INK if chosen else mix, width=4 if chosen else 1.5)))
    fig.update_xaxes(title="time step")
    fig.update_yaxes(title="value", range=[-1.15, 1.15])
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      plot_bgcolor="white",
                      legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return readable(fig)


def frequency_path_figure(positions: np.ndarray, frequencies: list[float | None],
                          freq_a: float, freq_b: float, current: int) -> go.Figure:
    """The fitted frequency of each decoded series along the line (a gap where it is flat),
    against a straight line from A's frequency to B's."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[freq_a, freq_b], mode="lines",
                             name="straight from A's to B's", line=dict(color="#9aa0a6",
                                                                       dash="dash")))
    fig.add_trace(go.Scatter(x=positions, y=frequencies, mode="lines+markers",
                             name="fitted to the decoded series",
                             line=dict(color=VECTOR_COLOR, width=3)))
    fig.add_trace(go.Scatter(x=[positions[current]], y=[frequencies[current]], mode="markers",
                             name="the slider's", marker=dict(symbol="star", size=16,
                                                              color=INK)))
    fig.update_xaxes(title="position on the line (0 = A, 1 = B)")
    fig.update_yaxes(title="frequency (cycles per window)")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      plot_bgcolor="white",
                      legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return readable(fig)


def series_figure(originals: np.ndarray, reconstructions: np.ndarray, indices: list[int]
                  ) -> go.Figure:
    """Some validation series (n, T, F) and their reconstructions, each panel titled with the
    series' own number (indices count from 0)."""
    fig = reconstruction_figure(originals, reconstructions)
    for annotation, index in zip(fig.layout.annotations, indices, strict=True):
        annotation.text = f"series {index + 1}"
    return fig


def _blend(a: str, b: str, share: float) -> str:
    """The colour `share` of the way from hex colour a to hex colour b."""
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(x + share * (y - x)) for x, y in zip(ca, cb, strict=True)]
    return "#" + "".join(f"{v:02x}" for v in mixed)
