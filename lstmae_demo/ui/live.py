"""The live part of the Train page: progress, loss curves, reconstructions, summary, downloads.

Drawn by a fragment that reruns on its own every POLL_SECONDS while the run trains, so the
rest of the page stays usable; once the run is done the whole page reruns once and polling
stops.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import streamlit as st
import torch

from ..archs import get_arch
from ..config import AppConfig
from ..jobs import JobView
from ..plots import loss_figure, reconstruction_figure
from ..shapes.trace import trace
from .cache import sine_data
from .sidebar import current
from .training import Run, current_run

# Once a second: the first point comes with the Train click's own rerun (training.py waits
# for the first epoch), so polling faster only costs the server and the learner's browser
# (bench/RESULTS.md, section 4).
POLL_SECONDS = 1.0
# A training loss this many times above the first epoch's has exploded, even if it is finite
# and the run completed (a ReLU LSTM can reach 1e10 and end predicting the mean).
EXPLODED = 100.0


def _time_left(view: JobView) -> str:
    if view.last_epoch is None or view.epoch == 0:
        return "estimating time left…"
    per_epoch = view.last_epoch.elapsed / view.epoch
    return f"about {per_epoch * (view.total_epochs - view.epoch):.0f} s left"


def _progress(view: JobView) -> None:
    if view.status == "queued":
        st.progress(0.0, text=view.summary() + " Other learners' runs go first; yours starts "
                    "by itself.")
    elif view.status == "running":
        st.progress(view.epoch / view.total_epochs,
                    text=f"epoch {view.epoch} of {view.total_epochs} — {_time_left(view)}")


def trouble(view: JobView) -> str | None:
    """What went wrong with the losses of this run, in words, or None if nothing did."""
    f = view.finished
    if f is not None and f.reason == "diverged":
        return "The loss diverged."
    losses = list(view.train_losses) + list(view.val_losses)
    if any(not math.isfinite(v) for v in losses):
        return "The loss became infinite or not a number."
    if view.train_losses:
        first, peak = view.train_losses[0], max(view.train_losses)
        if first > 0 and peak > EXPLODED * first:
            epoch = view.train_losses.index(peak) + 1
            return (f"The loss exploded: {peak:.3g} in epoch {epoch}, more than {EXPLODED:g} "
                    f"times the first epoch's {first:.3g}. Whatever it ended at, this run did "
                    "not learn steadily: try a lower learning rate or tanh instead of relu.")
    return None


def _losses_csv(view: JobView) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["epoch", "train_loss", "val_loss", "val_mse"])
    for i, row in enumerate(zip(view.train_losses, view.val_losses, view.val_mses,
                                strict=False), start=1):
        writer.writerow([i, *row])
    return out.getvalue().encode()


def _weights(run: Run) -> bytes:
    buffer = io.BytesIO()
    torch.save(run.job.state_dict(), buffer)
    return buffer.getvalue()


def _summary(run: Run, view: JobView) -> None:
    """Final numbers and downloads of a finished run."""
    f = view.finished
    if view.error:
        st.error("Training stopped with an error:")
        st.code(view.error, language="text", wrap_lines=True)  # an exception's own text
        return
    problem = trouble(view)
    if problem:
        st.error(problem + (f" {f.message}" if f.message else ""))  # the trainer's own words
    elif f.reason == "cancelled":
        st.info(f"Stopped after {f.epochs} epoch(s); the curves so far are kept.")
    else:
        st.success(f"Done: {f.epochs} epochs in {f.seconds:.1f} s.")
    loss_name = get_arch(run.spec.arch).model.loss_name
    a, b, c, d = st.columns(4)
    a.metric(f"final train loss ({loss_name})", f"{f.train_loss:.4g}")
    b.metric("final validation MSE", f"{f.val_mse:.4g}",
             help="mean squared error of the reconstruction, in the data's units: the same "
                  "measure for every architecture")
    c.metric("time", f"{f.seconds:.1f} s")
    d.metric("parameters", f"{view.started.params_torch:,}" if view.started else "—")
    settings = {"spec": run.spec.to_dict(), "settings": dict(run.values)}
    x, y, z = st.columns(3)
    x.download_button("Losses (CSV)", _losses_csv(view), "losses.csv", "text/csv",
                      key="dl_losses", width="stretch")
    y.download_button("Weights (state_dict)", _weights(run), f"{run.spec.arch}.pt",
                      "application/octet-stream", key="dl_weights",
                      width="stretch", disabled=view.epoch == 0)
    z.download_button("Spec (JSON)", json.dumps(settings, indent=2, default=str),
                      "spec.json", "application/json", key="dl_spec",
                      width="stretch")


def reading_notes(config: AppConfig) -> list[str]:
    """What a learner must know to read this model's curves (Markdown, our own words)."""
    spec = config.spec
    notes = []
    loss_name = get_arch(spec.arch).model.loss_name
    if loss_name != "MSE":
        notes.append(f"This model is trained on **{loss_name}** over the {spec.bins} bins (the "
                     "left axis), not on the MSE of the values; the dashed green curve (right "
                     "axis) is its validation MSE in the data's units, the measure every "
                     "architecture shares.")
    if not trace(spec, 1).has_bottleneck:
        notes.append("**A low validation MSE does not prove this model learned anything:** it "
                     "has no bottleneck, so it can copy its input to its output (the copying "
                     "trap). Compare it with a model that has one before trusting the number.")
    if spec.arch == "encdec_ad" and spec.decoder == "conditional":
        notes.append("**Why the validation loss sits above the training loss:** while "
                     "training, this conditional decoder is fed the true previous values "
                     "(teacher forcing); on the validation series it is fed its own "
                     "predictions (free-running), so its errors add up over the steps. The "
                     "gap comes from that difference; by itself it does not mean "
                     "overfitting.")
    return notes


