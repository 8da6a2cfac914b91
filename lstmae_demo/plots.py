"""Plotly figures built from plain arrays and trace records (no streamlit, no torch)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .nn import HANDS_ON
from .shapes.trace import Trace

SEQUENCE_COLOR = "#0b57d0"  # 3-D (batch, seq, ...) tensors
VECTOR_COLOR = "#b3261e"  # 2-D (batch, units) vectors and state hand-offs
LAYER_FILL = "#eef1f5"
HIGHLIGHT_COLOR = "#8a4b00"  # the Quiz's layer: dark orange, 6.8:1 on white
INK = "#111111"
# Features told apart by colour and named in the legend: Okabe and Ito's colour-blind-safe
# palette (blue, vermillion, bluish green, reddish purple).
FEATURE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
FONT = dict(size=15, color=INK)
# Every chart's text is drawn at >= 4.5:1 against its white background (WCAG AA). Streamlit's
# chart theme writes tick labels and axis titles in rgb(128,132,149) (3.7:1) unless the figure
# names a colour, so `readable` names INK for each text of a figure that has none of its own.
BACKGROUND = "#ffffff"
MIN_TEXT_CONTRAST = 4.5
MAX_DECADES = 7  # a log axis spanning more labels every second (third, ...) decade only


def readable(fig: go.Figure) -> go.Figure:
    """Name dark text colours for everything in `fig` that would take a theme's grey: the
    global font, axis tick labels and titles (every subplot's), the legend, the title,
    colour bars. Colours a builder chose itself (annotations, a coloured label) are kept.
    Every figure builder returns its figure through this, so no chart is left with grey text.
    """
    fig.update_layout(font_color=INK, legend_font_color=INK, title_font_color=INK,
                      paper_bgcolor=fig.layout.paper_bgcolor or BACKGROUND,
                      plot_bgcolor=fig.layout.plot_bgcolor or BACKGROUND)
    fig.update_xaxes(tickfont_color=INK, title_font_color=INK)
    fig.update_yaxes(tickfont_color=INK, title_font_color=INK)
    for trace in fig.data:
        if trace.type == "heatmap":
            bar = trace.colorbar
        elif trace.type == "scatter" and trace.marker.showscale:
            bar = trace.marker.colorbar
        else:
            continue
        bar.tickfont.color = INK
        bar.title.font.color = INK
    for annotation in fig.layout.annotations:  # subplot titles and notes without a colour
        if annotation.font.color is None:
            annotation.font.color = INK
    return fig


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a '#rrggbb' or 'rgb(r, g, b)' colour."""
    colour = colour.strip()
    if colour.startswith("#"):
        channels = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [int(float(v)) for v in colour[colour.index("(") + 1:-1].split(",")[:3]]
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str = BACKGROUND) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


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


def _shape_label(shape: Sequence[int]) -> str:
    return "(" + "x".join(str(n) for n in shape) + ")"


def _handed_on(rec) -> tuple[str, str, bool]:
    """(shape label, axes label, is a sequence) of what the next box in the chain receives.

    A layer that hands on its outputs and its final state (attention's encoder) sends the
    next box, the decoder, only the state; its outputs go round to the attention box.
    """
    if rec.passes == "sequence_state" and rec.h_n is not None:
        return f"{_shape_label(rec.h_n)} x2", "h_n, c_n", False
    if rec.passes == "state":
        return f"{_shape_label(rec.output_shape)} x2", "h_n, c_n", False
    return _shape_label(rec.output_shape), ", ".join(rec.axes), rec.is_sequence


def _box_name(name: str) -> str:
    """A layer's name on at most two lines that fit its box: "encoder<br>LSTM 2"."""
    if len(name) <= 10:
        return name
    if " " in name:
        return name.replace(" ", "<br>", 1)
    capitals = [i for i, ch in enumerate(name) if ch.isupper() and i > 0]
    return f"{name[:capitals[-1]]}<br>{name[capitals[-1]:]}" if capitals else name


