"""bench.wsclient reads the Train page's charts as Streamlit sends them: the loss chart's
points from the JSON st.plotly_chart puts in its message (plotly.io.to_json: plain lists, or
base64 typed arrays), and nothing from any other chart."""

import base64
import json

import numpy as np
import plotly.io

from bench.wsclient import loss_points
from lstmae_demo.plots import loss_figure, reconstruction_figure


def spec(fig) -> str:
    return plotly.io.to_json(fig, validate=False)  # what st.plotly_chart sends


def test_loss_points_counts_the_longest_curve() -> None:
    assert loss_points(spec(loss_figure([], [], True, 20, "MSE", []))) == 0
    assert loss_points(spec(loss_figure([0.5, 0.4, 0.3], [0.6, 0.5], True, 20, "MSE",
                                        []))) == 3
    # A model trained on cross-entropy: its axis is named after that loss.
    ce = loss_figure([2.0, 1.5], [2.1, 1.6], False, 5, "cross-entropy", [0.3, 0.2])
    assert loss_points(spec(ce)) == 2


def test_loss_points_reads_typed_arrays() -> None:
    """Plotly's typed-array form ({"dtype", "bdata": base64}), which plotly.py may write for
    numpy arrays instead of lists."""
    fig = json.loads(spec(loss_figure([0.5, 0.4, 0.3, 0.2], [0.6, 0.5], True, 20, "MSE", [])))
    y = np.array([0.5, 0.4, 0.3, 0.2])
    fig["data"][0]["y"] = {"dtype": "f8", "bdata": base64.b64encode(y.tobytes()).decode()}
    fig["data"][1]["y"] = {"dtype": "f4", "bdata": base64.b64encode(
        y[:2].astype(np.float32).tobytes()).decode()}
    assert loss_points(json.dumps(fig)) == 4


def test_other_charts_are_not_loss_charts() -> None:
    originals = np.zeros((4, 50, 1), dtype=np.float32)
    assert loss_points(spec(reconstruction_figure(originals, originals))) is None
