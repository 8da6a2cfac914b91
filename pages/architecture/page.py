"""Architecture: every layer's tensor shape, the bottleneck, the code, and what goes wrong."""

import streamlit as st

from lstmae_demo.archs import get_arch
from lstmae_demo.shapes.explain import verdict
from lstmae_demo.shapes.trace import trace
from lstmae_demo.ui import layout, views
from lstmae_demo.ui.sidebar import current, show_url_notes

show_url_notes()
config = current()
spec = config.spec
tr = trace(spec, config.batch)
entry = get_arch(spec.arch)

st.title(f"`{spec.arch}` — {entry.title}")
choices = views.choice_line(spec)
if layout.presenting():  # a projector's one screen: the choice, then verdict and diagram
    if choices:
        st.caption(f"Your choice: {choices}.")
else:
    st.caption(f"Source: [{entry.source}]({entry.source_url})."
               + (f" Your choice: {choices}." if choices else "")
               + " Change the model in the sidebar. Every shape and count on this page comes "
               "from the shape tracer (checked against real forward passes); this page does "
               "not train your model.")
with st.container(border=True):
    st.markdown(f"**Verdict.** {verdict(tr)}")
views.diagram(tr)  # the verdict and the diagram first: together on a 1280x720 screen
views.summary_metrics(tr)
for note in tr.notes:
    st.info(note)

st.header("Layer by layer")
views.layer_table(tr)
st.subheader("As Keras's model.summary() prints it")
views.keras_summary(tr)

st.header("Bottleneck meter")
views.bottleneck_meter(tr)

st.header("What goes wrong")
st.caption("Each mistake below is run when you open this page (one of them trains a tiny "
           "model for a few Adam steps to show a divergence; the Keras ones were recorded "
           "from real Keras). Each box says whose words it shows: the framework's own "
           "message, or what the app measured.")
views.pitfall_section(spec.arch)

st.header("The code of exactly this model")
views.code_tabs(spec)
