"""How many Terraform processes run at once, and which waiting one starts next.

Terraform and its provider plugins are CPU-bound while they start (each loads the provider's
schema) and while they plan; a run starts more of them than there are cores, because they
also wait on the provider's polling. When a slot frees up, the waiting call with the highest
priority takes it, instead of whichever thread the scheduler happens to wake: the engine gives
each stack the weight of the longest chain of work still to come after it (:func:`chain_weights`),
so the stacks the run's end waits on are not held up behind short ones.

A re-plan after an apply waits in the background: it leaves free slots to the calls the engine
expects. When an apply ends, the stacks it was the last to wait for are expected
(:meth:`Slots.expect`): they need a moment to reach :meth:`Slots.hold`, and the stack's own
re-plan, asking at once, used to take the slot first (a fresh clone's emulator rung measured
pci-platform's apply, the run's longest chain, starting 13 s after the security baseline it reads,
behind four such re-plans).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


class Slots:
    """At most ``size`` holders at once; a free slot goes to the highest-priority waiter (ties:
    first come, first served) that is not yielding: a background waiter yields while a call is
    expected (for at most :attr:`PATIENCE_S`)."""

    PATIENCE_S = 15.0
    """How long a background waiter leaves free slots to expected calls: past it, a call still
    not arrived is not coming soon (it is preparing its package), and the slot is taken."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"slots: size must be at least 1, got {size}")
        self._free = size
        self._waiting: list[tuple[float, int]] = []
        self._yielding_until: dict[tuple[float, int], float] = {}
        """Background waiters, and until when each leaves free slots to expected calls."""
        self._tickets = itertools.count()
        self._changed = threading.Condition()
        self._expected = 0
        self._arrived: set[tuple[float, int]] = set()
        """Expected calls waiting for a slot: background waiters still yield to them."""

    def expect(self) -> None:
        """A call is on its way to :meth:`hold` (with ``arriving=True``), or will :meth:`cancel`."""
        with self._changed:
            self._expected += 1

    def cancel(self) -> None:
        """An expected call is not coming."""
        with self._changed:
            self._expected -= 1
            self._changed.notify_all()

    def _yielding(self, ticket: tuple[float, int], now: float) -> bool:
        return bool(self._expected > 0 or self._arrived) and self._yielding_until.get(ticket, now) > now

    def _next(self) -> tuple[float, int] | None:
        """The waiter a free slot goes to now."""
        now = time.monotonic()
        return next((t for t in sorted(self._waiting) if not self._yielding(t, now)), None)

    @contextmanager
    def hold(self, priority: float = 0.0, *, background: bool = False, arriving: bool = False) -> Iterator[None]:
        """Wait for a slot (higher ``priority`` first), hold it for the ``with`` block.

        ``background``: nothing waits on this call; it leaves free slots to expected calls while
        any is on its way (for at most :attr:`PATIENCE_S`). ``arriving``: this is a call announced
        by :meth:`expect`.
        """
        with self._changed:
            ticket = (-priority, next(self._tickets))
            self._waiting.append(ticket)
            if background:
                self._yielding_until[ticket] = time.monotonic() + self.PATIENCE_S
            if arriving:
                self._expected -= 1
                self._arrived.add(ticket)
            while not (self._free and self._next() == ticket):
                # While a background waiter yields, look again when its patience may have run out.
                self._changed.wait(timeout=0.5 if self._yielding_until else None)
            self._waiting.remove(ticket)
            self._yielding_until.pop(ticket, None)
            self._arrived.discard(ticket)
            self._free -= 1
            self._changed.notify_all()  # the next waiter may take another free slot
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()


def chain_weights(weights: Mapping[N, float], deps: Mapping[N, Iterable[N]]) -> dict[N, float]:
    """Each node's own weight plus the heaviest chain of nodes that depend on it, directly or not
    (its "bottom level"): how much work at least is still to come once it starts."""
    dependents: dict[N, list[N]] = {node: [] for node in weights}
    for node, needed in deps.items():
        for dep in needed:
            if dep in dependents and node in weights:
                dependents[dep].append(node)
    found: dict[N, float] = {}

    def level(node: N, path: frozenset[N]) -> float:
        if node in path:
            raise RuntimeError(f"dependency cycle through {node}")
        if node not in found:
            after = [level(d, path | {node}) for d in dependents[node]]
            found[node] = weights[node] + max(after, default=0.0)
        return found[node]

    for node in weights:
        level(node, frozenset())
    return found
