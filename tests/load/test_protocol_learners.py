"""Protocol learners (bench.wsclient, `python -m bench.load --clients ws`) measure what they
claim: a class of three on one link presses Train over the websocket, and each of them sees
its first loss point and 'Done' arrive, after its click, from the run its click started; a
real Chromium page on the same link then sends the same Train click (the same widget states,
page and query string) and lands on that very run (the same run id, computed once), so the
protocol learners' click starts exactly the run a browser's click starts.

Bounded in time: every wait has a deadline (not a performance target; the benchmark measures
the times).
"""

from __future__ import annotations

from streamlit.proto.BackMsg_pb2 import BackMsg

from bench.devserver import Server
from bench.load import (
    TRAIN_READY_JS,
    VIEWPORT,
    ProtocolLearners,
    Status,
    log_problems,
    read_status,
    wait_for,
)
from bench.wsclient import LearnerClass

LEARNERS = 3
# A run of a few seconds: the live panel has to poll (its fragment reruns) to show 'Done'.
SHORT = {"epochs": 20, "n_series": 32, "units": 8, "seed": 7}
FINISHED_S = 180
JOINED_S = 60


def rerun_of(payload: bytes | str) -> BackMsg | None:
    """A browser's websocket frame as a BackMsg, if it asks for a rerun."""
    msg = BackMsg()
    msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode("latin-1"))
    return msg if msg.WhichOneof("type") == "rerun_script" else None


def click_fields(msg: BackMsg) -> dict:
    """What a rerun message asks of the server: the page, the URL's query, the fragment and
    every widget's state by id (not the cache's hashes or the browser's locale)."""
    state = msg.rerun_script
    return {"page_script_hash": state.page_script_hash, "page_name": state.page_name,
            "query_string": state.query_string, "fragment_id": state.fragment_id,
            "is_auto_rerun": state.is_auto_rerun,
            "widgets": {w.id: w.SerializeToString(deterministic=True)
                        for w in state.widget_states.widgets}}


def differences(ours: dict, theirs: dict) -> str:
    """Where two click_fields() differ, in words."""
    mine, chromes = ours["widgets"], theirs["widgets"]
    changed = sorted(k for k in mine.keys() & chromes.keys() if mine[k] != chromes[k])
    pages = {k: (ours[k], theirs[k]) for k in ours if k != "widgets" and ours[k] != theirs[k]}
    return (f"  only Chromium's widgets: {sorted(chromes.keys() - mine.keys())}\n"
            f"  only ours: {sorted(mine.keys() - chromes.keys())}\n"
            f"  other values: {changed}\n  page, query, fragment (ours, Chromium's): {pages}")


def describe(learners) -> str:
    return "\n".join(f"  learner {i}: times={lr.timings} run={lr.run_param} "
                     f"auto_reruns={lr.auto_reruns_sent} fragment_runs="
                     f"{lr.fragment_runs_started} error={lr.error} texts={lr.texts()}"
                     for i, lr in enumerate(learners))


def test_protocol_learners_train_the_run_a_browser_would(fresh_server: Server,
                                                          browser) -> None:
    url = f"{fresh_server.url}/train?" + "&".join(f"{k}={v}" for k, v in SHORT.items())
    # The browser learner opens first and waits on the page; its frames are recorded.
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sent: list[BackMsg] = []
    page.on("websocket", lambda ws: ws.on(
        "framesent", lambda payload: sent.append(m) if (m := rerun_of(payload)) else None))
    page.goto(url, wait_until="commit")
    page.wait_for_function(TRAIN_READY_JS, timeout=120_000, polling=100)
    try:
        with LearnerClass() as klass:
            learners = klass.open([url] * LEARNERS)
            assert all(not lr.unknown_widgets for lr in learners), [
                lr.unknown_widgets for lr in learners]
            klass.press_together(learners)
            done = wait_for(lambda: all(lr.timings.done for lr in learners), FINISHED_S)
            assert done, "no 'Done' for every protocol learner:\n" + describe(learners)
            # Every page's closing full run has drawn the finished run.
            wait_for(lambda: all(ProtocolLearners.status(lr).state == "done"
                                 for lr in learners), JOINED_S)
            final: list[Status] = [ProtocolLearners.status(lr) for lr in learners]

            for lr, status in zip(learners, final, strict=True):
                t = lr.timings
                assert lr.error is None, describe(learners)
                # Both moments were seen, after the click, the first point before 'Done'.
                assert t.clicked <= t.first <= t.done, describe(learners)
                assert 1 <= t.first_points <= SHORT["epochs"], describe(learners)
                # 'Done' needs the live panel's fragment reruns: the learner sent them.
                assert lr.auto_reruns_sent >= 1 and lr.fragment_runs_started >= 1, (
                    describe(learners))
                assert status.state == "done" and status.epochs == SHORT["epochs"], (
                    describe(learners))
                assert status.exceptions == 0, describe(learners)
            run_ids = {lr.run_param for lr in learners}
            assert len(run_ids) == 1 and None not in run_ids, describe(learners)
            joined = [s.joined_by for s in final if s.joined_by is not None]
            assert len(joined) == LEARNERS - 1, describe(learners)
            ws_click = learners[0].last_click

        # The browser presses Train on the same link: the same click, the same run.
        before = len(sent)
        page.get_by_role("button", name="Train", exact=True).click()
        landed = wait_for(lambda: read_status(page).state == "done", JOINED_S)
        browser_status = read_status(page)
        assert landed, browser_status.describe()
        assert browser_status.run_id in run_ids, (
            f"the browser's click trained run {browser_status.run_id}, the protocol "
            f"learners' {run_ids}")
        assert browser_status.joined_by is not None, browser_status.describe()
        clicks = [m for m in sent[before:]
                  if any(w.trigger_value for w in m.rerun_script.widget_states.widgets)]
        assert len(clicks) == 1, f"{len(clicks)} click messages from the browser"
        browser_click, ours = click_fields(clicks[0]), click_fields(ws_click)
        assert ours == browser_click, ("the protocol learner's Train click differs from "
                                       "Chromium's:\n" + differences(ours, browser_click))
    finally:
        context.close()
    problems = log_problems(fresh_server.log_path)
    assert not problems, "server log:\n" + "\n".join(problems[:40])
