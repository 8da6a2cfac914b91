"""Every chart the app draws: its text alternative says what the figure's own data shows, its
text is at >= 4.5:1 against the background (WCAG AA), and the time-step flow chart tells its
layers apart by marker as well as by colour."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest

from lstmae_demo import chart_text
from lstmae_demo.anomaly import figures as anomaly_figures
from lstmae_demo.anomaly.threshold import best_threshold, evaluate, pr_curve
from lstmae_demo.compare_plots import mse_curves, reconstruction_grid
from lstmae_demo.findings import RunNumbers
from lstmae_demo.latent_plots import code_scatter, frequency_path_figure, morph_figure
from lstmae_demo.latent_plots import series_figure as latent_series
from lstmae_demo.nn import HANDS_ON
from lstmae_demo.plots import (
    BACKGROUND,
    CODE_MARK,
    FLOW_MARKERS,
    MIN_TEXT_CONTRAST,
    NOT_SENT,
    architecture_figure,
    bottleneck_figure,
    contrast_ratio,
    flow_figure,
    loss_figure,
    reconstruction_figure,
    sent_at,
    states_heatmap,
)
from lstmae_demo.settings import ARCHS
from lstmae_demo.shapes.trace import trace
from lstmae_demo.spec import preset

RNG = np.random.default_rng(7)
TRACES = [trace(preset(arch), 1) for arch in ARCHS] + [
    trace(replace(preset("embedding"), reads="state"), 1),
    trace(replace(preset("encdec_ad"), handoff="hc", decoder="unconditioned"), 1)]


def _runs() -> list[RunNumbers]:
    return [RunNumbers(spec=preset(arch), train_losses=(0.5, 0.1, 0.05),
                       val_losses=(0.6, 0.2, 0.04 + i / 100), val_mses=(0.6, 0.2, 0.04 + i / 100),
                       total_epochs=5, slot_seconds=(1.0, 2.0, 3.0)) for i, arch in
            enumerate(ARCHS)]


def every_figure() -> dict[str, go.Figure]:
    """One of each kind of figure the app draws, from the builders the pages call."""
    x = RNG.normal(size=(4, 30, 1))
    figs: dict[str, go.Figure] = {}
    for tr in TRACES:
        name = tr.spec.arch + "-" + "-".join(f"{k}" for k in tr.spec.to_dict().values())[:40]
        figs[f"architecture {name}"] = architecture_figure(tr)
        figs[f"bottleneck {name}"] = bottleneck_figure(tr)
        figs[f"flow {name}"] = flow_figure(tr, step=3)
    figs["loss"] = loss_figure([0.4, 0.1, 0.02], [0.5, 0.2, 0.03])
    figs["loss, cross-entropy"] = loss_figure([3.0, 2.0], [3.1, 2.2], loss_name="cross-entropy",
                                              val_mse=[0.4, 0.2])
    figs["loss, empty"] = loss_figure([], [], total_epochs=10)
    figs["loss, linear"] = loss_figure([0.4, 0.1], [0.5, 0.2], log_y=False)
    figs["reconstructions"] = reconstruction_figure(x, x + 0.1, title="after epoch 3")
    figs["reconstructions, 3 features"] = reconstruction_figure(
        RNG.normal(size=(2, 30, 3)), RNG.normal(size=(2, 30, 3)))
    figs["reconstructions, none yet"] = reconstruction_figure(x, None, title="no recon")
    figs["heatmap"] = states_heatmap(RNG.normal(size=(30, 8)), "encoder: values", step=5)
    runs = _runs()
    figs["compare by epoch"] = mse_curves(runs, "epoch", 0.3, 5)
    figs["compare by seconds"] = mse_curves(runs, "seconds", 0.3, 5)
    figs["compare, empty"] = mse_curves([], "epoch", None, 5)
    figs["compare grid"] = reconstruction_grid(x[:3], [(a, a, x[:3] * 0.9, 3) for a in ARCHS])
    points = RNG.normal(size=(20, 2))
    path = np.linspace(points[0], points[1], 5)
    figs["latent scatter"] = code_scatter(points, RNG.uniform(1, 3, 20), "frequency", False,
                                          ["s"] * 20, (0.6, 0.3), (0, 1), path, path[2])
    figs["latent morph"] = morph_figure(np.linspace(0, 1, 5), RNG.normal(size=(5, 30, 1)),
                                        x[0], x[1], 2, [1.0, None, 1.5, 2.0, 2.5])
    figs["latent frequencies"] = frequency_path_figure(np.linspace(0, 1, 5),
                                                       [1.0, 1.2, 1.5, 2.0, 2.5], 1.0, 2.5, 2)
    figs["latent series"] = latent_series(x[:2], x[:2] * 0.8, [4, 9])
    steps = np.arange(60)
    mask = (steps >= 20) & (steps < 30)
    scores = RNG.uniform(0.1, 1, 60) + 5 * mask
    figs["anomaly series"] = anomaly_figures.series_figure(
        steps, RNG.normal(size=(60, 1)), RNG.normal(size=(60, 1)), mask, "Input", "injected")
    figs["anomaly score"] = anomaly_figures.score_figure(steps, scores, mask, 2.0, "injected")
    series_scores, labels = RNG.uniform(size=40), np.arange(40) % 2 == 0
    chosen = evaluate(series_scores, labels, 0.5)
    figs["anomaly pr"] = anomaly_figures.pr_figure(pr_curve(series_scores, labels), chosen,
                                                   best_threshold(series_scores, labels),
                                                   "series")
    return figs


FIGURES = every_figure()
SPAN = re.compile(r"<span style='color:\s*([^;']+)[^']*'>(.*?)</span>")
SWATCH = re.compile(r"^[█■●◆▲◀□\s]+$")  # a legend's colour sample: a graphic, not text


def _named(colour: str) -> str:
    return {"white": "#ffffff"}.get(colour, colour)


def _grey_cells_sample(where: str, colour: str) -> bool:
    """The flow chart's legend sample of its grey cells: a step not handed on is told by the
    missing marker (and the words beside the sample), so its light fill is not the cue and
    needs no 3:1."""
    return colour == NOT_SENT and "██" in where


def _text_colours(spec: dict, path: str = "") -> list[tuple[str, str, float]]:
    """(where, colour, the contrast it needs) for every text colour named in a figure."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            where = f"{path}.{key}"
            if where == ".layout.template":
                # Plotly's default template (Streamlit makes its own the default once a chart
                # is drawn in the process): text the figure leaves without a colour of its own,
                # which the checks below rule out for every text a figure shows.
                continue
            if key in ("font", "tickfont", "textfont") and isinstance(value, dict) \
                    and value.get("color"):
                found.append((where, value["color"], MIN_TEXT_CONTRAST))
            if key == "text" and isinstance(value, str):
                for colour, words in SPAN.findall(value):
                    needs = 3.0 if SWATCH.match(words) else MIN_TEXT_CONTRAST
                    found.append((f"{where} {words!r}", colour, needs))
            found += _text_colours(value, where)
    elif isinstance(spec, list):
        for i, value in enumerate(spec):
            found += _text_colours(value, f"{path}[{i}]")
    return found


