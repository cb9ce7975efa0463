"""How many Terraform processes run at once, and which waiting one starts next.

Terraform and its provider plugins are CPU-bound while they start (each loads the provider's
schema) and while they plan; a run starts more of them than there are cores, because they
also wait on the provider's polling. When a slot frees up, the waiting call with the highest
priority takes it, instead of whichever thread the scheduler happens to wake: the engine gives
each stack the weight of the longest chain of work still to come after it (:func:`chain_weights`),
so the stacks the run's end waits on are not held up behind short ones.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


class Slots:
    """At most ``size`` holders at once; a free slot goes to the highest-priority waiter (ties:
    first come, first served)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"slots: size must be at least 1, got {size}")
        self._free = size
        self._waiting: list[tuple[float, int]] = []
        self._tickets = itertools.count()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, priority: float = 0.0) -> Iterator[None]:
        """Wait for a slot (higher ``priority`` first), hold it for the ``with`` block."""
        with self._changed:
            ticket = (-priority, next(self._tickets))
            heapq.heappush(self._waiting, ticket)
            while not (self._free and self._waiting[0] == ticket):
                self._changed.wait()
            heapq.heappop(self._waiting)
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
