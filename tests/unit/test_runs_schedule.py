"""Who trains next: FIFO against round-robin by epochs, and an honest wait estimate."""

import itertools
import re
import threading
import time
from dataclasses import replace

import pytest
import torch

from lstmae_demo.data import SineConfig
from lstmae_demo.jobs import (
    DEFAULT_POLICY,
    FIFO,
    QUEUED,
    ROUND_ROBIN,
    RUNNING,
    JobSpec,
    JobView,
    Load,
    LocalRunner,
    shared_runner,
    wait_seconds,
)
from lstmae_demo.spec import ModelSpec
from lstmae_demo.training import TrainConfig

T = 10
MODEL = ModelSpec(arch="repeatvector", seq_len=T, units=8)
DATA = SineConfig(n_series=64, n_val=8, seq_len=T, seed=3)
LONG = TrainConfig(epochs=10_000, batch_size=16)


def job(epochs: int, seed: int) -> JobSpec:
    return JobSpec(model=MODEL, data=DATA, train=TrainConfig(epochs=epochs, batch_size=16,
                                                             seed=seed))


class Turns:
    """`alive` callbacks that log which run's thread called, in order: with one slot, a run
    calls only while it holds the slot (after each of its events)."""

    def __init__(self):
        self.log: list[str] = []
        self.hold, self.held = threading.Event(), threading.Event()

    def alive(self, name: str, hold_after: int | None = None):
        calls = itertools.count(1)

        def check() -> bool:
            self.log.append(name)
            if next(calls) == hold_after:  # keep the slot until the test lets go
                self.held.set()
                self.hold.wait(60)
            return True
        return check

    def order(self) -> list[str]:
        """The log without repeats in a row: whose turn it was, turn by turn."""
        return [name for name, _ in itertools.groupby(self.log)]


def three_runs(policy: str) -> tuple[LocalRunner, list, Turns]:
    """a (4 epochs) holds the only slot after its first epoch until b and c (3 each) wait."""
    runner = LocalRunner(slots=1, policy=policy, check_seconds=None)
    turns = Turns()
    a = runner.submit(job(4, seed=0), alive=turns.alive("a", hold_after=2))  # Started, epoch 1
    assert turns.held.wait(60)
    b = runner.submit(job(3, seed=1), alive=turns.alive("b"))
    c = runner.submit(job(3, seed=2), alive=turns.alive("c"))
    turns.hold.set()
    assert all(h.wait(60) for h in (a, b, c))
    return runner, [a, b, c], turns


def test_round_robin_gives_every_waiting_run_an_epoch_before_anyones_next():
    _, handles, turns = three_runs(ROUND_ROBIN)
    assert turns.order() == ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"]
    assert [h.snapshot().finished.reason for h in handles] == ["completed"] * 3
    assert [h.snapshot().epoch for h in handles] == [4, 3, 3]


def test_fifo_trains_each_run_to_its_end_in_arrival_order():
    _, handles, turns = three_runs(FIFO)
    assert turns.order() == ["a", "b", "c"]
    assert [h.snapshot().epoch for h in handles] == [4, 3, 3]


def test_taking_turns_changes_no_number():
    _, rr, _ = three_runs(ROUND_ROBIN)
    _, fifo, _ = three_runs(FIFO)
    for x, y in zip(rr, fifo, strict=True):
        a, b = x.snapshot(), y.snapshot()
        assert a.train_losses == b.train_losses and a.val_mses == b.val_mses
        wa, wb = x.state_dict(), y.state_dict()
        assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_run_waiting_for_its_next_turn_says_so_and_can_be_stopped():
    runner = LocalRunner(slots=1, policy=ROUND_ROBIN, check_seconds=None)
    turns, other_turns = Turns(), Turns()
    first = runner.submit(JobSpec(MODEL, DATA, LONG), alive=turns.alive("a", hold_after=3))
    assert turns.held.wait(60)  # held after its second epoch
    other = runner.submit(job(10_000, seed=5), alive=other_turns.alive("b", hold_after=2))
    turns.hold.set()  # a yields its slot after this epoch; b trains one epoch and is held
    try:
        assert other_turns.held.wait(60)
        view = first.snapshot()
        assert view.status == RUNNING and view.position == 1 and view.waiting
        assert view.epoch == 2 and view.epoch_seconds is not None
        assert re.fullmatch(r"Training: epoch 2 of 10000, taking turns with other runs: number 1 "
                            r"in line for the next epoch(, about \d+ s)?\.", view.summary())
        first.stop()  # ends while waiting: the trainer reports the stop, no step is taken
        assert first.wait(30)
        done = first.snapshot()
        assert done.finished.reason == "cancelled" and done.finished.epochs == done.epoch == 2
    finally:
        other_turns.hold.set()
        other.stop()
        other.wait(30)


def test_a_queued_run_knows_its_place_and_about_how_long_it_waits():
    runner = LocalRunner(slots=1, policy=FIFO)
    first = runner.submit(job(200, seed=0))
    second = runner.submit(job(3, seed=1))
    third = runner.submit(job(3, seed=2))
    try:
        view = second.snapshot()
        assert view.status == QUEUED and view.position == 1
        assert third.snapshot().position == 2
        assert first.wait_first_epoch(60)  # a measured epoch: now there is an estimate
        second_wait, third_wait = second.snapshot().wait_seconds, third.snapshot().wait_seconds
        assert second_wait is not None and third_wait is not None
        assert 0 < second_wait < third_wait  # third waits for the second's epochs too
        assert re.search(r"number 2 in the queue, about \d+ (s|min)\.$", third.snapshot().summary())
        assert first.snapshot().wait_seconds is None and first.snapshot().epoch_seconds > 0
    finally:
        for h in (third, second, first):
            h.stop()
        for h in (first, second, third):
            h.wait(30)