@pytest.mark.parametrize("name", FIGURES)
def test_every_text_colour_reads_at_4_5_to_1_on_the_background(name: str) -> None:
    fig = FIGURES[name]
    spec = fig.to_dict()
    layout = spec["layout"]
    backgrounds = {_named(layout.get(key, BACKGROUND)) for key in ("paper_bgcolor",
                                                                   "plot_bgcolor")}
    axes = [axis for key, axis in layout.items() if re.fullmatch(r"[xy]axis\d*", key)]
    if layout.get("showlegend") is not False or any(a.get("visible", True) for a in axes):
        # text that takes the figure's font colour: axes, legend, bar labels
        assert layout.get("font", {}).get("color"), f"{name}: no text colour of its own"
    colours = _text_colours(spec)
    assert colours
    low = [(where, colour, round(contrast_ratio(colour, bg), 2)) for where, colour, needs
           in colours for bg in backgrounds
           if contrast_ratio(colour, bg) < needs and not _grey_cells_sample(where, colour)]
    assert not low, f"{name}: text below the contrast it needs: {low}"
    # Streamlit's chart theme greys every axis text the figure leaves without a colour.
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key) and axis.get("visible", True):
            assert axis.get("tickfont", {}).get("color"), f"{name}: {key} tick labels"
            if axis.get("title", {}).get("text"):
                assert axis["title"].get("font", {}).get("color"), f"{name}: {key} title"
    for annotation in layout.get("annotations", []):
        if annotation.get("text"):  # an arrow alone has no text
                assert annotation.get("font", {}).get("color"), f"{name}: {annotation['text']}"


