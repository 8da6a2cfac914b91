"""Time steps: which outputs each layer produces at step t, and which ones the next one gets."""

import streamlit as st
import torch

from lstmae_demo import chart_text, pagevalues
from lstmae_demo.archs import build_model
from lstmae_demo.plots import flow_figure, reconstruction_figure, states_heatmap
from lstmae_demo.shapes.probe import probe
from lstmae_demo.shapes.timesteps import step_views
from lstmae_demo.shapes.trace import trace
from lstmae_demo.ui import pageurl, uploads, views
from lstmae_demo.ui.charts import chart
from lstmae_demo.ui.sidebar import current, show_url_notes
from lstmae_demo.ui.training import trained_model

show_url_notes()
config = current()
spec = config.spec
st.title("Time steps")
st.caption("Step through one validation series: what every layer computes at step t, and "
           "what the next layer actually receives.")

uploads.weights_notes()
data = views.data_or_stop(config)
trained = trained_model(spec, config.data)  # trained on the data this page shows
# The model, series and step are in the URL too, so a teacher can share "look at step 20"
# (their rules: lstmae_demo/pagevalues.py, which the Lessons' links are checked against).
MODELS = {"untrained": "untrained (random weights)",
          "trained": "trained on the Train page (or loaded)"}
rules = pagevalues.timesteps_rules(spec.seq_len, len(data.val))
defaults = pagevalues.timesteps_defaults(spec.seq_len, trained is not None)
pageurl.from_url("ts_model", rules["ts_model"], defaults["ts_model"], page="timesteps")
if uploads.just_loaded() and trained is not None:  # a model loaded below: show it
    st.session_state["ts_model"] = "trained"
choice = st.radio("Model", pagevalues.TS_MODELS, format_func=MODELS.get, horizontal=True,
                  key="ts_model", help="Train this exact model on the Train page, or load a "
                                       "saved one below, to compare.")
pageurl.to_url("ts_model", choice, defaults["ts_model"])
if choice == "trained" and trained is None:
    st.info("No trained model for these settings yet: train one on the Train page, or load "
            "a saved one (below). Showing random weights.")
model = trained if choice == "trained" and trained is not None else build_model(
    spec, seed=config.values["seed"])
model.eval()

left, right = st.columns([1, 3])
n_series = pagevalues.ts_series_count(len(data.val))
pageurl.from_url("ts_series", rules["ts_series"], defaults["ts_series"], page="timesteps")
st.session_state["ts_series"] = min(st.session_state["ts_series"], n_series)  # after a change
series = left.number_input("Validation series", 1, n_series, key="ts_series",
                           help=f"one of the first {n_series} validation series")
pageurl.to_url("ts_series", series, defaults["ts_series"])
if spec.seq_len > 1:
    pageurl.from_url("ts_step", rules["ts_step"], defaults["ts_step"], page="timesteps")
    st.session_state["ts_step"] = min(st.session_state["ts_step"], spec.seq_len)  # T lowered
    t = right.slider("Time step t", 1, spec.seq_len, key="ts_step")
    pageurl.to_url("ts_step", t, defaults["ts_step"])
else:  # a slider needs two ends
    t = 1
    right.caption("One time step only (T = 1): step 1 is the whole series.")
pageurl.show_notes()
x = torch.from_numpy(data.val[series - 1 : series])  # (1, T, F)

tr = trace(spec, batch=1)
observed = probe(model, tr, x)
with torch.no_grad():
    recon = model.reconstruct(x).numpy()
st.header("What each layer hands on, step by step")
chart(flow_figure(tr, step=t), chart_text.flow_text(tr, step=t), key="ts_flow",
      width="stretch", config={"displayModeBar": False})
st.caption("Each row is coloured and marked (circle, square, ...) by what its layer hands on "
           "to the next one (the legend above the chart); grey cells without a marker are "
           "computed at that step but not handed on.")
figure = reconstruction_figure(x.numpy(), recon, first=series)
figure.add_vline(x=t, line_color="#5f6368", line_dash="dot")
chart(figure, chart_text.reconstruction_text(figure) + f" The dotted line marks step {t}.",
      key="ts_series_plot", width="stretch")

for view in step_views(tr, observed, t - 1):
    with st.container(border=True):
        text, plot = st.columns([1, 2])
        text.subheader(view.name)
        text.markdown(f"**At step {t}:** {view.produces}")
        received = ("receives this step's numbers" if view.sent_at_t
                    else "receives nothing from this step")
        text.markdown(f"**Passes on:** {view.passes_on} — the next layer {received}.")
        if view.over_time is not None and view.over_time.shape[1] > 1:
            heat = states_heatmap(view.over_time, f"{view.name}: values over time", step=t)
            chart(heat, chart_text.heatmap_text(heat), where=plot, width="stretch",
                  key=f"ts_heat_{view.name}")
        elif view.values is not None:
            plot.write(f"value at step {t}: " + ", ".join(f"{v:.3g}" for v in view.values))

uploads.weights_upload(config, offer_continue=False)
