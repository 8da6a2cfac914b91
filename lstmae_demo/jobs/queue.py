"""FairQueue: admission to a fixed number of slots in turn, knowing nothing of jobs.

A caller joins and gets a `Ticket`; the queue admits tickets in line order while a slot is
free (at once when one is), and a ticket's holder blocks in `wait_turn` until admitted. A
ticket leaves by `withdraw` (only while waiting) or `release` (whatever its state).

Two policies decide what an admitted ticket does at a `checkpoint` (the runner calls one
after every epoch):
- FIFO: nothing; a ticket keeps its slot until it is released (first come, first finished).
- ROUND_ROBIN: if anyone is waiting, the ticket goes to the back of the line and its slot to
  the head, so every waiting run gets a turn (one epoch) before anyone's second turn.

Every method is thread-safe and none calls back into its caller, so a caller may hold its own
lock while calling in.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque

WAITING, ADMITTED, GONE = "waiting", "admitted", "gone"
FIFO, ROUND_ROBIN = "fifo", "round_robin"
POLICIES = (FIFO, ROUND_ROBIN)


class Ticket:
    """One place in a FairQueue: waiting, then admitted (holding a slot), then gone; under
    round-robin it may go back to waiting at a checkpoint."""

    __slots__ = ("number", "owner", "state")

    def __init__(self, number: int, owner: object = None):
        self.number = number  # arrival order, for logs
        self.owner = owner  # the caller's object for this ticket; the queue never looks at it
        self.state = WAITING  # changed by its queue only, under the queue's lock

    def __repr__(self) -> str:
        return f"Ticket({self.number}, {self.state})"


def check_count(name: str, value: object) -> int:
    """`value` if it is a whole number >= 1; else ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


def check_policy(policy: object) -> str:
    """`policy` if it is one of POLICIES; else ValueError naming the choices."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(map(repr, POLICIES))}, "
                         f"got {policy!r}")
    return policy


class FairQueue:
    """At most `slots` tickets admitted at once; the others wait and are admitted in order."""

    def __init__(self, slots: int, policy: str = FIFO):
        self.slots = check_count("slots", slots)
        self.policy = check_policy(policy)
        self._lock = threading.Condition()
        self._waiting: deque[Ticket] = deque()  # in arrival order
        self._admitted: set[Ticket] = set()
        self._numbers = itertools.count(1)

    def join(self, owner: object = None) -> Ticket:
        """A new ticket at the end of the line; admitted at once if a slot is free for it."""
        with self._lock:
            ticket = Ticket(next(self._numbers), owner)
            self._waiting.append(ticket)
            self._admit()
            return ticket

    def wait_turn(self, ticket: Ticket, timeout: float | None = None) -> bool:
        """Block until `ticket` is admitted (True) or has left the queue (False).

        With a timeout, False also when it is still waiting after `timeout` seconds.
        """
        with self._lock:
            self._lock.wait_for(lambda: ticket.state != WAITING, timeout)
            return ticket.state == ADMITTED

    def withdraw(self, ticket: Ticket) -> bool:
        """Take a waiting ticket out of the line: True if it was waiting, else False (it is
        admitted, or gone already)."""
        with self._lock:
            if ticket.state != WAITING:
                return False
            self._waiting.remove(ticket)
            ticket.state = GONE
            self._lock.notify_all()
            return True

    def release(self, ticket: Ticket) -> None:
        """The ticket leaves, whatever its state; its slot goes to the next in line."""
        with self._lock:
            if ticket.state == WAITING:
                self._waiting.remove(ticket)
            self._admitted.discard(ticket)
            ticket.state = GONE
            self._admit()
            self._lock.notify_all()

    def checkpoint(self, ticket: Ticket) -> bool:
        """A point where an admitted ticket may step aside (after an epoch).

        Under ROUND_ROBIN with someone waiting, the ticket goes to the back of the line and its
        slot to the head: returns True, and the holder must `wait_turn` again. Otherwise
        (FIFO, nobody waiting, or the ticket not admitted) nothing changes: False.
        """
        with self._lock:
            if self.policy != ROUND_ROBIN or ticket.state != ADMITTED or not self._waiting:
                return False
            self._admitted.discard(ticket)
            ticket.state = WAITING
            self._waiting.append(ticket)
            self._admit()
            return True

    def ahead(self, ticket: Ticket) -> tuple[list[Ticket], list[Ticket]]:
        """(the admitted tickets, the waiting tickets in front of `ticket`), read together."""
        with self._lock:
            front = (list(itertools.takewhile(lambda t: t is not ticket, self._waiting))
                     if ticket.state == WAITING else [])
            return list(self._admitted), front

    def place(self, ticket: Ticket) -> tuple[str, int | None]:
        """(state, 1-based position while waiting, else None), read together."""
        with self._lock:
            if ticket.state == WAITING:
                return WAITING, self._waiting.index(ticket) + 1
            return ticket.state, None

    def counts(self) -> tuple[int, int]:
        """(tickets admitted, tickets waiting) right now."""
        with self._lock:
            return len(self._admitted), len(self._waiting)

    def _admit(self) -> None:
        """Admit the head of the line while a slot is free (the caller holds the lock)."""
        admitted = False
        while self._waiting and len(self._admitted) < self.slots:
            ticket = self._waiting.popleft()
            ticket.state = ADMITTED
            self._admitted.add(ticket)
            admitted = True
        if admitted:
            self._lock.notify_all()
