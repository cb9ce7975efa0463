"""Run work over a dependency graph: each node as soon as the nodes it depends on are done."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

N = TypeVar("N", bound=Hashable)


class DependencyFailed(RuntimeError):
    """A node was not run because a node it depends on failed."""


def run_graph(names: Iterable[N], deps: Mapping[N, Iterable[N]], work: Callable[[N], Any]) -> dict[N, Any]:
    """Run ``work`` on every name as soon as the names it depends on are done (in parallel).

    Dependencies outside ``names`` are taken as done. Returns each name's result or the
    exception it raised; a name whose dependency failed is not run and gets a
    :class:`DependencyFailed` saying which.
    """
    todo = list(dict.fromkeys(names))
    nodes = set(todo)
    results: dict[N, Any] = {}
    running: dict[Future[Any], N] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        while todo or running:
            settled = True
            while settled:  # a node failed for its dependency may settle the nodes after it
                settled = False
                for name in [n for n in todo if all(d in results or d not in nodes for d in deps.get(n, ()))]:
                    failed = [str(d) for d in deps.get(name, ()) if isinstance(results.get(d), BaseException)]
                    todo.remove(name)
                    if failed:
                        results[name] = DependencyFailed(f"{name} needs {', '.join(failed)}, which failed")
                        settled = True
                    else:
                        running[pool.submit(work, name)] = name
            if not running:
                if todo:
                    raise RuntimeError(f"dependency cycle among {', '.join(sorted(map(str, todo)))}")
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                error = future.exception()
                results[name] = error if error is not None else future.result()
    return results


def topological(names: Iterable[N], deps: Mapping[N, Iterable[N]]) -> list[N]:
    """``names`` ordered so that every name comes after the names it depends on (ties sorted)."""
    todo = sorted(dict.fromkeys(names), key=str)
    nodes = set(todo)
    ordered: list[N] = []
    while todo:
        ready = [n for n in todo if all(d in ordered or d not in nodes for d in deps.get(n, ()))]
        if not ready:
            raise RuntimeError(f"dependency cycle among {', '.join(map(str, todo))}")
        ordered.extend(ready)
        todo = [n for n in todo if n not in ready]
    return ordered
