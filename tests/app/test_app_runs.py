"""Runs by link (issue #10): the URL's ?run= reattaches a reload or a second device to the same
run and its trained model, ?watch=1 watches it read-only, identical runs are joined and say
so, and pressing Train again with the same settings keeps the run.

The runner is one per process, so each test trains with its own seed: no test joins another's
run by accident. Every session of a test attaches to the same real run."""

from __future__ import annotations

import pytest
import torch
from apptest_helpers import TIMESTEPS, TRAIN, chart_specs, config_values, open_app, page_text
from streamlit.testing.v1 import AppTest

from lstmae_demo.jobs import shared_runner
from lstmae_demo.ui.training import Run

SHORT = {"epochs": "3", "n_series": "32", "seq_len": "16", "units": "8"}
LONG = {"epochs": "300", "n_series": "64"}  # trains for a minute: still going while we look


def run_of(at: AppTest) -> Run:
    """The session's run (its attachment and settings)."""
    return at.session_state["_training_run"]


def train(params: dict[str, str]) -> AppTest:
    """A session on the Train page that has pressed Train."""
    at = open_app(params, TRAIN)
    at.button(key="train_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def end(*sessions: AppTest) -> None:
    """End the runs of these sessions for everyone, so they free their slots."""
    for at in sessions:
        shared_runner().stop(run_of(at).run_id)
        assert run_of(at).job.wait(30)


@pytest.mark.slow
def test_a_second_session_opening_the_runs_link_reattaches_to_the_same_run_and_model() -> None:
    first = train(SHORT | {"seed": "101", "noise": "0.05", "lr": "0.01"})
    run_id = run_of(first).run_id
    assert first.query_params["run"] == run_id
    second = open_app({"run": run_id}, TRAIN)  # a reload or another device: no knobs in it
    assert run_of(second).run_id == run_id
    values = config_values(first)
    assert config_values(second) == values  # the sidebar shows the run's own settings
    assert second.query_params["run"] == run_id and second.query_params["units"] == "8"
    assert run_of(second).job.snapshot().learners == 2
    assert run_of(second).job.wait(120)
    second.run()
    assert any("Done" in s.value for s in second.success)
    mine, theirs = run_of(first).job.state_dict(), run_of(second).job.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert [d.label for d in second.get("download_button")][1] == "Weights (.safetensors)"
    second.switch_page(TIMESTEPS).run()  # the Time steps page uses the run's trained model
    assert not second.exception
    assert second.radio(key="ts_model").value == "trained"
    assert "No trained model" not in page_text(second)


@pytest.mark.slow
def test_the_watch_link_shows_the_run_read_only_with_who_shares_it() -> None:
    learner = train(LONG | {"seed": "102"})
    run_id = run_of(learner).run_id
    link = next(c.value for c in learner.code if "watch=1" in c.value)
    assert link.endswith(f"/train?run={run_id}&watch=1")
    watcher = open_app({"run": run_id, "watch": "1"}, TRAIN)
    assert run_of(watcher).run_id == run_id and run_of(watcher).watching
    keys = {b.key for b in watcher.button}
    assert "stop_button" not in keys and "train_button" not in keys
    assert "train_button" in {b.key for b in learner.button}
    note = next(i.value for i in watcher.info if "watching someone's run" in i.value)
    assert "1 learner and 1 watcher" in note
    assert watcher.query_params["run"] == run_id and watcher.query_params["watch"] == "1"
    run_of(watcher).job.stop()  # a watcher's stop ends only its watching
    assert not run_of(learner).job.snapshot().done
    end(learner)


def test_an_unknown_run_id_in_the_link_is_said_as_text_beside_a_train_button() -> None:
    forged = "![x](http://h/t.png)"
    at = open_app({"run": forged}, TRAIN)
    texts = [t.value for t in at.text]
    assert any("not known here" in t and "![x]" in t for t in texts), texts
    bodies = [str(e.value) for kind in ("markdown", "caption", "info", "warning", "error",
                                        "success", "title") for e in at.get(kind)]
    assert not any("http://h" in b for b in bodies), bodies
    assert not at.button(key="train_button").disabled
    assert "run" not in at.query_params
    at.button(key="train_button").click().run()  # and training works from there
    assert not at.exception
    assert at.query_params["run"] == run_of(at).run_id
    assert not any("not known here" in t.value for t in at.text)
    end(at)


def test_an_identical_run_is_joined_and_says_so() -> None:
    first = train(LONG | {"seed": "103"})
    second = train(LONG | {"seed": "103"})
    assert run_of(second).run_id == run_of(first).run_id
    assert run_of(second).joined and not run_of(first).joined
    note = next(i.value for i in second.info if "Someone in your class" in i.value)
    assert "you are watching it train (computed once for 2 learners)" in note
    assert not any("Someone in your class" in i.value for i in first.info)
    end(first)


@pytest.mark.slow
def test_a_finished_run_is_joined_with_its_result() -> None:
    first = train(SHORT | {"seed": "104"})
    assert run_of(first).job.wait(120)
    second = train(SHORT | {"seed": "104"})
    assert run_of(second).run_id == run_of(first).run_id
    assert any("already trained exactly this run" in i.value for i in second.info)
    assert any("Done" in s.value for s in second.success)


def test_pressing_train_twice_with_the_same_settings_keeps_the_run() -> None:
    at = train(LONG | {"seed": "105"})
    before = run_of(at)
    at.button(key="train_button").click().run()
    assert not at.exception
    after = run_of(at)
    assert after.run_id == before.run_id and after.job is before.job
    view = after.job.snapshot()
    assert not view.done and view.learners == 1  # still training, one attachment
    assert not after.joined
    end(at)


@pytest.mark.slow
def test_changing_a_setting_lets_go_but_the_run_goes_on_for_the_others() -> None:
    mine = train(LONG | {"seed": "106"})
    other = open_app({"run": run_of(mine).run_id}, TRAIN)
    mine.number_input(key="units").set_value(16).run()
    assert not mine.exception
    assert not run_of(mine).attached and "run" not in mine.query_params
    assert any("settings changed" in i.value for i in mine.info)
    view = run_of(other).job.snapshot()
    assert not view.done and view.learners == 1  # the other learner still wants it
    run_of(other).job.stop()  # the last learner lets go: the run ends
    assert run_of(other).job.wait(30)
    assert run_of(other).job.snapshot().finished.reason == "cancelled"


@pytest.mark.slow
def test_sessions_watching_one_run_build_its_figures_once() -> None:
    """A poll that finds nothing new builds no figure, and N learners share one build."""
    from lstmae_demo.ui.cache import FIGURES

    first = train(SHORT | {"seed": "107"})
    assert run_of(first).job.wait(120)
    first.run()
    builds = FIGURES.builds
    first.run()  # a poll that finds nothing new
    others = [open_app({"run": run_of(first).run_id}, TRAIN) for _ in range(3)]
    assert FIGURES.builds == builds
    assert all(chart_specs(at) == chart_specs(first) for at in others)
    others[0].toggle(key="loss_log").set_value(False).run()  # another figure: built once
    assert FIGURES.builds == builds + 1
    others[1].toggle(key="loss_log").set_value(False).run()
    assert FIGURES.builds == builds + 1


@pytest.mark.slow
def test_a_watcher_who_changes_a_setting_leaves_and_can_train() -> None:
    learner = train(LONG | {"seed": "108"})
    watcher = open_app({"run": run_of(learner).run_id, "watch": "1"}, TRAIN)
    watcher.number_input(key="units").set_value(16).run()
    assert not watcher.exception
    assert not run_of(watcher).attached and "run" not in watcher.query_params
    assert any("stopped watching" in i.value for i in watcher.info)
    assert not any("watching someone's run" in i.value for i in watcher.info)
    assert not watcher.button(key="train_button").disabled
    view = run_of(learner).job.snapshot()
    assert not view.done and view.watchers == 0 and view.learners == 1
    end(learner)


class Busy:
    """A runner's load figures only: `active` runs (two on slots) followed by `pages` pages."""

    def __init__(self, active: int, pages: int):
        self.active, self.pages = active, pages

    def counts(self) -> tuple[int, int]:
        return min(self.active, 2), max(0, self.active - 2)

    def following(self) -> int:
        return self.pages


def test_polling_slows_down_only_when_many_runs_are_active(monkeypatch) -> None:
    from lstmae_demo.ui import live

    seconds = {}
    for active in (0, 1, 2, 3, 6, 10, 30):  # one page per run
        monkeypatch.setattr(live, "runner", lambda a=active: Busy(a, a))
        seconds[active] = live.poll_seconds()
    assert seconds[0] == seconds[1] == seconds[2] == live.POLL_SECONDS == 1.0
    assert 1.0 < seconds[3] <= seconds[6] <= seconds[10] <= seconds[30] == live.MAX_POLL_SECONDS


def test_polling_slows_down_when_many_pages_follow_one_shared_run(monkeypatch) -> None:
    from lstmae_demo.ui import live

    seconds = {}
    for pages in (1, 5, 8, 20, 30):
        monkeypatch.setattr(live, "runner", lambda p=pages: Busy(1, p))
        seconds[pages] = live.poll_seconds()
    assert seconds[1] == seconds[5] == live.POLL_SECONDS
    assert 1.0 < seconds[8] < seconds[20] <= seconds[30] == live.MAX_POLL_SECONDS


def test_following_counts_the_pages_of_runs_that_have_not_ended() -> None:
    from lstmae_demo.data import SineConfig
    from lstmae_demo.jobs import FIFO, JobSpec, LocalRunner
    from lstmae_demo.spec import ModelSpec
    from lstmae_demo.training import TrainConfig

    runner = LocalRunner(slots=1, policy=FIFO)  # FIFO: the blocker keeps its slot

    def job(seed: int, epochs: int) -> JobSpec:
        return JobSpec(ModelSpec(seq_len=8, units=4), SineConfig(n_series=16, seq_len=8),
                       TrainConfig(epochs=epochs, batch_size=8, seed=seed))

    blocker = runner.submit(job(0, 10_000))  # holds the one slot: the next run waits
    first = runner.submit(job(1, 1))
    second = runner.submit(job(1, 1))  # identical: joins, two pages on one run
    watcher = runner.attach(first.run_id, watch_only=True)
    assert second.joined and runner.following() == 4
    blocker.stop()
    assert runner.wait(first.run_id, timeout=60) and runner.wait(blocker.run_id, timeout=60)
    assert runner.following() == 0
    for handle in (first, second, watcher):
        handle.stop()


def test_stop_ends_a_run_nobody_else_wants_and_keeps_its_curves() -> None:
    at = train(LONG | {"seed": "109"})
    run = run_of(at)
    at.button(key="stop_button").click().run()
    assert not at.exception
    assert not run_of(at).attached and "run" not in at.query_params
    assert run.job.wait(30)
    at.run()
    assert run.job.snapshot().finished.reason == "cancelled"
    assert any(i.value.startswith("Stopped after") for i in at.info)
    assert at.button(key="stop_button").disabled
