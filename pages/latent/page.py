"""Latent space: a trained model's codes of the validation series in 2-D, coloured by what
generated each series, and decoded along the line between two of them."""

import numpy as np
import streamlit as st

from lstmae_demo import chart_text, latent
from lstmae_demo.data import SineConfig
from lstmae_demo.latent_plots import (
    code_scatter,
    frequency_path_figure,
    morph_figure,
    series_figure,
)
from lstmae_demo.ui import views
from lstmae_demo.ui.cache import sine_data
from lstmae_demo.ui.charts import chart
from lstmae_demo.ui.latent import (
    A_KEY,
    B_KEY,
    MAX_SELECTED,
    SCATTER_KEY,
    ends_from_selection,
    latent_view,
    selected_series,
    train_here,
)
from lstmae_demo.ui.sidebar import current, show_url_notes
from lstmae_demo.ui.training import current_run, trained_model

MORPH_STEPS = 11  # decoded points on the line from A to B, ends included (0, 0.1, ..., 1)

show_url_notes()
config = current()
spec = config.spec
st.title("Latent space")
st.caption("What a trained model's encoder makes of each validation series: its code, seen in "
           "2-D and coloured by the frequency or phase that generated the series; then codes "
           "between two series, decoded. Every number here comes from the trained model.")
views.data_or_stop(config)
layout = latent.code_layout(spec)
model = trained_model(spec)
run = current_run()
if model is None or run is None or not isinstance(run.job.job.data, SineConfig):
    st.markdown(latent.code_explanation(spec, layout))
    train_here(config)
    st.stop()

data_config = run.job.job.data
data = sine_data(data_config)
view = latent_view(run.run_id, data_config, model)
epochs = run.job.snapshot().epoch
n = len(view.codes)
if run.config.values != config.values:
    st.caption("This model was trained with other data or training settings than the "
               "sidebar's now; its own validation series are used here.")

a, b, c, d = st.columns(4)
a.metric("validation series", f"{n}")
b.metric("numbers in each code", f"{layout.size:,}", help=layout.describe())
c.metric("variance on the two axes", f"{100 * view.projection.share:.1f}%",
         help=f"axis 1 holds {100 * view.projection.shares[0]:.1f}% of the codes' total "
              f"variance, axis 2 {100 * view.projection.shares[1]:.1f}% (PCA)")
d.metric("validation MSE", f"{view.recon_mse:.3g}", help=f"after {epochs} epochs")
explanation = latent.code_explanation(spec, layout)
if layout.fixed_size:
    st.caption(explanation)
else:
    st.info(explanation)
for tone, text in latent.findings(view, epochs):
    {"good": st.success, "caution": st.warning}.get(tone, st.info)(text)

st.header("The codes in 2-D, and between two of them")
shown = [p for p in view.parameters if p.varies] or list(view.parameters[:1])
freq = view.parameter("freq").values
# The slowest and the fastest series; if every series has one frequency, the first two.
default_ends = ((int(np.argmin(freq)), int(np.argmax(freq))) if np.ptp(freq) > 0
                else (0, min(1, n - 1)))
selected = selected_series(n)
ends_from_selection(selected, default_ends)
label = [f"{i + 1} · {freq[i]:.2f} cycles" for i in range(n)]
pick_colour, pick_a, pick_b = st.columns([5, 2, 2])
colour_key = pick_colour.radio("Colour by", [p.key for p in shown], horizontal=True,
                               key="latent_colour",
                               format_func=lambda key: view.parameter(key).label)
colour = view.parameter(colour_key or shown[0].key)
series_a = pick_a.selectbox("Series A", range(n), key=A_KEY, format_func=label.__getitem__)
series_b = pick_b.selectbox("Series B", range(n), key=B_KEY, format_func=label.__getitem__)
position = st.slider("Position on the line from A's code (0) to B's (1)", 0.0, 1.0, 0.5, 0.1,
                     key="latent_position")
current_step = int(round(position * (MORPH_STEPS - 1)))
positions, path_codes, decoded = latent.morph(model, view.codes[series_a],
                                              view.codes[series_b], MORPH_STEPS)
path = view.projection.project(path_codes)
frequencies = [latent.fitted_frequency(series) for series in decoded]

scatter_side, morph_side = st.columns(2)
hover = [f"series {i + 1}<br>frequency {freq[i]:.2f} cycles<br>"
         f"{colour.label} {colour.values[i]:.2f} {colour.unit}".rstrip() for i in range(n)]
chart(code_scatter(view.projection.points, colour.values, colour.label,
                   colour.period is not None, hover, view.projection.shares,
                   (series_a, series_b), path, path[current_step]),
      chart_text.scatter_text(view.projection.points, view.projection.shares, colour.label,
                              colour.values, (series_a, series_b)),
      where=scatter_side, key=SCATTER_KEY, on_select="rerun",
      selection_mode=("points", "box", "lasso"), width="stretch")
scatter_side.caption("Each dot is one validation series' code, seen along the two directions "
                     "in which the codes differ most. Click a dot to make it A, shift-click a "
                     "second one for B, or draw a box around several to see them below. The "
                     "dotted line is the straight line between A's and B's codes, the star the "
                     "point the slider decodes.")
same = [p for p in view.parameters if not p.varies]
if same:  # the app's sines share one amplitude
    scatter_side.caption(" ".join(f"Not offered as a colour: the {p.label}, the same "
                                  f"({p.values[0]:g}) for every series here." for p in same))
morph = morph_figure(positions, decoded, data.val[series_a], data.val[series_b], current_step,
                     frequencies)
chart(morph, chart_text.lines_text(morph, "Series decoded between A's and B's codes"),
      where=morph_side, width="stretch", key="latent_morph", config={"displayModeBar": False})
morph_side.caption(f"Each faint line is the decoder's output for one of {MORPH_STEPS} points "
                   "on the line between the two codes, from A's (blue) to B's (red); the bold "
                   "one is at the slider's position. The two input series are dotted (A) and "
                   "dashed (B).")
fitted_a, fitted_b = (latent.fitted_frequency(data.val[i]) for i in (series_a, series_b))
if series_a == series_b:
    morph_side.info("A and B are the same series, so the line between their codes is one "
                    "point. Pick two different series.")
elif fitted_a is not None and fitted_b is not None:
    morph_side.info(latent.frequency_path_finding(frequencies, fitted_a, fitted_b))
    path_fig = frequency_path_figure(positions, frequencies, fitted_a, fitted_b, current_step)
    chart(path_fig, chart_text.lines_text(path_fig, "Fitted frequency along the line from A "
                                          "to B, in cycles per window"),
          where=morph_side, width="stretch", key="latent_freq_path",
          config={"displayModeBar": False})
    morph_side.caption("Frequencies are fitted to the series (the best least-squares sine), "
                       "the inputs' as well as the decoded ones, so both are measured alike.")

picked = selected[:MAX_SELECTED] or [series_a, series_b]
st.subheader("The selected series" if selected else "Series A and B")
selected_fig = series_figure(data.val[picked], view.reconstructions[picked], picked)
chart(selected_fig, chart_text.reconstruction_text(selected_fig), width="stretch",
      key="latent_selected", config={"displayModeBar": False})
if len(selected) > MAX_SELECTED:
    st.caption(f"The first {MAX_SELECTED} of the {len(selected)} selected series.")
