"""The process-wide runner outlives Streamlit's caches, which any client can clear."""

import streamlit as st

from lstmae_demo.jobs import LocalRunner, default_slots, shared_runner
from lstmae_demo.ui import training


def test_clearing_streamlits_caches_keeps_the_same_runner_and_slots():
    before = training.runner()
    assert before is shared_runner() and isinstance(before, LocalRunner)
    slots, threads = before.slots, before.threads_per_job
    for _ in range(3):  # what every clear_cache message from a browser does
        st.cache_data.clear()
        st.cache_resource.clear()
    after = training.runner()
    assert after is before
    assert (after.slots, after.threads_per_job) == (slots, threads) == (default_slots(1), 1)
