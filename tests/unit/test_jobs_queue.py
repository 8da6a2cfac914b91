"""FairQueue on its own: first-in-first-out admission to a fixed number of slots."""

import threading

import pytest

from lstmae_demo.jobs import FairQueue
from lstmae_demo.jobs.queue import ADMITTED, GONE, WAITING


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