def test_the_contrast_ratio_is_wcag_s() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff") == pytest.approx(1.0)
    # The theme's grey that the issue measured, and the W3C's 4.5:1 boundary grey.
    assert contrast_ratio("rgb(128, 132, 149)") == pytest.approx(3.72, abs=0.01)
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("tr", TRACES, ids=lambda tr: tr.spec.arch)
def test_flow_chart_marks_each_kind_of_hand_off_with_its_own_marker(tr) -> None:
    fig = flow_figure(tr, step=2)
    heat = fig.data[0]
    steps = tr.spec.seq_len
    markers = {(x, y): t.marker.symbol for t in fig.data[1:] for x, y in zip(t.x, t.y,
                                                                             strict=True)}
    for row, rec in zip(heat.z, tr.layers, strict=True):
        for t in range(steps):
            sent = sent_at(rec.passes, t, steps)
            assert (row[t] == len(HANDS_ON)) == (not sent), (rec.name, t)  # the grey code
            assert ((t + 1, rec.name) in markers) == sent, (rec.name, t)
            if sent:
                assert markers[(t + 1, rec.name)] == FLOW_MARKERS[rec.passes][0]
    # Kinds never share a marker but the three "state only" ones, which share a colour too
    # (test_every_kind_of_hand_on_has_its_own_marker).
    legend = [a.text for a in fig.layout.annotations if "██" in (a.text or "")]
    for key in dict.fromkeys(r.passes for r in tr.layers):
        assert any(FLOW_MARKERS[key][1] in text and HANDS_ON[key] in text for text in legend)


# ---------------------------------------------------------------------------------------------
# The sentences, checked against the figures' own data


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d[\d.,e+-]*", text)


def test_loss_text_reads_the_curves_first_and_last_values() -> None:
    fig = FIGURES["loss"]
    train, val = fig.data[0].y, fig.data[1].y
    text = chart_text.loss_text(fig)
    assert text == (f"Training MSE fell from {chart_text.number(train[0])} to "
                    f"{chart_text.number(train[-1])} over {len(train)} epochs; validation MSE "
                    f"ends at {chart_text.number(val[-1])}.")
    rising = loss_figure([0.1, 0.3], [0.2, 0.4])
    assert "rose from 0.1 to 0.3 over 2 epochs" in chart_text.loss_text(rising)
    ce = chart_text.loss_text(FIGURES["loss, cross-entropy"])
    assert "Training cross-entropy fell from 3 to 2" in ce
    assert "validation MSE (right axis) ends at 0.2" in ce
    assert "empty until the first epoch" in chart_text.loss_text(FIGURES["loss, empty"])


def test_reconstruction_text_gives_the_mse_between_each_drawn_pair() -> None:
    fig = FIGURES["reconstructions, 3 features"]
    inputs = [t for t in fig.data if t.name.endswith("input")]
    recons = [t for t in fig.data if t.name.endswith("reconstruction")]
    errors = [float(np.mean((np.asarray(a.y) - np.asarray(b.y)) ** 2))
              for a, b in zip(inputs, recons, strict=True)]
    text = chart_text.reconstruction_text(fig)
    assert text.startswith("2 series of 30 steps each, 3 features each")
    assert (f"{chart_text.number(min(errors))} to {chart_text.number(max(errors))} "
            f"(mean {chart_text.number(float(np.mean(errors)))})") in text
    assert "no reconstruction yet" in chart_text.reconstruction_text(
        FIGURES["reconstructions, none yet"])
    assert chart_text.reconstruction_text(FIGURES["latent series"]).startswith("2 series")


def test_grid_text_names_each_models_mse_from_the_grid() -> None:
    fig = FIGURES["compare grid"]
    text = chart_text.grid_text(fig)
    assert text.startswith("The same 3 validation series")
    for arch in ARCHS:
        pairs = [(t, next(i for i in fig.data if i.name == "input" and i.xaxis == t.xaxis))
                 for t in fig.data if t.name == arch]
        mse = np.mean([np.mean((np.asarray(t.y) - np.asarray(i.y)) ** 2) for t, i in pairs])
        assert f"{arch} {chart_text.number(float(mse))}" in text


def test_heatmap_text_reads_the_values_and_the_marked_step() -> None:
    fig = FIGURES["heatmap"]
    z = np.asarray(fig.data[0].z)
    text = chart_text.heatmap_text(fig)
    assert f"{z.shape[0]} units over {z.shape[1]} time steps" in text
    assert chart_text.number(float(z.min())) in text and chart_text.number(float(z.max())) in text
    unit = int(np.argmax(np.abs(z[:, 4])))
    assert f"at step 5 (the line) unit {unit} is largest" in text