def _charts(view: JobView | None, config: AppConfig, total_epochs: int) -> None:
    """The loss curves and the four validation series with their reconstructions.

    Drawn before the first run too (empty curves, the series alone), so the browser has
    loaded its charting code before Train is pressed and the first point shows at once.
    """
    log_y = st.toggle("Log scale", value=True, key="loss_log")
    train, val, mses = ((view.train_losses, view.val_losses, view.val_mses) if view
                        else ((), (), ()))
    loss_name = get_arch(config.spec.arch).model.loss_name
    st.plotly_chart(loss_figure(train, val, log_y, total_epochs, loss_name, mses),
                    width="stretch", key="loss_chart")
    for note in reading_notes(config):
        st.caption(note)
    originals = sine_data(config.sine).val[: 4]
    recon = None if view is None or view.reconstructions is None else np.asarray(
        view.reconstructions)
    title = (f"Reconstructions after epoch {view.reconstructions_epoch}" if recon is not None
             else "Validation series (no reconstruction yet)")
    st.plotly_chart(reconstruction_figure(originals[: len(recon) if recon is not None else 4],
                                          recon, title=title),
                    width="stretch", key="recon_chart", config={"displayModeBar": False})


def _same_settings(a: AppConfig, b: AppConfig) -> bool:
    """Whether two configurations train the same run (the shapes' batch aside)."""
    return {**a.values, "batch": 0} == {**b.values, "batch": 0}


def _panel_body() -> None:
    # The top slot holds whatever the state needs (a hint, the progress bar, a note), so the
    # charts below keep their places from one run of the panel to the next. (While the page
    # reruns after a run has ended, Streamlit still shows the previous chart, stale, for a
    # few frames beside the new one: tests/browser judge the page once it has settled.)
    status = st.container()
    run = current_run()
    config = current()
    if run is None:
        status.info("Press **Train** to start. The loss curves and the reconstructions of four "
                    "validation series appear here and update while the model learns.")
        _charts(None, config, config.train.epochs)
        return
    view = run.job.snapshot()
    with status:
        _progress(view)
        if view.done and not _same_settings(run.config, config):
            st.caption(f"These curves are from your last run (`{run.spec.arch}`, other "
                       "settings than the sidebar's now). Press Train to train the current "
                       "settings.")
    _charts(view, run.config, view.total_epochs)
    if view.done:
        _summary(run, view)
    if view.done and st.session_state.get("_was_running"):
        st.session_state["_was_running"] = False
        st.rerun(scope="app")  # once: redraw the buttons, and stop polling
    st.session_state["_was_running"] = not view.done


def training_panel() -> None:
    """Draw the run's state; poll while it trains."""
    run = current_run()
    polling = run is not None and not run.job.snapshot().done
    st.fragment(run_every=POLL_SECONDS if polling else None)(_panel_body)()
