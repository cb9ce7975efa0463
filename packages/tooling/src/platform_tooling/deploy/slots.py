"""How many Terraform processes run at once, and which waiting one starts next.

Terraform and its provider plugins are CPU-bound while they start (each loads the provider's
schema) and while they plan; a run starts more of them than there are cores, because they
also wait on the provider's polling. When a slot frees up, the waiting call with the highest
priority takes it, instead of whichever thread the scheduler happens to wake: the engine gives
each stack the weight of the longest chain of work still to come after it (:func:`chain_weights`),
so the stacks the run's end waits on are not held up behind short ones.

When an apply ends, the stacks it was the last to wait for are expected (:meth:`Slots.expect`):
they need a moment to reach :meth:`Slots.hold`, and meanwhile a waiting call of a lower
priority, or the stack's own re-plan (a background call: it yields to every expected call),
asking at once, used to take the slot first (in fresh clones' emulator rungs, pci-platform's
apply, the run's longest chain, started 13 s after the security baseline it reads, behind four
such re-plans, and, once re-plans yielded, 11 s after, behind a payments apply).
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
    first come, first served) that is not yielding. A waiter yields (for at most
    :attr:`PATIENCE_S`) while a call with a higher priority is expected, or, in the background,
    while any call is expected."""

    PATIENCE_S = 15.0
    """How long a waiter leaves free slots to expected calls: past it, a call still not arrived
    is not coming soon (it is preparing its package), and the slot is taken."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"slots: size must be at least 1, got {size}")
        self._free = size
        self._waiting: list[tuple[float, int]] = []
        self._patient_until: dict[tuple[float, int], float] = {}
        """Until when each waiter leaves free slots to expected calls."""
        self._background: set[tuple[float, int]] = set()
        self._tickets = itertools.count()
        self._changed = threading.Condition()
        self._expected: list[float] = []
        """The priorities of the calls on their way."""
        self._arrived: set[tuple[float, int]] = set()
        """Expected calls waiting for a slot: they are still yielded to."""

    def expect(self, priority: float = 0.0) -> None:
        """A call of ``priority`` is on its way to :meth:`hold` (with ``arriving=True``), or will
        :meth:`cancel`."""
        with self._changed:
            self._expected.append(priority)

    def cancel(self, priority: float = 0.0) -> None:
        """An expected call of ``priority`` is not coming."""
        with self._changed:
            self._expected.remove(priority)
            self._changed.notify_all()

    def _yielding(self, ticket: tuple[float, int], now: float) -> bool:
        if self._patient_until[ticket] <= now:
            return False
        coming = [*self._expected, *(-t[0] for t in self._arrived if t != ticket)]
        if ticket in self._background:
            return bool(coming)
        return any(priority > -ticket[0] for priority in coming)

    def _next(self) -> tuple[float, int] | None:
        """The waiter a free slot goes to now."""
        now = time.monotonic()
        return next((t for t in sorted(self._waiting) if not self._yielding(t, now)), None)

    @contextmanager
    def hold(self, priority: float = 0.0, *, background: bool = False, arriving: bool = False) -> Iterator[None]:
        """Wait for a slot (higher ``priority`` first), hold it for the ``with`` block.

        ``background``: nothing waits on this call; it leaves free slots to every expected call,
        not only to those of a higher priority. ``arriving``: this is a call announced by
        :meth:`expect` (with the same ``priority``).
        """
        with self._changed:
            ticket = (-priority, next(self._tickets))
            self._waiting.append(ticket)
            self._patient_until[ticket] = time.monotonic() + self.PATIENCE_S
            if background:
                self._background.add(ticket)
            if arriving:
                self._expected.remove(priority)
                self._arrived.add(ticket)
            while not (self._free and self._next() == ticket):
                # While calls are expected, look again when a waiter's patience may have run out.
                self._changed.wait(timeout=0.5 if self._expected or self._arrived else None)
            self._waiting.remove(ticket)
            self._patient_until.pop(ticket)
            self._background.discard(ticket)
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