def test_nothing_measured_means_no_estimate_rather_than_a_guess():
    runner = LocalRunner(slots=1, policy=FIFO, check_seconds=None)
    turns = Turns()
    first = runner.submit(job(200, seed=0), alive=turns.alive("a", hold_after=1))  # at Started
    assert turns.held.wait(60)
    second = runner.submit(job(3, seed=1))
    try:
        view = second.snapshot()
        assert view.position == 1 and view.wait_seconds is None
        assert view.summary() == "Waiting for a free slot: number 1 in the queue."
    finally:
        turns.hold.set()
        first.stop()
        second.stop()
        assert first.wait(30) and second.wait(30)


# --- the estimate on its own ------------------------------------------------------------------


def test_fifo_waits_for_whole_runs_and_round_robin_for_one_epoch_each():
    admitted = [Load(epoch_seconds=2.0, epochs_left=10, into_epoch=0.5),
                Load(epoch_seconds=1.0, epochs_left=3, into_epoch=0.0)]
    ahead = [Load(epoch_seconds=None, epochs_left=5)]
    # FIFO: slots free at 10 x 2 - 0.5 = 19.5 s and 3 x 1 = 3 s; the run ahead (at the 1.5 s
    # fallback) takes the one free at 3 s for 5 x 1.5 s, to 10.5 s: ours starts then.
    assert wait_seconds(FIFO, 2, admitted, ahead, fallback=1.5) == pytest.approx(10.5)
    # Round-robin: the running ones end their epochs at 1.5 s and 1 s; the one ahead trains
    # one epoch from 1 s to 2.5 s; ours gets the slot free at 1.5 s.
    assert wait_seconds(ROUND_ROBIN, 2, admitted, ahead, fallback=1.5) == pytest.approx(1.5)
    assert wait_seconds(FIFO, 2, admitted, ahead, fallback=None) is None
    assert wait_seconds(FIFO, 3, admitted, [], fallback=None) == 0.0  # a slot is free


def test_an_unknown_policy_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="policy must be one of 'fifo', 'round_robin', got 'lifo'"):
        LocalRunner(policy="lifo")
    with pytest.raises(ValueError, match="policy must be one of"):
        wait_seconds("lifo", 1, [], [], None)


def test_the_shared_runner_uses_the_default_policy():
    assert shared_runner().policy == DEFAULT_POLICY == ROUND_ROBIN


def test_a_view_says_a_wait_in_rounded_words():
    base = JobView(status=QUEUED, position=3, epoch=0, total_epochs=5, train_losses=(),
                   val_losses=(), val_mses=(), reconstructions=None, reconstructions_epoch=0,
                   started=None, last_epoch=None, finished=None, error=None)
    assert replace(base, wait_seconds=0.2).summary().endswith("number 3 in the queue, about 1 s.")
    assert replace(base, wait_seconds=42.4).summary().endswith("about 42 s.")
    assert replace(base, wait_seconds=300.0).summary().endswith("about 5 min.")


@pytest.mark.slow
def test_polling_many_runs_taking_turns_from_many_threads_gives_consistent_views():
    runner = LocalRunner(slots=2, policy=ROUND_ROBIN)
    handles = [runner.submit(job(6, seed=seed)) for seed in range(6)]
    problems, views = [], []

    def poll() -> None:
        while not all(h.snapshot().done for h in handles):
            for h in handles:
                try:
                    v = h.snapshot()
                except Exception as err:  # an estimate reading a run that just ended, say
                    problems.append(err)
                    continue
                views.append(v)
                if (len(v.train_losses) != v.epoch or (v.status == QUEUED and not v.waiting)
                        or (v.wait_seconds is not None and (v.wait_seconds < 0 or v.done))):
                    problems.append(v)

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for p in pollers:
        p.start()
    for p in pollers:
        p.join(120)
    assert not problems
    assert any(v.status == RUNNING and v.waiting for v in views)  # turns were taken
    assert [h.snapshot().finished.reason for h in handles] == ["completed"] * 6
    # A run reads as done once its last event is in; its thread gives the slot back a moment
    # later: wait for the threads before counting the slots.
    assert all(h.wait(60) for h in handles)
    assert runner.counts() == (0, 0)


def test_slot_seconds_count_a_runs_own_epochs_and_not_its_wait_for_a_turn():
    runner = LocalRunner(slots=1, policy=ROUND_ROBIN, check_seconds=None)
    turns = Turns()
    a = runner.submit(job(3, seed=0), alive=turns.alive("a", hold_after=2))  # after epoch 1
    assert turns.held.wait(60)
    b = runner.submit(job(3, seed=1), alive=turns.alive("b"))
    waited_from = time.perf_counter()
    time.sleep(0.5)  # b waits for the slot a holds: wall time that is not b's training
    turns.hold.set()
    assert a.wait(60) and b.wait(60)
    wall = time.perf_counter() - waited_from
    for handle in (a, b):
        view = handle.snapshot()
        assert len(view.slot_seconds) == view.epoch == 3
        assert list(view.slot_seconds) == sorted(view.slot_seconds) and view.slot_seconds[0] > 0
        assert view.slot_seconds[-1] == pytest.approx(view.epoch_seconds * 3)
    # b's three epochs and a's last two shared the slot after the wait: b's clock holds none
    # of the 0.5 s it waited, nor a's turns in between.
    assert b.snapshot().slot_seconds[-1] + a.snapshot().slot_seconds[-1] \
        - a.snapshot().slot_seconds[0] <= wall - 0.5
