"""The deployment engine: plan and apply stacks of one or more packages in dependency order.

A :class:`Run` holds the stacks of some packages prepared for one target (:class:`Workspace`).
A stack depends on the stacks of its package that cdktf's manifest names and on the stacks of
the run whose outputs it reads (:mod:`.reads`); independent stacks run in parallel. Each stack
is checked, planned, summarized, approved, applied from the saved plan (exactly what was shown)
and, when asked, planned again to prove that nothing is left to change:

- checked: every output it reads from a producer must be in the producer's state. A producer
  outside the run is checked before anything starts, so nothing is applied when the run would
  stop halfway; a producer in the run is applied first and checked right before its consumer.
- a stack whose plan changes nothing is not applied and not asked about.

``nox -s plan|deploy`` (:mod:`.cli`) and the emulator rung (:mod:`platform_tooling.testing.emulator`)
both deploy through :meth:`Run.deploy`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from platform_tooling.deploy.graph import run_graph, topological
from platform_tooling.deploy.reads import reads, unpublished
from platform_tooling.deploy.slots import Slots, chain_weights
from platform_tooling.deploy.summary import StackPlan, from_messages, summarize
from platform_tooling.deploy.terraform import Terraform, base_env
from platform_tooling.deploy.workspace import Workspace

PLAN_FILE = "deploy.tfplan"
VERIFY_FILE = "verify.tfplan"


OFF_CHAIN_NICE = 5
"""How much lower the scheduling priority of a Terraform process off the critical chain is."""


def critical_chain(priority: Mapping[StackId, float], deps: Mapping[StackId, Iterable[StackId]]) -> set[StackId]:
    """The heaviest chain: from the stack with the most work still to come once it starts
    (``priority``: :func:`.slots.chain_weights`), each time to the heaviest stack that depends on it."""
    if not priority:
        return set()
    node = max(priority, key=lambda n: (priority[n], str(n)))
    chain = {node}
    while True:
        after = [n for n in priority if node in deps.get(n, ()) and n not in chain]
        if not after:
            return chain
        node = max(after, key=lambda n: (priority[n], str(n)))
        chain.add(node)


def slots() -> int:
    """Terraform processes side by side: they mostly wait on the provider, so a few per core."""
    return 3 * (os.cpu_count() or 2) + 2


@dataclass(frozen=True, order=True)
class StackId:
    """A stack of a package."""

    package: str
    stack: str

    def __str__(self) -> str:
        return f"{self.package}/{self.stack}"


class Refused(RuntimeError):
    """Stacks read outputs their producers have not published; one line per output."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class Declined(RuntimeError):
    """The operator did not approve a stack's plan."""


@dataclass
class Outcome:
    """What happened to one stack in a run."""

    plan: StackPlan | None = None
    applied: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    verified: StackPlan | None = None
    started: float = 0.0
    done: float = 0.0
    verify_span: tuple[float, float] = (0.0, 0.0)


Approve = Callable[[StackPlan], bool]
Tolerated = Callable[[Mapping[str, Any]], bool]
Settled = Callable[[StackId, BaseException | None], None]