def _skip(fig: go.Figure, x0: float, x1: float, y: float, colour: str, text: str) -> None:
    """A bracket from box x0 to box x1 at height y (above or below the boxes), for an input
    that does not come from the box just before."""
    edge = 0.5 if y > 0 else -0.5
    fig.add_shape(type="path", path=f"M {x0},{edge} L {x0},{y} L {x1},{y} L {x1},{edge}",
                  line=dict(color=colour, width=2.5))
    fig.add_annotation(x=x1, y=edge, ax=x1, ay=y, xref="x", yref="y", axref="x", ayref="y",
                       showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=2.5,
                       arrowcolor=colour, text="")
    fig.add_annotation(x=(x0 + x1) / 2, y=y, text=text, showarrow=False,
                       yanchor="bottom" if y > 0 else "top", font=dict(size=12, color=colour))


def _skips(fig: go.Figure, tr: Trace, gap: float) -> tuple[bool, bool]:
    """Inputs from further back than the box before: attention reads every encoder output,
    Concatenate also takes the decoder's output, a conditional EncDec-AD decoder is fed the
    input. Returns whether a bracket went above and below the boxes."""
    names = [r.name for r in tr.layers]
    above = below = False
    for i, rec in enumerate(tr.layers):
        if rec.kind == "Attention":
            source = names.index(tr.latent)
            shape = tr.record(tr.latent).full_output_shape or tr.record(tr.latent).output_shape
            verdict = "bottleneck" if tr.has_bottleneck else "no bottleneck"
            _skip(fig, source * gap, i * gap, 1.7, SEQUENCE_COLOR,
                  f"every encoder output {_shape_label(shape)}, read through attention: "
                  f"<span style='color:{VECTOR_COLOR}'><b>{verdict}</b>, "
                  f"{tr.code.per_example} numbers/example</span>")
            above = True
        elif rec.passes == "reversed" and tr.spec.decoder == "conditional":
            _skip(fig, 0, i * gap, -1.3, SEQUENCE_COLOR,
                  "the input, reversed, step by step: the true values while training, the "
                  "decoder's own predictions at inference")
            below = True
        elif rec.kind == "Concatenate" and i >= 2:
            decoder = tr.layers[i - 2]
            _skip(fig, (i - 2) * gap, i * gap, -1.3, SEQUENCE_COLOR,
                  f"{decoder.name} output {_shape_label(decoder.output_shape)}")
            below = True
    return above, below


