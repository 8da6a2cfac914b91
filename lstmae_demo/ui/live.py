"""The live part of the Train page: progress, loss curves, reconstructions, summary, downloads.

Drawn by a fragment that reruns on its own every POLL_SECONDS while the job trains, so the
rest of the page stays usable; once the job is done the whole page reruns once and polling
stops.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import streamlit as st
import torch

from ..config import AppConfig
from ..jobs import JobView
from ..plots import loss_figure, reconstruction_figure
from .cache import sine_data
from .sidebar import current
from .training import Run, current_run

# Once a second: the first point comes with the Train click's own rerun (training.py waits
# for the first epoch), so polling faster only costs the server and the learner's browser
# (bench/RESULTS.md, section 4).
POLL_SECONDS = 1.0


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
        st.error(view.error)
        return
    if f.reason == "diverged":
        st.error(f"The loss diverged. {f.message}")
    elif f.reason == "cancelled":
        st.info(f"Stopped after {f.epochs} epoch(s); the curves so far are kept.")
    else:
        st.success(f"Done: {f.epochs} epochs in {f.seconds:.1f} s.")
    a, b, c, d = st.columns(4)
    a.metric("final train loss", f"{f.train_loss:.4g}")
    b.metric("final validation MSE", f"{f.val_mse:.4g}")
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


def _charts(view: JobView | None, config_sine, total_epochs: int) -> None:
    """The loss curves and the four validation series with their reconstructions.

    Drawn before the first run too (empty curves, the series alone), so the browser has
    loaded its charting code before Train is pressed and the first point shows at once.
    """
    log_y = st.toggle("Log scale", value=True, key="loss_log")
    train, val = (view.train_losses, view.val_losses) if view else ((), ())
    st.plotly_chart(loss_figure(train, val, log_y, total_epochs), width="stretch",
                    key="loss_chart")
    originals = sine_data(config_sine).val[: 4]
    recon = None if view is None or view.reconstructions is None else np.asarray(
        view.reconstructions)
    title = (f"Reconstructions after epoch {view.reconstructions_epoch}" if recon is not None
             else "Validation series (no reconstruction yet)")
    st.plotly_chart(reconstruction_figure(originals[: len(recon) if recon is not None else 4],
                                          recon, title=title),
                    width="stretch", key="recon_chart")


def _panel_body() -> None:
    # The top slot holds whatever the state needs (a hint, the progress bar, a note), so the
    # charts below keep their places from one run of the panel to the next. (While the page
    # reruns after a run has ended, Streamlit still shows the previous chart, stale, for a
    # few frames beside the new one: tests/browser judge the page once it has settled.)
    status = st.container()
    run = current_run()
    if run is None:
        status.info("Press **Train** to start. The loss curves and the reconstructions of four "
                    "validation series appear here and update while the model learns.")
        config = current()
        _charts(None, config.sine, config.train.epochs)
        return
    view = run.job.snapshot()
    settings = AppConfig(dict(run.values) | {"batch": current().batch})
    with status:
        _progress(view)
        if view.done and settings.values != current().values:
            st.caption(f"These curves are from your last run (`{run.spec.arch}`, other "
                       "settings than the sidebar's now). Press Train to train the current "
                       "settings.")
    _charts(view, settings.sine, view.total_epochs)
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
