"""FairQueue on its own: first-in-first-out admission to a fixed number of slots."""

import threading

import pytest

from lstmae_demo.jobs import FairQueue
from lstmae_demo.jobs.queue import ADMITTED, FIFO, GONE, ROUND_ROBIN, WAITING


def states(queue: FairQueue, tickets) -> list[tuple[str, int | None]]:
    return [queue.place(t) for t in tickets]


def test_tickets_are_admitted_in_arrival_order_as_slots_free_up():
    queue = FairQueue(slots=2)
    a, b, c, d = (queue.join() for _ in range(4))
    assert states(queue, [a, b, c, d]) == [(ADMITTED, None), (ADMITTED, None),
                                           (WAITING, 1), (WAITING, 2)]
    assert queue.counts() == (2, 2)
    queue.release(b)  # the second admitted one ends first: the head of the line goes next
    assert states(queue, [a, b, c, d]) == [(ADMITTED, None), (GONE, None),
                                           (ADMITTED, None), (WAITING, 1)]
    queue.release(a)
    queue.release(c)
    assert states(queue, [d]) == [(ADMITTED, None)] and queue.counts() == (1, 0)
    queue.release(d)
    queue.release(d)  # releasing twice is harmless
    assert queue.counts() == (0, 0)


def test_withdraw_takes_only_a_waiting_ticket_out_of_the_line():
    queue = FairQueue(slots=1)
    a, b, c = (queue.join() for _ in range(3))
    assert not queue.withdraw(a)  # admitted: it holds its slot until released
    assert queue.withdraw(b)
    assert not queue.withdraw(b)  # gone already
    assert states(queue, [a, b, c]) == [(ADMITTED, None), (GONE, None), (WAITING, 1)]
    queue.release(a)
    assert queue.place(c) == (ADMITTED, None)  # b never held the slot


def test_wait_turn_returns_true_when_admitted_and_false_when_withdrawn():
    queue = FairQueue(slots=1)
    first, second, third = (queue.join() for _ in range(3))
    assert queue.wait_turn(first)  # admitted at join: no waiting
    assert not queue.wait_turn(second, timeout=0)  # still waiting
    results = {}
    waiters = [threading.Thread(target=lambda t=t, k=k: results.__setitem__(k, queue.wait_turn(t)))
               for k, t in (("second", second), ("third", third))]
    for w in waiters:
        w.start()
    queue.withdraw(third)
    queue.release(first)
    for w in waiters:
        w.join(30)
    assert not any(w.is_alive() for w in waiters)
    assert results == {"second": True, "third": False}


def test_slots_must_be_a_whole_number_of_at_least_one():
    for bad in (0, -2, 2.5, True, "2"):
        with pytest.raises(ValueError, match="slots must be a whole number >= 1"):
            FairQueue(slots=bad)


def test_a_round_robin_checkpoint_sends_the_ticket_to_the_back_when_someone_waits():
    queue = FairQueue(slots=1, policy=ROUND_ROBIN)
    a, b, c = (queue.join(owner=name) for name in "abc")
    assert (a.owner, b.owner, c.owner) == ("a", "b", "c")
    assert queue.checkpoint(a)  # b waits: a steps aside
    assert states(queue, [a, b, c]) == [(WAITING, 2), (ADMITTED, None), (WAITING, 1)]
    assert not queue.checkpoint(a)  # only an admitted ticket steps aside
    assert queue.checkpoint(b)
    assert states(queue, [a, b, c]) == [(WAITING, 1), (WAITING, 2), (ADMITTED, None)]
    queue.release(a)
    queue.release(b)
    assert not queue.checkpoint(c)  # nobody waits: it keeps its slot
    assert states(queue, [c]) == [(ADMITTED, None)] and queue.counts() == (1, 0)


def test_a_fifo_checkpoint_never_gives_up_the_slot():
    queue = FairQueue(slots=1)
    assert queue.policy == FIFO
    a, b = queue.join(), queue.join()
    assert not queue.checkpoint(a)
    assert states(queue, [a, b]) == [(ADMITTED, None), (WAITING, 1)]


def test_ahead_lists_the_admitted_and_the_waiting_in_front():
    queue = FairQueue(slots=2)
    a, b, c, d, e = (queue.join() for _ in range(5))
    admitted, front = queue.ahead(e)
    assert set(admitted) == {a, b} and front == [c, d]
    assert queue.ahead(c)[1] == [] and queue.ahead(a)[1] == []


def test_the_policy_must_be_known():
    with pytest.raises(ValueError, match="policy must be one of 'fifo', 'round_robin'"):
        FairQueue(slots=1, policy="shortest_first")