def architecture_figure(tr: Trace, highlight: str | None = None,
                        text_scale: float = 1.0) -> go.Figure:
    """Left-to-right diagram: a box per layer, arrows labelled with the tensor passed on.

    Sequences (batch, seq, ...) are drawn as a deck of cards, per-example vectors and states
    as one bar; the latent's arrow is thick and labelled 'bottleneck' (or 'no bottleneck').
    Shapes are written under the arrows, below the boxes, so long labels never cover a box.
    An input that skips boxes (attention reading every encoder output) is a bracket above
    the boxes, or below them for a second one. `highlight` names a record whose box gets a
    thick dashed frame (the layer a Quiz question is about; no text, so no label can overlap).
    `text_scale` enlarges every label (the presentation view's projector); the page gives the
    diagram room for its labels to stay apart (lstmae_demo/ui/views.py, diagram).
    """
    fig = go.Figure()
    layers = tr.layers
    gap, half = 2.4, 0.7  # a box holds "Embedding" in 13 px bold at the narrowest spacing
    for i, rec in enumerate(layers):
        x = i * gap
        is_latent = rec.name == tr.latent
        fig.add_shape(type="rect", x0=x - half, x1=x + half, y0=-0.5, y1=0.5,
                      line=dict(color=VECTOR_COLOR if is_latent else "#5f6368",
                                width=3 if is_latent else 1.5),
                      fillcolor=LAYER_FILL, layer="below")
        name = _box_name(rec.name)
        params = f"{rec.params_torch:,}<br>params" if rec.params_torch else "no<br>params"
        fig.add_annotation(x=x, y=0.17, text=f"<b>{name}</b>", showarrow=False,
                           font=dict(size=13, color=INK))
        fig.add_annotation(x=x, y=-0.27, text=params, showarrow=False,
                           font=dict(size=11, color="#3c4043"))
        if rec.name == highlight:  # a dashed frame: marked by its line, not by colour alone
            fig.add_shape(type="rect", x0=x - half - 0.1, x1=x + half + 0.1, y0=-0.6, y1=0.6,
                          line=dict(color=HIGHLIGHT_COLOR, width=4, dash="dash"))
        if i == len(layers) - 1:
            continue
        x0, x1 = x + half + 0.04, x + gap - half - 0.04  # the arrow to the next layer
        mid = (x0 + x1) / 2
        label, axes, sequence = _handed_on(rec)
        color = SEQUENCE_COLOR if sequence else VECTOR_COLOR
        fig.add_annotation(x=x1, y=0, ax=x0, ay=0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowsize=1.2,
                           arrowwidth=5 if is_latent else 2.5, arrowcolor=color, text="")
        _glyph(fig, mid, 0.75, sequence, color, tr.spec.seq_len)
        fig.add_annotation(x=mid, y=-0.72, showarrow=False, text=f"<b>{label}</b>",
                           font=dict(size=13, color=color))
        fig.add_annotation(x=mid, y=-0.98, showarrow=False, text=axes,
                           font=dict(size=13, color=color))
        if is_latent and not any(r.kind == "Attention" for r in layers):  # else: on the bracket
            verdict = "bottleneck" if tr.has_bottleneck else "no bottleneck"
            fig.add_annotation(
                x=mid, y=1.3, showarrow=False,
                text=f"<b>{verdict}</b>: {tr.code.per_example} numbers/example",
                font=dict(size=13, color=VECTOR_COLOR),
            )
    above, below = _skips(fig, tr, gap)
    fig.update_xaxes(visible=False, range=[-0.9, (len(layers) - 1) * gap + 0.9])
    fig.update_yaxes(visible=False, range=[-1.75 if below else -1.15, 2.1 if above else 1.45])
    fig.update_layout(height=360 + 60 * (above + below), margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white", paper_bgcolor="white", showlegend=False)
    for note in fig.layout.annotations:
        if note.font.size:
            note.font.size = round(note.font.size * text_scale)
    return fig


CODE_MARK = " (code)"  # the bottleneck meter's name of the code's layer ends with it


def bottleneck_figure(tr: Trace) -> go.Figure:
    """Numbers per example, layer by layer (log scale): where the data is squeezed.

    One bar per layer, top to bottom in the model's order, each named on its own line at the
    left, so the names never tilt or run into each other on a narrow screen.
    """
    # The code's row is named as well as coloured (no meaning by colour alone), in its name
    # at the left, where a longer label takes room from no bar.
    names = [r.name + (CODE_MARK if r.name == tr.latent else "") for r in tr.layers]
    values = [r.numbers_per_example for r in tr.layers]
    colors = [VECTOR_COLOR if r.name == tr.latent else
              (SEQUENCE_COLOR if r.is_sequence else "#7f8c8d") for r in tr.layers]
    fig = go.Figure(go.Bar(y=names, x=values, orientation="h", marker_color=colors,
                           text=values, textposition="outside", cliponaxis=False))
    fig.add_vline(x=tr.input_per_example, line_dash="dash", line_color=INK)
    fig.add_annotation(x=math.log10(tr.input_per_example), y=1, xref="x", yref="paper",
                       yanchor="bottom", showarrow=False,
                       text=f"input: {tr.input_per_example}", font=dict(size=13, color=INK))
    top = math.log10(max(max(values), tr.input_per_example)) + 0.6
    fig.update_xaxes(type="log", title="numbers per example", range=[0, top], dtick=1)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(height=90 + 34 * len(names), margin=dict(l=10, r=10, t=30, b=10),
                      font=FONT, plot_bgcolor="white")
    return readable(fig)


def log_ticks(values: Sequence[float]) -> list[float]:
    """Tick values for a log axis over these values, every one labelled in full.

    Whole decades when the values span three or more; else 1-2-5 steps; else every digit.
    Plotly's own log ticks label the minor ones with a bare digit ("3, 2, 0.1, 9 ...", so
    "3" sits above "0.1"); these are all written out ("0.03, 0.02, 0.01").
    """
    finite = [v for v in values if v > 0 and math.isfinite(v)]
    if not finite:
        return []
    low, high = min(finite), max(finite)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    every = max(1, math.ceil((last - first) / MAX_DECADES))  # decades between labels
    for mantissas in ((1,), (1, 2, 5), tuple(range(1, 10))):
        ticks = [float(f"{m}e{e}") for e in range(first, last + every, every) for m in mantissas]
        inside = [t for t in ticks if low / 1.0001 <= t <= high * 1.0001]
        if len(inside) >= 3 or (mantissas[-1] == 9):
            # one tick on each side of the data, so the ends of the curves are labelled too
            below = [t for t in ticks if t < low / 1.0001][-1:]
            above = [t for t in ticks if t > high * 1.0001][:1]
            return below + inside + above
    return []  # not reached: the last mantissas always return


def _tick_text(value: float) -> str:
    if 1e-4 <= value < 1e6:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"  # 1e10, 2e-5


def _log_axis(values: Sequence[float]) -> dict:
    """A log axis whose labelled ticks are whole numbers in order (see log_ticks)."""
    ticks = log_ticks(values)
    if not ticks:
        return dict(type="log")
    low, high = math.log10(ticks[0]), math.log10(ticks[-1])
    pad = 0.03 * (high - low)  # markers at the end ticks stay whole
    return dict(type="log", tickmode="array", tickvals=ticks,
                ticktext=[_tick_text(t) for t in ticks], range=[low - pad, high + pad])


def loss_figure(train: Sequence[float], val: Sequence[float], log_y: bool = True,
                total_epochs: int | None = None, loss_name: str = "MSE",
                val_mse: Sequence[float] = ()) -> go.Figure:
    """Training and validation loss per epoch, with the loss named on its axis.

    When the loss is not an MSE (the embedding model's cross-entropy), the validation MSE in
    the data's units, which every model shares, is drawn too, on its own axis at the right.
    """
    epochs = list(range(1, len(train) + 1))
    mode = "lines+markers" if len(epochs) <= 40 else "lines"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=list(train), mode=mode, name=f"train {loss_name}",
                             line=dict(color=SEQUENCE_COLOR, width=3)))
    fig.add_trace(go.Scatter(x=epochs[: len(val)], y=list(val), mode=mode,
                             name=f"validation {loss_name}",
                             line=dict(color=VECTOR_COLOR, width=3, dash="dot")))
    both = list(train) + list(val)
    epoch_axis(fig, max(total_epochs or 1, len(epochs)))
    fig.update_yaxes(title=f"loss: {loss_name}",
                     **(_log_axis(both) if log_y else dict(type="linear")))
    extra = loss_name != "MSE" and len(val_mse) > 0
    if extra:
        fig.add_trace(go.Scatter(x=epochs[: len(val_mse)], y=list(val_mse), mode=mode,
                                 name="validation MSE (right axis)", yaxis="y2",
                                 line=dict(color="#009E73", width=3, dash="dash")))
        fig.update_layout(yaxis2=dict(title="validation MSE (data units)", overlaying="y",
                                      side="right", showgrid=False,
                                      **(_log_axis(val_mse) if log_y else {})))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      legend=dict(orientation="h", y=1.12), plot_bgcolor="white")
    if not epochs:  # before the first epoch: no made-up loss scale, say what will appear
        fig.update_yaxes(showticklabels=False)
        fig.add_annotation(text="the losses of each epoch appear here", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5,
                           font=dict(color="#5f6368"))
    return readable(fig)


