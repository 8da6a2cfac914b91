"""The Train page says so, as text, when the configured training cluster was unreachable at
start-up and this server trains in-process instead (jobs.dask_runner.select)."""

from __future__ import annotations

from apptest_helpers import TRAIN, open_app, page_text

from lstmae_demo.jobs import LocalRunner, local


def test_the_train_page_names_the_unreachable_cluster_as_text(monkeypatch):
    note = ("The training cluster at tcp://10.0.0.9:8786 (LSTMAE_DASK_SCHEDULER) could not be "
            "reached when this server started (OSError: **Timed out**). Training runs on this "
            "server instead, and runs are not shared with other app servers.")
    monkeypatch.setattr(local, "_SHARED", [LocalRunner(slots=1)])
    monkeypatch.setattr(local, "_NOTE", [note])
    at = open_app({}, TRAIN)
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [
        "Training runs on this server, not on the training cluster:"]
    assert note in [t.value for t in at.text]  # verbatim: the ** stay, never bold
    assert "tcp://10.0.0.9:8786" in page_text(at)


def test_the_train_page_says_nothing_of_a_cluster_when_none_is_configured(monkeypatch):
    monkeypatch.setattr(local, "_SHARED", [LocalRunner(slots=1)])
    monkeypatch.setattr(local, "_NOTE", [None])
    at = open_app({}, TRAIN)
    assert not at.exception
    assert "cluster" not in page_text(at)