@pytest.mark.parametrize("tr", TRACES, ids=lambda tr: tr.spec.arch)
def test_flow_architecture_and_bottleneck_texts_follow_their_figures(tr) -> None:
    flow = flow_figure(tr)
    text = chart_text.flow_text(tr)
    for rec, marked in zip(tr.layers, _marked_per_row(flow, tr), strict=True):
        which = (f"all {tr.spec.seq_len} steps" if marked == tr.spec.seq_len else
                 f"step {tr.spec.seq_len} only" if marked == 1 else f"{marked} steps")
        assert f"{rec.name} hands on {which}" in text
    bars = bottleneck_figure(tr).data[0]
    text = chart_text.bottleneck_text(tr)
    names = [n.removesuffix(CODE_MARK) for n in bars.y]  # horizontal bars: a layer per row
    values = bars.x
    low = int(np.argmin(values))
    assert f"fewest at {names[low]} ({values[low]})" in text
    arch = chart_text.architecture_text(tr)
    assert " → ".join(names) in arch
    assert ("no bottleneck" in arch) == (not tr.has_bottleneck)


def _marked_per_row(fig: go.Figure, tr) -> list[int]:
    return [sum(1 for t in fig.data[1:] for y in t.y if y == rec.name) for rec in tr.layers]


def test_lines_text_reads_each_named_trace() -> None:
    fig = FIGURES["compare by epoch"]
    text = chart_text.lines_text(fig, "Validation MSE by epoch")
    for t in fig.data:
        assert f"{t.name} from {chart_text.number(t.y[0])} to {chart_text.number(t.y[-1])}" \
            in text
    assert "nothing drawn yet" in chart_text.lines_text(FIGURES["compare, empty"], "MSE")
    pr = chart_text.lines_text(FIGURES["anomaly pr"], "PR")
    assert "your τ = 0.5 at" in pr


def test_score_text_counts_the_flagged_steps() -> None:
    steps = np.arange(10)
    scores = np.array([1, 1, 5, 5, 1, 1, 1, 3, 1, 1], dtype=float)
    mask = (steps >= 2) & (steps < 5)
    text = chart_text.score_text(scores, mask, 2.0, "injected")
    assert "3 steps flagged, 2 of them in the 3-step injected window" in text


def test_scatter_text_places_a_and_b() -> None:
    points = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.0]])
    text = chart_text.scatter_text(points, (0.7, 0.2), "frequency", np.array([1, 2, 3.0]),
                                   (0, 1))
    assert "3 codes" in text and "70% and 20%" in text
    assert "A is series 1 at (1, 2), B series 2 at (3, -1)" in text


def _look_without_colour(t) -> tuple:
    """How a legend entry looks in grey: its mode, dash, line width, marker symbol, and the
    text it writes on the chart (the latent scatter's "A" and "B")."""
    line = getattr(t, "line", None)
    marker = getattr(t, "marker", None)
    text = getattr(t, "text", None)
    return (t.type, getattr(t, "mode", None), line.dash if line else None,
            line.width if line else None, marker.symbol if marker else None,
            text if isinstance(text, str) or text is None else tuple(text))


# Reconstructions with several features: feature k's input and reconstruction are told apart
# by dash, the features from each other by an Okabe-Ito colour and the legend's name (a fourth
# cue per feature would clutter four small panels).
FEATURES_BY_COLOUR = ("reconstructions, 3 features",)


@pytest.mark.parametrize("name", [n for n in FIGURES if n not in FEATURES_BY_COLOUR])
def test_no_two_legend_entries_differ_by_colour_alone(name: str) -> None:
    fig = FIGURES[name]
    shown = {}
    for t in fig.data:
        if t.name and t.showlegend is not False and (t.type != "scatter" or t.mode):
            shown.setdefault(t.name, _look_without_colour(t))
    looks = list(shown.values())
    same = [(a, b) for i, a in enumerate(shown) for b in list(shown)[i + 1:]
            if shown[a] == shown[b]]
    assert not same, f"{name}: told apart only by colour: {same} ({looks})"


def test_the_bottleneck_bar_of_the_code_is_named() -> None:
    for tr in TRACES:
        bars = bottleneck_figure(tr).data[0]
        assert [y.removesuffix(CODE_MARK) for y in bars.y if y.endswith(CODE_MARK)] == [
            tr.latent]


def test_every_kind_of_hand_on_has_its_own_marker() -> None:
    """The flow chart's legend tells each kind of hand-on by its marker, whatever its colour
    (two kinds share the sequence colour: every step's output, and the last step's only)."""
    from lstmae_demo.plots import FLOW_MARKERS
    symbols = [symbol for symbol, _ in FLOW_MARKERS.values()]
    shared = {s for s in symbols if symbols.count(s) > 1}
    kinds = {k for k, (s, _) in FLOW_MARKERS.items() if s in shared}
    # Only the three "state only" kinds share a marker (and a colour): the state is one
    # thing handed over, whether (h, c) or h alone.
    assert kinds <= {"h_n", "state", "h_state"}, kinds