def epoch_axis(fig: go.Figure, last: int, title: str = "epoch") -> None:
    """An x axis of whole epochs 1..last: ticks on whole numbers only (Plotly's own choice
    for a 3-epoch run was 1, 1.5, 2, ..., and there is no epoch 1.5), about ten at most."""
    last = max(last, 1)
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if last / s <= 10)
    fig.update_xaxes(title=title, range=[0.5, last + 0.5], tickmode="linear", tick0=0,
                     dtick=step)


def reconstruction_figure(originals: np.ndarray, reconstructions: np.ndarray | None,
                          title: str = "", first: int = 1, legend_below: bool = False
                          ) -> go.Figure:
    """Small multiples: each validation series (solid) and its reconstruction (dashed).

    originals, reconstructions: (n, T, F); one panel per series, the first four features
    (a colour each when there are several); the panels are titled "series <first>", ...
    legend_below: the legend under the panels even for one feature (for a narrow column,
    where a legend beside the title runs into it).
    """
    n = originals.shape[0]
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True,
                        subplot_titles=[f"series {first + i}" for i in range(n)])
    steps = np.arange(1, originals.shape[1] + 1)  # time steps counted from 1, as on the pages
    features = min(originals.shape[2], len(FEATURE_COLORS))
    for i in range(n):
        r, c = divmod(i, cols)
        for f in range(features):
            legend = i == 0  # each feature's pair once in the legend
            # One feature: black input, red reconstruction. Several: a colour per feature
            # (solid input, dashed reconstruction in the same colour), each named.
            ink, recon_ink = (INK, VECTOR_COLOR) if features == 1 else (FEATURE_COLORS[f],) * 2
            label = "" if features == 1 else f"feature {f + 1} "
            fig.add_trace(go.Scatter(x=steps, y=originals[i, :, f], mode="lines",
                                     name=f"{label}input", legendgroup=f"input{f}",
                                     showlegend=legend, line=dict(color=ink, width=2)),
                          row=r + 1, col=c + 1)
            if reconstructions is not None:
                fig.add_trace(go.Scatter(x=steps, y=reconstructions[i, :, f], mode="lines",
                                         name=f"{label}reconstruction",
                                         legendgroup=f"recon{f}", showlegend=legend,
                                         line=dict(color=recon_ink, width=3, dash="dash")),
                              row=r + 1, col=c + 1)
    # [-1.15, 1.15] holds every sine and min-max scaled value; z-scored series (a bundled
    # one, an upload) can leave it: then the inputs' own range, with the same margin.
    low = min(-1.0, float(originals.min())) if originals.size else -1.0
    high = max(1.0, float(originals.max())) if originals.size else 1.0
    margin = 0.075 * (high - low)
    fig.update_yaxes(range=[low - margin, high + margin])
    # One feature: two legend entries beside the title. Several: up to eight, which would run
    # into the title, so below the panels.
    below = legend_below or features > 1
    fig.update_layout(height=90 + 220 * rows + (60 if below else 0),
                      margin=dict(l=10, r=10, t=80, b=70 if below else 10), font=FONT,
                      title=dict(text=title, y=0.99, yanchor="top", yref="container"),
                      plot_bgcolor="white",
                      legend=dict(orientation="h", x=0 if below else 1,
                                  xanchor="left" if below else "right",
                                  y=0.01 if below else 0.99, yanchor="bottom" if below else "top",
                                  yref="container"))
    return readable(fig)


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
    return readable(fig)