class Run:
    """Stacks of ``workspaces`` planned or deployed with Terraform's environment ``env``.

    ``tolerated``: resource changes the target is known to plan although nothing changed (the
    emulator's drift table); they are summarized apart and never count as changes.
    ``before_package``: called once per package before its first stack is planned (the emulator
    rung seeds what an operator would have created first).
    ``review=False``: every plan is approved in advance (the emulator rung): :meth:`deploy`
    plans and applies each stack in one Terraform process (:meth:`apply_stack`) instead of a
    saved plan, its ``show -json`` and the apply of the plan file: three Terraform processes,
    each loading the provider's schema, become one. Nothing is asked; the summaries are kept.
    """

    def __init__(
        self,
        workspaces: Iterable[Workspace],
        *,
        env: Mapping[str, str] | None = None,
        parallelism: int = 30,
        tolerated: Tolerated | None = None,
        before_package: Callable[[str], None] | None = None,
        review: bool = True,
    ) -> None:
        self.workspaces = {w.package: w for w in workspaces}
        self.env = base_env(env)
        self.parallelism = parallelism
        self.tolerated = tolerated
        self.before_package = before_package
        self.review = review
        self.nodes = [StackId(w.package, s) for w in self.workspaces.values() for s in sorted(w.stacks)]
        self.deps = self._dependencies()
        self.outcomes = {node: Outcome() for node in self.nodes}
        self._slots = Slots(slots())
        self.weights = {node: self._weight(node) for node in self.nodes}
        self.priority = chain_weights(self.weights, self.deps)
        """Per stack: the work still to come once it starts; a free Terraform slot goes to the
        highest (:mod:`.slots`), so the chain the run's end waits on goes first."""
        self.critical = critical_chain(self.priority, self.deps)
        """The chain the run's end waits on; the Terraform processes of every other stack run at a
        lower scheduling priority (:data:`OFF_CHAIN_NICE`), so that this chain gets the cores first."""
        self.chain_end = next((n for n in self.critical if not any(n in self.deps[o] for o in self.critical)), None)
        """The chain's last stack: its re-plan is on the chain too (its tests wait for it)."""
        self._lane = Slots(1)
        """The chain's own Terraform slot (:meth:`_hold`)."""
        self._inits: dict[StackId, Future[None]] = {}
        self._prepared: dict[str, threading.Lock] = {name: threading.Lock() for name in self.workspaces}
        self._seeded: dict[str, BaseException | None] = {}

    def _dependencies(self) -> dict[StackId, list[StackId]]:
        present = set(self.nodes)
        found: dict[StackId, list[StackId]] = {}
        for node in self.nodes:
            workspace = self.workspaces[node.package]
            deps = {StackId(node.package, d) for d in workspace.deps.get(node.stack, [])}
            deps |= {StackId(r.producer, r.stack) for r in reads(workspace.stacks[node.stack])}
            found[node] = sorted((deps & present) - {node})
        return found

    def _weight(self, node: StackId) -> float:
        """A stack's share of the work: what Terraform plans, reads and applies in it."""
        document = self.workspaces[node.package].stacks[node.stack]
        return 1.0 + sum(len(items) for kind in ("resource", "data") for items in document.get(kind, {}).values())

    def order(self) -> list[StackId]:
        """Every stack after the stacks it depends on: the order a reader follows."""
        return topological(self.nodes, self.deps)

    def terraform(self, node: StackId) -> Terraform:
        nice = 0 if node in self.critical else OFF_CHAIN_NICE
        return Terraform(self.workspaces[node.package].stack_dir(node.stack), self.env, timeout_s=1500, nice=nice)

    def check(self, node: StackId, *, outside_only: bool = False) -> list[str]:
        """Outputs ``node`` reads that their producers have not published (``outside_only``: only
        from producers this run does not deploy)."""
        workspace = self.workspaces[node.package]
        present = set(self.nodes)

        def skip(read: Any) -> bool:
            return outside_only and StackId(read.producer, read.stack) in present

        stack = workspace.stacks[node.stack]
        return unpublished(str(node), stack, workspace.sources(node.stack), workspace.stack_dir(node.stack), skip=skip)

    def refusals(self, *, outside_only: bool = False) -> list[str]:
        """:meth:`check` over every stack, in order."""
        return [line for node in self.order() for line in self.check(node, outside_only=outside_only)]

    def _hold(self, node: StackId, priority: float, *, on_chain: bool = True) -> AbstractContextManager[None]:
        """A Terraform slot for a call of ``node``. A call on the critical chain (``on_chain``
        and ``node`` in :attr:`critical`) takes the chain's own slot: the chain's stacks follow
        one another, and when one's apply ended its slot used to go to a call already waiting
        before the next stack of the chain asked for it (in fresh clones pci-platform's apply
        started 11-15 s after the security baseline it reads)."""
        if on_chain and node in self.critical:
            return self._lane.hold()
        return self._slots.hold(priority)

    def _init(self, node: StackId) -> None:
        with self._slots.hold(self.priority[node]):
            self.terraform(node).init()

    def _ensure_init(self, node: StackId) -> None:
        started = self._inits.get(node)
        if started is None:
            self._init(node)
        else:
            started.result()

    def _prepare_package(self, package: str) -> None:
        with self._prepared[package]:
            if package not in self._seeded:
                try:
                    if self.before_package is not None:
                        self.before_package(package)
                    self._seeded[package] = None
                except BaseException as exc:
                    self._seeded[package] = exc
        error = self._seeded[package]
        if error is not None:
            raise error

    def _summarize(self, node: StackId, terraform: Terraform, plan_file: str, changed: bool) -> StackPlan:
        if not changed:
            return StackPlan(node.package, node.stack)
        shown = terraform.show(plan_file)
        return summarize(node.package, node.stack, shown, tolerated=self.tolerated)

    def plan_stack(
        self, node: StackId, plan_file: str = PLAN_FILE, *, deploying: bool = False
    ) -> tuple[StackPlan, bool]:
        """Check, then plan ``node`` into ``plan_file``; its summary and whether Terraform would
        change anything. Raises :class:`Refused` when a producer has not published what it reads.
        ``deploying``: the plan of a deployment, on the critical chain when its stack is."""
        problems = self.check(node)
        if problems:
            raise Refused(problems)
        self._ensure_init(node)
        terraform = self.terraform(node)
        with self._hold(node, self.priority[node], on_chain=deploying):
            changed = terraform.plan(plan_file, self.parallelism)
        return self._summarize(node, terraform, plan_file, changed), changed

    def apply_stack(self, node: StackId) -> StackPlan:
        """Check, then plan and apply ``node`` in one Terraform process, approved in advance; the
        summary of what it changed. Raises :class:`Refused` as :meth:`plan_stack` does."""
        problems = self.check(node)
        if problems:
            raise Refused(problems)
        self._ensure_init(node)
        with self._hold(node, self.priority[node]):
            messages = self.terraform(node).apply_now(self.parallelism)
        return from_messages(node.package, node.stack, messages)

    def plan(self) -> list[StackPlan]:
        """Plan every stack (in parallel: nothing is applied); a refused stack says why."""
        with ThreadPoolExecutor(max_workers=slots()) as pool:
            self._inits = {node: pool.submit(self._init, node) for node in self.nodes}

            def one(node: StackId) -> StackPlan:
                try:
                    return self.plan_stack(node)[0]
                except Refused as exc:
                    return StackPlan(node.package, node.stack, refused="; ".join(exc.problems))

            results = run_graph(self.nodes, {}, one)
        self._raise_failures(results)
        plans = [results[node] for node in self.order()]
        for plan, node in zip(plans, self.order(), strict=True):
            self.outcomes[node].plan = plan
        return plans

    def _outputs(self, node: StackId) -> dict[str, Any]:
        """The stack's outputs: from its state file when local (no extra call), else Terraform's."""
        state = self.workspaces[node.package].local_state(node.stack)
        if state is not None:
            found = json.loads(state.read_text(encoding="utf-8")) if state.is_file() else {}
            return {name: item.get("value") for name, item in found.get("outputs", {}).items()}
        return self.terraform(node).outputs()

    def _deploy_stack(self, node: StackId, approve: Approve) -> None:
        outcome = self.outcomes[node]
        outcome.started = time.monotonic()
        self._prepare_package(node.package)
        if not self.review:
            outcome.plan = self.apply_stack(node)
        else:
            outcome.plan, changed = self.plan_stack(node, deploying=True)
            if changed:
                if not approve(outcome.plan):
                    raise Declined(f"{node}: not applied (plan not approved)")
                with self._hold(node, self.priority[node]):
                    self.terraform(node).apply_plan(PLAN_FILE, self.parallelism)
        outcome.applied = True
        outcome.outputs = self._outputs(node)
        outcome.done = time.monotonic()

    def verify(self, node: StackId) -> StackPlan:
        """Plan ``node`` again after its apply: what it shows is what the apply left to change."""
        started = time.monotonic()
        terraform = self.terraform(node)
        # Only the chain's last re-plan is waited on (its tests); any other: its own work only.
        with self._hold(node, self.weights[node], on_chain=node == self.chain_end):
            changed = terraform.plan(VERIFY_FILE, self.parallelism)
        self.outcomes[node].verified = self._summarize(node, terraform, VERIFY_FILE, changed)
        self.outcomes[node].verify_span = (started, time.monotonic())
        return self.outcomes[node].verified  # type: ignore[return-value]

    def deploy(self, approve: Approve, *, verify: bool = False, settled: Settled | None = None) -> dict[StackId, Any]:
        """Deploy every stack in dependency order; each stack's result or the exception it raised.

        Raises :class:`Refused`, before anything is planned, when a producer outside the run has
        not published what a stack reads. ``verify``: plan each stack again after its apply
        (beside the stacks that start after it); the summaries are in :attr:`outcomes`.
        ``settled(stack, error)``: called as soon as a stack is deployed (and re-planned, with
        ``verify``) or failed, from the thread that did it; not for a stack never started because
        a stack it depends on failed.
        """
        problems = self.refusals(outside_only=True)
        if problems:
            raise Refused(problems)
        checks: dict[StackId, Future[StackPlan]] = {}
        with ThreadPoolExecutor(max_workers=slots()) as inits, ThreadPoolExecutor(max_workers=slots()) as checking:
            self._inits = {node: inits.submit(self._init, node) for node in self.nodes}

            def work(node: StackId) -> None:
                try:
                    self._deploy_stack(node, approve)
                except BaseException as exc:
                    if settled is not None:
                        settled(node, exc)
                    raise
                if verify:
                    checks[node] = checking.submit(self.verify, node)
                    if settled is not None:
                        checks[node].add_done_callback(lambda done: settled(node, done.exception()))
                elif settled is not None:
                    settled(node, None)

            results = run_graph(self.nodes, self.deps, work)
            for node, future in checks.items():
                error = future.exception()
                if error is not None:
                    results[node] = error
        return results

    def flat_outputs(self, package: str) -> dict[str, Any]:
        """Every output of ``package``'s applied stacks, by name (``flat-outputs.json``)."""
        found: dict[str, Any] = {}
        for node in self.nodes:
            if node.package == package and self.outcomes[node].applied:
                found.update(self.outcomes[node].outputs)
        return found

    def write_outputs(self, package: str) -> None:
        """Write ``cfn-outputs/flat-outputs.json`` in the package's folder."""
        target = self.workspaces[package].directory / "cfn-outputs"
        target.mkdir(exist_ok=True)
        text = json.dumps(self.flat_outputs(package), indent=2, sort_keys=True) + "\n"
        (target / "flat-outputs.json").write_text(text, encoding="utf-8")

    def destroy(
        self, nodes: Iterable[StackId], *, refresh: bool = True, after: Callable[[StackId], object] | None = None
    ) -> dict[StackId, Any]:
        """Destroy ``nodes``, each after every stack of the run that depends on it and, with
        ``after``, once ``after(stack)`` has returned (the emulator rung: once its tests ran)."""
        chosen = list(nodes)
        readers = {node: [n for n in chosen if node in self.deps.get(n, [])] for node in chosen}

        def destroy(node: StackId) -> None:
            if after is not None:
                after(node)
            with self._hold(node, self.priority[node]):
                self.terraform(node).destroy(self.parallelism, refresh=refresh)

        return run_graph(chosen, readers, destroy)

    @staticmethod
    def _raise_failures(results: Mapping[StackId, Any]) -> None:
        for node, result in results.items():
            if isinstance(result, BaseException):
                raise RuntimeError(f"stack {node}: {result}") from result
