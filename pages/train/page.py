"""Train: train the chosen model live on the chosen data; losses and reconstructions as it
learns."""

import streamlit as st

from lstmae_demo.config import training_budget
from lstmae_demo.shapes.trace import trace
from lstmae_demo.training import DECAY_FROM, FINAL_LR
from lstmae_demo.ui import live, uploads, views
from lstmae_demo.ui.sidebar import current, show_url_notes
from lstmae_demo.ui.training import (
    STOPPED_NOTE_KEY,
    current_run,
    fallback_note,
    start_run,
    stop_run,
)

show_url_notes()
config = current()
spec, train_cfg = config.spec, config.train
tr = trace(spec, train_cfg.batch_size)

st.title(f"Train `{spec.arch}`", anchor=False)  # no heading link: Train is the next Tab stop
uploads.weights_notes()
data = views.data_or_stop(config)
st.markdown(
    f"**{tr.params_torch:,} parameters** on {views.data_sentence(config, data)}; "
    f"**{train_cfg.epochs} epochs**, batch {train_cfg.batch_size}, Adam lr {train_cfg.lr:g} "
    f"(held for the first {DECAY_FROM:.0%} of the steps, then lowered to {FINAL_LR:.0%} of "
    f"it), gradient clipping at {train_cfg.clip_norm:g}. Change any of these in the sidebar."
)
views.data_details(config, data)
for note in config.data_notes if config.source == "sine" else ():
    st.info(note)
if cluster := fallback_note():  # LSTMAE_DASK_SCHEDULER set, its cluster unreachable
    with st.container(border=True):
        st.warning("Training runs on this server, not on the training cluster:")
        st.text(cluster)  # it quotes a framework's error: text, never Markdown
too_big = training_budget(config, tr.params_torch)
run = current_run()
if run is None or not (run.watching and run.attached):  # watching: no Train, no Stop
    running = run is not None and run.attached and not run.job.snapshot().done
    left, right, _ = st.columns([1, 1, 4])
    left.button("Train", type="primary", disabled=too_big is not None, width="stretch",
                on_click=start_run, args=(config,), key="train_button")
    right.button("Stop", disabled=not running, width="stretch", on_click=stop_run,
                 key="stop_button")
if too_big:
    st.error(too_big)
if note := st.session_state.get(STOPPED_NOTE_KEY):
    st.info(note)

live.training_panel()
uploads.weights_upload(config, can_train=too_big is None)