# The colour and the marker of a step whose output the next layer receives, per nn.HANDS_ON
# key (what the layer hands on); a step computed but not handed on is a grey cell without a
# marker. The marker is the second cue, so no meaning rests on colour alone; the colours are
# the diagram's blue (sequences) and red (vectors, states) and Okabe-Ito's colour-blind-safe
# reddish purple, bluish green and vermillion, each >= 3:1 against white.
FLOW_COLORS: dict[str, str] = {
    "sequence": SEQUENCE_COLOR,
    "last": SEQUENCE_COLOR,
    "h_n": VECTOR_COLOR,
    "state": VECTOR_COLOR,
    "h_state": VECTOR_COLOR,
    "sequence_state": "#CC79A7",
    "repeat": "#009E73",
    "reversed": "#D55E00",
}
# (Plotly marker symbol, the same shape as a character for the legend)
FLOW_MARKERS: dict[str, tuple[str, str]] = {
    "sequence": ("circle", "●"),
    "last": ("star", "★"),  # the same colour as "sequence": one step of the same output
    "h_n": ("square", "■"),
    "state": ("square", "■"),
    "h_state": ("square", "■"),
    "sequence_state": ("diamond", "◆"),
    "repeat": ("triangle-up", "▲"),
    "reversed": ("triangle-left", "◀"),
}
NOT_SENT = "#d0d4da"
NOT_SENT_GLYPH = "□"  # an empty cell: no marker
assert set(FLOW_COLORS) == set(HANDS_ON) == set(FLOW_MARKERS), "a cue for every nn.HANDS_ON key"


