"""AppTest: the Compare page (issue #11) and what a finished run says on the Train page.

The runner is one per process, so every test trains with its own seed: no test joins another's
runs by accident."""

from __future__ import annotations

import pytest
from apptest_helpers import (
    APP,
    COMPARE,
    TRAIN,
    chart_specs,
    config_values,
    open_app,
    page_text,
)
from streamlit.testing.v1 import AppTest

from lstmae_demo.jobs import shared_runner
from lstmae_demo.settings import ARCHS

TINY = {"epochs": "4", "n_series": "32", "seq_len": "16", "units": "8"}


def open_compare(params: dict[str, str] | None = None) -> AppTest:
    """The app opened on Compare with these URL values (the first run is Home, as in every
    AppTest; its sidebar keeps only the knobs, so `compare` and `cmp_runs` are put back before
    switching, as a deep link's first run has them)."""
    params = dict(params or {})
    own = {k: params.pop(k) for k in ("compare", "cmp_runs") if k in params}
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.run()
    at.query_params.update(own)
    at.switch_page(COMPARE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def comparison(at: AppTest):
    """The session's comparison (its entries and run handles)."""
    return at.session_state["_compare_runs"]


def trained(params: dict[str, str]) -> AppTest:
    """A session on the Compare page whose comparison has trained to its end."""
    at = open_compare(params)
    at.button(key="compare_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert all(h.wait(180) for h in comparison(at).handles)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_compares_all_four_by_default_and_keeps_the_default_out_of_the_url():
    at = open_compare()
    assert at.title[0].value == "Compare architectures"
    assert at.pills(key="compare_archs").value == list(ARCHS)
    assert not at.button(key="compare_train").disabled
    assert at.button(key="compare_stop").disabled  # nothing to stop yet
    assert "compare" not in at.query_params
    assert "Press **Train**" in page_text(at)


def test_a_link_chooses_the_architectures_in_the_apps_order():
    at = open_compare({"compare": "hidden_n,repeatvector"})
    assert at.pills(key="compare_archs").value == ["repeatvector", "hidden_n"]
    assert at.query_params["compare"] == "repeatvector,hidden_n"


def test_a_bad_link_compares_all_four_and_says_why_as_plain_text():
    raw = "![x](https://example.com/a.png),nope"
    at = open_compare({"compare": raw})
    assert at.pills(key="compare_archs").value == list(ARCHS)
    notes = [t.value for t in at.text]
    assert any("is not one of them" in n and "comparing all four" in n for n in notes), notes
    assert not any("example.com" in m.value for m in at.markdown)  # never Markdown
    assert "compare" not in at.query_params


def test_one_architecture_is_not_a_comparison_and_two_are():
    at = open_compare()
    at.pills(key="compare_archs").set_value(["hidden_n"]).run()
    assert at.button(key="compare_train").disabled
    assert any("got 1" in w.value for w in at.warning)
    at.pills(key="compare_archs").set_value(["hidden_n", "encdec_ad"]).run()
    assert not at.button(key="compare_train").disabled
    assert at.query_params["compare"] == "hidden_n,encdec_ad"
    at.switch_page(TRAIN).run()  # the choice is kept across pages
    at.switch_page(COMPARE).run()
    assert at.pills(key="compare_archs").value == ["hidden_n", "encdec_ad"]


def test_a_comparison_trains_each_model_and_draws_its_own_numbers():
    at = trained(TINY | {"seed": "301", "compare": "repeatvector,embedding,encdec_ad"})
    runs = comparison(at)
    views = [h.snapshot() for h in runs.handles]
    assert [e.arch for e in runs.entries] == ["repeatvector", "embedding", "encdec_ad"]
    assert len({h.job.data for h in runs.handles}) == 1  # the same data
    assert len({h.job.train for h in runs.handles}) == 1  # the same seed and budget
    specs = chart_specs(at)
    by_epoch = next(s for s in specs if s["layout"]["xaxis"]["title"]["text"] == "epoch")
    assert [list(t["y"]) for t in by_epoch["data"]] == [list(v.val_mses) for v in views]
    by_seconds = next(s for s in specs
                      if s["layout"]["xaxis"]["title"]["text"].startswith("seconds"))
    assert [list(t["x"]) for t in by_seconds["data"]] == [list(v.slot_seconds) for v in views]
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["measure", "repeatvector", "embedding (attention)",
                                   "encdec_ad (h, conditional)"]
    final = frame.set_index("measure").loc["final validation MSE"]
    assert list(final) == [f"{v.val_mses[-1]:.3g}" for v in views]
    assert len(specs) == 3  # by epoch, by seconds, and the grid
    assert at.button(key="compare_stop").disabled  # all done
    text = page_text(at)
    assert "What the numbers show" in text and "Findings appear when" not in text


@pytest.mark.slow
def test_stop_lets_go_of_every_run():
    at = open_compare({"epochs": "300", "n_series": "64", "seed": "302",
                       "compare": "repeatvector,hidden_n"})
    at.button(key="compare_train").click().run()
    runs = comparison(at)
    assert not at.button(key="compare_stop").disabled
    at.button(key="compare_stop").click().run()
    assert all(h.wait(60) for h in runs.handles)
    assert {h.snapshot().finished.reason for h in runs.handles} == {"cancelled"}
    at.run()
    assert not at.exception
    assert "You let go of these runs" in page_text(at)
    assert [len(h.snapshot().val_mses) for h in runs.handles] == [
        len(t["y"]) for t in chart_specs(at)[0]["data"]]  # the curves so far are kept


def ids(at: AppTest) -> list[str]:
    """The run ids of the session's comparison, in its order."""
    return [h.run_id for h in comparison(at).handles]


@pytest.mark.slow
def test_a_second_session_opening_the_comparisons_link_gets_the_same_runs_and_numbers():
    first = trained(TINY | {"seed": "303", "compare": "repeatvector,hidden_n",
                            "reads": "state"})
    assert first.query_params["cmp_runs"] == ",".join(ids(first))
    second = open_compare(dict(first.query_params))  # the address bar, in a new session
    assert not any("could not be opened" in w.value for w in second.warning)
    assert ids(second) == ids(first)
    assert config_values(second) == config_values(first)
    assert second.query_params["cmp_runs"] == ",".join(ids(first))
    assert second.dataframe[0].value.equals(first.dataframe[0].value)
    assert chart_specs(second)[0]["data"] == chart_specs(first)[0]["data"]
    # A reload keeps them (the page's own runs are not a link to follow again).
    second.run()
    assert ids(second) == ids(first) and not second.exception


@pytest.mark.slow
def test_the_runs_alone_bring_their_settings_and_architectures():
    first = open_compare({"epochs": "300", "n_series": "64", "seed": "304", "units": "8",
                          "compare": "repeatvector,embedding,encdec_ad", "reads": "steps",
                          "handoff": "hc"})
    first.button(key="compare_train").click().run()
    link = {"cmp_runs": first.query_params["cmp_runs"]}  # no knobs, no compare=
    second = open_compare(link)
    assert not second.exception, [e.value for e in second.exception]
    assert ids(second) == ids(first)
    assert config_values(second) == config_values(first)  # reads and handoff included
    assert second.pills(key="compare_archs").value == ["repeatvector", "embedding",
                                                      "encdec_ad"]
    assert all(h.snapshot().learners == 2 for h in comparison(second).handles)
    second.button(key="compare_stop").click().run()  # one learner lets go: the runs go on
    assert "cmp_runs" not in second.query_params
    assert not any(h.snapshot().done for h in comparison(first).handles)
    for run_id in ids(first):
        shared_runner().stop(run_id)


@pytest.mark.parametrize("raw, says", [
    ("![x](http://evil.example/a.png),abc", "is not a run id"),
    ("AAAAAAAAAAAA", "2 to 4 run ids"),
    ("AAAAAAAAAAAA,AAAAAAAAAAAA", "each at most once"),
    ("AAAAAAAAAAAA,BBBBBBBBBBBB", "AAAAAAAAAAAA"),  # well formed, unknown here
])
def test_a_bad_runs_link_gives_a_note_and_starts_nothing(raw: str, says: str):
    before = shared_runner().counts()
    at = open_compare({"cmp_runs": raw})
    assert not at.exception, [e.value for e in at.exception]
    assert "_compare_runs" not in at.session_state
    assert any("could not be opened" in w.value for w in at.warning)
    assert any(says in t.value for t in at.text), [t.value for t in at.text]
    assert "evil.example" not in " ".join(m.value for m in at.markdown)
    assert "cmp_runs" not in at.query_params
    assert sum(shared_runner().counts()) <= sum(before)  # nothing new (others may end)
    assert "Press **Train**" in page_text(at)


@pytest.mark.slow
def test_runs_that_are_not_one_comparison_are_refused():
    """Two real runs, but not as the Compare page trains them (another seed, another
    page): the page neither shows nor keeps them."""
    first = trained(TINY | {"seed": "305", "compare": "repeatvector,hidden_n"})
    other = open_app(TINY | {"seed": "306", "arch": "hidden_n"}, TRAIN)
    other.button(key="train_button").click().run()
    other_id = other.session_state["_training_run"].run_id
    assert other.session_state["_training_run"].job.wait(180)
    at = open_compare({"cmp_runs": f"{ids(first)[0]},{other_id}"})
    assert not at.exception, [e.value for e in at.exception]
    assert "_compare_runs" not in at.session_state
    assert any("not one comparison" in t.value for t in at.text), [t.value for t in at.text]
    assert shared_runner().snapshot(other_id).learners <= 1


def _train_page_run(params: dict[str, str]) -> AppTest:
    at = open_app(params, TRAIN)
    at.button(key="train_button").click().run()
    run = at.session_state["_training_run"]
    assert run.job.wait(180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_a_finished_run_on_the_train_page_says_what_to_notice():
    stuck = _train_page_run({"arch": "hidden_n", "epochs": "6", "n_series": "64",
                             "seq_len": "16", "units": "8", "seed": "7"})
    assert any(s.value.startswith("Done") for s in stuck.success)
    assert any("predict the mean" in w.value and "still there" in w.value
               for w in stuck.warning)
    copier = _train_page_run({"arch": "embedding", "reads": "steps", "epochs": "15",
                              "n_series": "256", "seq_len": "16", "units": "32", "lr": "0.01"})
    assert any("the copying trap" in w.value for w in copier.warning)
    assert not any("predict the mean" in w.value for w in copier.warning)


@pytest.mark.slow
def test_the_teacher_forcing_gap_is_measured_on_the_train_page():
    at = _train_page_run({"arch": "encdec_ad", "epochs": "20", "n_series": "64",
                          "seq_len": "16", "units": "16", "lr": "0.01"})
    gap = [i.value for i in at.info if "teacher forcing" in i.value]
    assert len(gap) == 1 and "times worse" in gap[0]
    measured = at.session_state["_teacher_forced"]
    run = at.session_state["_training_run"]
    assert f"{measured[run.run_id]:.3g}" in gap[0]


def test_a_model_that_takes_one_feature_trains_on_its_own_series_and_says_so():
    at = trained(TINY | {"seed": "303", "n_features": "2", "compare": "repeatvector,embedding"})
    runs = comparison(at)
    assert [h.job.data.n_features for h in runs.handles] == [2, 1]
    text = page_text(at)
    assert "embedding takes 1 feature per step" in text
    assert "Not in the grid: embedding" in text
    grid = chart_specs(at)[-1]
    assert {t["name"] for t in grid["data"]} == {"input", "repeatvector"}


@pytest.mark.slow
def test_training_the_same_comparison_again_keeps_its_runs_and_is_not_someone_elses():
    at = trained(TINY | {"seed": "304", "compare": "repeatvector,hidden_n"})
    first = [h.run_id for h in comparison(at).handles]
    at.button(key="compare_train").click().run()
    assert [h.run_id for h in comparison(at).handles] == first  # found again, not retrained
    assert "Someone had already" not in page_text(at)
    other = open_compare(TINY | {"seed": "304", "compare": "repeatvector,hidden_n"})
    other.button(key="compare_train").click().run()
    assert [h.run_id for h in comparison(other).handles] == first
    assert "Someone had already started or trained exactly these runs: repeatvector, " \
           "hidden_n" in page_text(other)
