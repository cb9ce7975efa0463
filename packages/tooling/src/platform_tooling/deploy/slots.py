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
such re-plans, and, once re-plans yielded, 10-11 s after, behind payments applies that had
waited longer than the patience then counted from each waiter's own arrival).
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
    first come, first served) that is not yielding. A waiter yields while a call of a higher
    priority is expected, a background waiter while any is; an expected call is yielded to for
    at most :attr:`PATIENCE_S` after it was announced."""

    PATIENCE_S = 15.0
    """How long expected calls are yielded to: past it, a call still not arrived is not coming
    soon (it is preparing its package), and the slot is taken."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"slots: size must be at least 1, got {size}")
        self._free = size
        self._waiting: list[tuple[float, int]] = []
        self._background: set[tuple[float, int]] = set()
        self._tickets = itertools.count()
        self._changed = threading.Condition()
        self._expected: list[tuple[float, float]] = []
        """The calls on their way: priority, and until when they are yielded to."""
        self._arrived: dict[tuple[float, int], float] = {}
        """Expected calls now waiting for a slot, and until when they are yielded to."""

    def expect(self, priority: float = 0.0) -> None:
        """A call of ``priority`` is on its way to :meth:`hold` (with ``arriving=True``), or will
        :meth:`cancel`."""
        with self._changed:
            self._expected.append((priority, time.monotonic() + self.PATIENCE_S))

    def cancel(self, priority: float = 0.0) -> None:
        """An expected call of ``priority`` is not coming."""
        with self._changed:
            self._take_expected(priority)
            self._changed.notify_all()

    def _take_expected(self, priority: float) -> float:
        """Remove one expectation of ``priority``; until when it was yielded to."""
        found = min((e for e in self._expected if e[0] == priority), key=lambda e: e[1])
        self._expected.remove(found)
        return found[1]

    def _yielding(self, ticket: tuple[float, int], now: float) -> bool:
        coming = [p for p, until in self._expected if until > now]
        coming += [-t[0] for t, until in self._arrived.items() if until > now and t != ticket]
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
            if background:
                self._background.add(ticket)
            if arriving:
                self._arrived[ticket] = self._take_expected(priority)
            while not (self._free and self._next() == ticket):
                # While calls are expected, look again when their time may have run out.
                self._changed.wait(timeout=0.5 if self._expected or self._arrived else None)
            self._waiting.remove(ticket)
            self._background.discard(ticket)
            self._arrived.pop(ticket, None)
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