def sent_at(passes: str, t: int, steps: int) -> bool:
    """Whether a layer that hands on `passes` (an nn.HANDS_ON key) sends step t (0-based)."""
    return passes not in ("last", "h_n", "state", "h_state") or t == steps - 1


def flow_figure(tr: Trace, step: int | None = None) -> go.Figure:
    """Layers x time steps: which step's output each layer hands to the next one.

    Each row is coloured by what its layer hands on (nn.HANDS_ON) and each handed-on cell
    carries that kind's marker (circle, square, ...); a step computed but not handed on is a
    grey cell without a marker. Hovering a cell says which, in nn.HANDS_ON's words.
    """
    steps = tr.spec.seq_len
    keys = list(HANDS_ON)
    codes = {key: i for i, key in enumerate(keys)}
    grey = len(keys)  # the code of "computed, not handed on"
    z, words = [], []
    for rec in tr.layers:
        row, text = [], []
        for t in range(steps):
            sent = sent_at(rec.passes, t, steps)
            row.append(codes[rec.passes] if sent else grey)
            text.append(("handed on: " if sent else "computed, not handed on; the layer hands "
                         "on ") + HANDS_ON[rec.passes])
        z.append(row)
        words.append(text)
    colours = [FLOW_COLORS[k] for k in keys] + [NOT_SENT]
    n = len(colours)
    scale = []
    for code, colour in enumerate(colours):
        scale += [[code / n, colour], [(code + 1) / n, colour]]
    names = [r.name for r in tr.layers]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(1, steps + 1)), y=names, zmin=0, zmax=n,
        colorscale=scale, showscale=False, xgap=1, ygap=3, customdata=words,
        hovertemplate="%{y}, step %{x}: %{customdata}<extra></extra>"))
    for key in dict.fromkeys(r.passes for r in tr.layers):  # one marker trace per kind
        cells = [(t + 1, rec.name) for rec in tr.layers if rec.passes == key
                 for t in range(steps) if sent_at(key, t, steps)]
        fig.add_trace(go.Scatter(
            x=[c[0] for c in cells], y=[c[1] for c in cells], mode="markers",
            name=HANDS_ON[key], showlegend=False, hoverinfo="skip",
            marker=dict(symbol=FLOW_MARKERS[key][0], size=7, color="white",
                        line=dict(color=INK, width=1))))
    if step is not None:
        fig.add_vline(x=step, line_color=INK, line_width=3)
    legend = [(colour, FLOW_MARKERS[key][1], words) for key, colour, words in flow_legend(tr)]
    legend.append((NOT_SENT, NOT_SENT_GLYPH, "computed, not handed on (grey, no marker)"))
    for i, (colour, glyph, words) in enumerate(legend):  # the legend, in nn.HANDS_ON's words
        fig.add_annotation(xref="paper", yref="paper", x=0, y=1.0, yshift=22 * (len(legend) - i),
                           xanchor="left", yanchor="bottom", showarrow=False,
                           text=f"<span style='color:{colour}'>██</span> {glyph} {words}",
                           font=dict(size=13, color=INK))
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array",
                     categoryarray=names)
    fig.update_xaxes(title="time step", range=[0.5, steps + 0.5])
    fig.update_layout(height=70 + 42 * len(tr.layers) + 22 * len(legend),
                      margin=dict(l=10, r=10, t=20 + 22 * len(legend), b=10),
                      font=FONT, plot_bgcolor="white", showlegend=False)
    return readable(fig)


def flow_legend(tr: Trace) -> list[tuple[str, str, str]]:
    """(name, colour, words) for the keys of nn.HANDS_ON this trace uses, in layer order."""
    seen = dict.fromkeys(r.passes for r in tr.layers)
    return [(key, FLOW_COLORS[key], HANDS_ON[key]) for key in seen]
