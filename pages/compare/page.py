"""Compare: two to four architectures trained side by side on the same data, seed and budget."""

import streamlit as st

from lstmae_demo.compare import choices_text, data_notes, plan
from lstmae_demo.ui import compare, views
from lstmae_demo.ui.sidebar import current, show_url_notes

compare.follow_link()  # cmp_runs=: the runs of a copied link or a reload
show_url_notes()
compare.link_notes()
config = current()
train_cfg = config.train

st.title("Compare architectures")
data = views.data_or_stop(config)
st.markdown(
    f"Each architecture trains on the same {views.data_sentence(config, data)}, with the same "
    f"seed ({train_cfg.seed}), for the same **{train_cfg.epochs} epochs** (batch "
    f"{train_cfg.batch_size}, Adam lr {train_cfg.lr:g}), at the sidebar's sizes "
    f"({config.values['units']} units, {config.values['activation']}). Change any of these "
    "in the sidebar.")
views.data_details(config, data)
archs, problem = compare.choose_archs()
entries = plan(config, archs) if problem is None else ()
if choices := choices_text(entries):
    st.caption(f"Each with its own choices: {choices}. To change one, pick that architecture "
               "in the sidebar and change it there; it is kept when you switch back.")
for note in data_notes(entries):
    st.info(note)
for entry in entries:
    if entry.problem:
        st.warning(f"{entry.arch} cannot train at these settings:")
        st.text(entry.problem)  # the settings' own check, which may quote values
trainable = [e for e in entries if e.job is not None]
if problem:
    st.warning(problem)
elif len(trainable) < 2:
    st.warning("At least two of the chosen architectures must be able to train at these "
               "settings to compare them.")
left, right, _ = st.columns([1, 1, 4])
left.button("Train", type="primary", disabled=problem is not None or len(trainable) < 2,
            width="stretch", on_click=compare.start, args=(config, archs),
            key="compare_train")
right.button("Stop", disabled=not compare.going(), width="stretch", on_click=compare.stop,
             key="compare_stop")

compare.panel()
