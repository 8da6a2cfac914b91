"""Architecture: every layer's tensor shape, the bottleneck, the code, and what goes wrong."""

import streamlit as st

from lstmae_demo.archs import get_arch
from lstmae_demo.shapes.trace import trace
from lstmae_demo.ui import views
from lstmae_demo.ui.sidebar import current, show_url_notes

show_url_notes()
config = current()
spec = config.spec
tr = trace(spec, config.batch)

st.title(f"`{spec.arch}` — {get_arch(spec.arch).title}")
st.caption(f"Source: {get_arch(spec.arch).source}. Change the model in the sidebar; "
           "nothing here trains, every number comes from the shape tracer.")
views.summary_metrics(tr)
views.diagram(tr)
for note in tr.notes:
    st.info(note)

st.header("Layer by layer")
views.layer_table(tr)

st.header("Bottleneck meter")
views.bottleneck_meter(tr)

st.header("What goes wrong")
st.caption("Each mistake below is run for real when you open this page; the message is the "
           "framework's own.")
views.pitfall_section(spec.arch)

st.header("The code of exactly this model")
views.code_tabs(spec)
