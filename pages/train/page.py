"""Train: train the chosen model live on sine data; losses and reconstructions as it learns."""

import streamlit as st

from lstmae_demo.config import training_budget
from lstmae_demo.shapes.trace import trace
from lstmae_demo.training import DECAY_FROM, FINAL_LR
from lstmae_demo.ui import live, views
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
spec, sine, train_cfg = config.spec, config.sine, config.train
tr = trace(spec, train_cfg.batch_size)

st.title(f"Train `{spec.arch}`")
views.data_or_stop(config)
st.markdown(
    f"**{tr.params_torch:,} parameters** on **{sine.n_series} sine series** of {spec.seq_len} "
    f"steps ({sine.n_val} more for validation), frequencies {sine.freq_min:g}–"
    f"{sine.freq_max:g} cycles per window, noise {sine.noise:g}; **{train_cfg.epochs} epochs**, "
    f"batch {train_cfg.batch_size}, Adam lr {train_cfg.lr:g} (held for the first "
    f"{DECAY_FROM:.0%} of the steps, then lowered to {FINAL_LR:.0%} of it), gradient clipping "
    f"at {train_cfg.clip_norm:g}. Change any of these in the sidebar."
)
for note in config.data_notes:
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
