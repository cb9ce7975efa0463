"""The emulator rung of the ladder: deploy every declared package to moto, test, destroy.

One moto server per test session, in its own process (:class:`platform_tooling.deploy.emulator.Emulator`)
on 127.0.0.1 and a free port, started and stopped by the session fixture :func:`emulator`, with
IAM enforced from the start for every caller but the operator and Terraform (so that what the
tests do as a deployed role, ``deployment.client(..., as_role=...)`` and :func:`.roles.run_handler`,
is authorized against that role's policies). Every package whose ``deployment`` fixture was
collected is prepared from the synthesis cache for the emulator target (:class:`.deployment.Deployment`).
Each package that reads another package's outputs is first deployed alone on the empty emulator
and must be refused (:func:`refusals`). Then one background thread deploys them all through the
deployment engine (:class:`platform_tooling.deploy.engine.Run`), every plan approved in advance:
each stack as soon as the stacks it depends on and the stacks whose outputs it reads are applied
(in parallel across packages, the longest chain of work first), planned and applied by one
``terraform apply``, then planned again (any change not in :data:`TOLERATED_DRIFT` fails) while the
stacks after it go on. ``nox -s deploy`` applies a saved plan after its review instead; the
engine's tests cover that path (Terraform's own ``terraform_data``, no provider).

A package's tests start as soon as its own stacks are re-planned (its outputs in
``cfn-outputs/flat-outputs.json``), while later packages still deploy: the tests of packages at the
end of the longest chain run last (:func:`order_tests`). Once every test that may use a package
has run (the tests under each conftest that declared it, :func:`track_tests`), its stacks are
destroyed, each after the stacks that read it, while other packages are still tested. At the
end the emulator is checked to hold none of the packages' tagged resources. Where the time
went is in :data:`TIMINGS` (:mod:`.emulator_timings`).
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from platform_tooling.deploy.emulator import Emulator
from platform_tooling.deploy.engine import Refused, Run, StackId
from platform_tooling.deploy.reads import reads
from platform_tooling.deploy.summary import StackPlan
from platform_tooling.testing.deployment import Deployment
from platform_tooling.testing.emulator_tables import EMULATOR, TOLERATED_DRIFT, is_tolerated
from platform_tooling.testing.emulator_timings import NOTES, TIMINGS, record
from platform_tooling.testing.moto_requests import LINE_PREFIX, SERVER_ERROR

__all__ = [
    "EMULATOR",
    "TIMINGS",
    "TOLERATED_DRIFT",
    "Deployment",
    "Emulator",
    "deployment_fixture",
    "emulator",
    "refusals",
    "verified_plans",
]

_DEPLOYMENTS: dict[str, Deployment] = {}
_FAILURES: dict[str, BaseException] = {}
_DECLARED: dict[str, tuple[tuple[str, ...], Callable[[Emulator], None] | None]] = {}
_DECLARED_IN: dict[str, set[Path]] = {}
"""Package -> the folders whose conftest declared it: the tests there may use it."""
_REFUSALS: dict[str, list[str]] = {}
_RUN: list[Run] = []
_READY: dict[str, threading.Event] = {}
"""Package -> set once every stack of it is deployed and re-planned, or failed."""
_UNSETTLED: dict[str, set[StackId]] = {}
_USERS: dict[str, set[str]] = {}
"""Package -> the selected emulator tests that may use it and have not finished yet."""
_TESTS_DONE: dict[str, threading.Event] = {}
"""Package -> set once no test that may use it is left: its stacks may be destroyed."""
_DESTROYED: dict[StackId, Any] = {}
_LIFECYCLE: list[threading.Thread] = []
_LOCK = threading.Lock()
WAIT_S = 3600
"""The longest a test waits for its package's deployment (Terraform calls time out before)."""


def _requires(package: str) -> tuple[str, ...]:
    return _DECLARED.get(package, ((), None))[0]


def _wanted() -> list[str]:
    """Every declared package and the packages they require."""
    wanted: list[str] = []
    pending = list(_DECLARED)
    while pending:
        package = pending.pop(0)
        if package not in wanted:
            wanted.append(package)
            pending.extend(_requires(package))
    return wanted


def _users_of(item: pytest.Item) -> list[str]:
    """The declared packages a test may use: those declared in its folder or a folder above it."""
    path = Path(item.path)
    return [p for p, folders in _DECLARED_IN.items() if any(f == path.parent or f in path.parents for f in folders)]


def _depth(package: str, seen: frozenset[str] = frozenset()) -> int:
    """How many packages are deployed, one after the other, before ``package`` is."""
    return 1 + max((_depth(r, seen | {package}) for r in _requires(package) if r not in seen), default=0)


def order_tests(items: list[pytest.Item]) -> None:
    """Run the emulator tests of the packages deployed early first: a package is deployed after the
    packages it requires, so the tests of the packages at the end of the longest chain go last
    (stable otherwise), and earlier packages are tested, and destroyed, while it deploys."""
    items.sort(key=lambda item: max((_depth(p) for p in _users_of(item)), default=0))


def track_tests(items: list[pytest.Item]) -> None:
    """Remember which selected tests may use each package: its stacks are destroyed when they ran."""
    with _LOCK:
        for package in _DECLARED:
            _USERS[package] = {item.nodeid for item in items if package in _users_of(item)}
            _TESTS_DONE.setdefault(package, threading.Event())
            if not _USERS[package]:
                _TESTS_DONE[package].set()


def test_finished(nodeid: str) -> None:
    """A test ran (passed, failed or skipped): a package no test is left for may be destroyed."""
    with _LOCK:
        for package, waiting in _USERS.items():
            waiting.discard(nodeid)
            if not waiting:
                _TESTS_DONE.setdefault(package, threading.Event()).set()


def _consumers_refused(emulator: Emulator) -> None:
    """Deploy each package that reads another package's outputs alone, before anything is up:
    the engine must refuse it, naming the producer, the stack and the output (:func:`refusals`)."""
    for package, deployment in _DEPLOYMENTS.items():
        if not any(r.producer != package for stack in deployment.stacks.values() for r in reads(stack)):
            continue
        alone = Run([deployment.workspace], env=emulator.env())
        try:
            alone.deploy(lambda plan: False)
        except Refused as exc:
            _REFUSALS[package] = exc.problems
        else:
            _REFUSALS[package] = []


def _package_settled(run: Run, package: str) -> None:
    """Every stack of ``package`` is deployed and re-planned (or failed): its outputs (and
    ``flat-outputs.json``), drift and timings, then its tests may start."""
    deployment = _DEPLOYMENTS[package]
    outcomes = [run.outcomes[n] for n in run.nodes if n.package == package]
    deployment.outputs = run.flat_outputs(package)
    if package not in _FAILURES:
        run.write_outputs(package)
    for node in (n for n in run.nodes if n.package == package):
        verified = run.outcomes[node].verified
        if verified is not None:
            deployment.drift.extend(f"{node.stack}: {c.line()}" for c in verified.changes)
    started = [o.started for o in outcomes if o.started]
    if started:
        deployment.timings["apply_s"] = max(o.done for o in outcomes) - min(started)
    spans = [o.verify_span for o in outcomes if o.verify_span[1]]
    if spans:
        deployment.timings["replan_s"] = max(end for _, end in spans) - min(start for start, _ in spans)
    _READY[package].set()


def _settle(run: Run, node: StackId, error: BaseException | None) -> None:
    with _LOCK:
        if error is not None:
            _FAILURES.setdefault(node.package, RuntimeError(f"stack {node.stack}: {error}"))
        waiting = _UNSETTLED.get(node.package)
        if waiting is None or node not in waiting:
            return
        waiting.discard(node)
        if waiting:
            return
    _package_settled(run, node.package)


def _lifecycle(run: Run) -> None:
    """Deploy every stack (each package's tests start once its stacks are re-planned), then destroy
    each stack once the stacks that read it are destroyed and the tests that may use it ran."""
    try:
        try:
            results = run.deploy(lambda plan: True, verify=True, settled=lambda n, e: _settle(run, n, e))
        except Refused as exc:  # a producer outside the session: every package's tests report it
            results = {node: exc for node in run.nodes}
        for node, result in results.items():  # the stacks never started (a dependency failed)
            _settle(run, node, result if isinstance(result, BaseException) else None)
        started = [node for node in run.nodes if run.outcomes[node].started]
        # The re-plan just refreshed every resource, so destroy does not refresh again.
        _DESTROYED.update(run.destroy(started, refresh=False, after=lambda n: _TESTS_DONE[n.package].wait()))
    except BaseException as exc:  # the harness itself: every package's tests report it
        for package in _DEPLOYMENTS:
            _FAILURES.setdefault(package, exc)
    finally:
        for event in _READY.values():
            event.set()


def deploy_declared(emulator: Emulator, state_root: Path) -> None:
    """Start deploying every package whose ``deployment`` fixture was collected (and what they
    require) through the deployment engine, each stack re-planned for drift right after its
    apply; its stacks are destroyed in the same background thread once its tests ran."""
    wanted = _wanted()
    for package in wanted:  # synthesis (when the cache is stale) stays on the main thread
        _READY[package] = threading.Event()
        _TESTS_DONE.setdefault(package, threading.Event())
        try:
            _DEPLOYMENTS[package] = Deployment.prepare(emulator, package, state_root)
        except Exception as exc:  # recorded: that package's tests report it
            _FAILURES[package] = exc
    _consumers_refused(emulator)

    def seed(package: str) -> None:
        if package in _FAILURES:
            raise _FAILURES[package]
        hook = _DECLARED.get(package, ((), None))[1]
        if hook is not None:
            hook(emulator)

    workspaces = [d.workspace for d in _DEPLOYMENTS.values()]
    run = Run(workspaces, env=emulator.env(), tolerated=is_tolerated, before_package=seed, review=False)
    _RUN.append(run)
    for package in wanted:
        _UNSETTLED[package] = {node for node in run.nodes if node.package == package}
        if not _UNSETTLED[package]:
            _READY[package].set()
    thread = threading.Thread(target=_lifecycle, args=(run,), name="emulator-lifecycle", daemon=True)
    _LIFECYCLE.append(thread)
    thread.start()


def destroy_deployed() -> list[str]:
    """Let every stack be destroyed (no test is left to wait for), wait for it; return the problems:
    drift, failed destroys and tagged resources left in the emulator."""
    for event in _TESTS_DONE.values():
        event.set()
    for thread in _LIFECYCLE:
        thread.join()
    problems: list[str] = []
    for package, deployment in _DEPLOYMENTS.items():
        problems.extend(f"{package}: drift {line}" for line in deployment.drift)
    problems.extend(f"{node}: destroy failed: {result}" for node, result in _DESTROYED.items() if result is not None)
    for package, deployment in _DEPLOYMENTS.items():
        problems.extend(f"{package}: left {arn}" for arn in deployment.leftovers())
        deployment.workspace.discard()
    return problems


def refusals() -> dict[str, list[str]]:
    """Package -> what the engine said when the package was deployed alone before its producers
    (only packages that read another package's outputs; an empty list: it was not refused)."""
    return dict(_REFUSALS)


def verified_plans() -> dict[StackId, StackPlan]:
    """Each deployed stack's plan right after its apply (what ``nox -s plan`` would show then)."""
    return {node: outcome.verified for run in _RUN for node, outcome in run.outcomes.items() if outcome.verified}


def deployed(package: str) -> Deployment:
    """The deployment of ``package``; raises what its synthesis or deployment raised."""
    ready = _READY.get(package)
    if ready is not None and not ready.wait(WAIT_S):
        raise TimeoutError(f"{package} was not deployed within {WAIT_S} s")
    if package in _FAILURES:
        raise _FAILURES[package]
    if package not in _DEPLOYMENTS:
        raise LookupError(f"{package} was not deployed: declare it with deployment_fixture()")
    return _DEPLOYMENTS[package]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The session's moto server with every declared package deployed and IAM enforced; all are
    destroyed and the emulator is checked empty before it stops."""
    server = Emulator()
    state_root = Path(tempfile.mkdtemp(prefix="emulator-state-"))  # shared: packages read each other's state
    problems: list[str] = []
    failed: list[str] = []
    try:
        server.enforce_iam(True)  # the operator and Terraform are never authorized: see moto_launcher
        deploy_declared(server, state_root)
        yield server
    finally:
        try:
            problems = destroy_deployed()
            record(server, _DEPLOYMENTS)
        finally:
            failed = sorted(_FAILURES)
            for found in (_DEPLOYMENTS, _FAILURES, _REFUSALS, _READY, _UNSETTLED, _USERS, _TESTS_DONE, _DESTROYED):
                found.clear()
            _RUN.clear()
            _LIFECYCLE.clear()
            server.stop()
    noted = server_lines(server.log)
    NOTES.extend(noted)
    errors = any(SERVER_ERROR.match(line.removeprefix("emulator: ")) for line in noted)
    if failed or problems or errors:  # what the server logged (a request dropped, an error) may tell why
        why = "the server answered a request with an error (its traceback is in the log)"
        if failed or problems:
            why = f"{', '.join(failed)} failed to deploy" if failed else "changes or resources were left"
        # Printed by the plugin's terminal summary: pytest captures what a fixture's teardown prints.
        NOTES.append(f"emulator: {why}; the server's log is kept: {server.log}")
    else:
        shutil.rmtree(server.log.parent, ignore_errors=True)
    assert not problems, "planned changes after apply, or resources left after destroy:\n" + "\n".join(problems)
    shutil.rmtree(state_root, ignore_errors=True)  # everything was destroyed


def server_lines(log: Path, limit: int = 20) -> list[str]:
    """The server log's own lines (:mod:`.moto_requests`: requests sent again, server errors,
    slow requests, dropped connections), at most ``limit`` of them and a count of the rest: kept
    in the run's summary even when it passes, since each one is an answer lost, an error retried
    or a request the emulator struggled with."""
    found = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.startswith(LINE_PREFIX)]
    shown = [f"emulator: {line.removeprefix(LINE_PREFIX)}" for line in found[:limit]]
    if len(found) > limit:
        shown.append(f"emulator: {len(found) - limit} more lines of the server (its log {log})")
    return shown


def deployment_fixture(
    package: str, *, requires: tuple[str, ...] = (), seed: Callable[[Emulator], None] | None = None
) -> Any:
    """Declare ``package`` for the emulator session and return its ``deployment`` fixture.

    ``requires``: packages deployed first (their published outputs are read through remote state).
    ``seed`` prepares what an operator would have created before deploying (an existing secret).
    The deployment is destroyed, and the emulator checked empty, at the end of the session.
    """
    _DECLARED[package] = (requires, seed)
    caller = inspect.currentframe()
    declaring = caller.f_back.f_globals.get("__file__") if caller and caller.f_back else None
    if declaring:  # the conftest declaring it: the tests in its folder may use the package
        _DECLARED_IN.setdefault(package, set()).add(Path(declaring).resolve().parent)

    @pytest.fixture(scope="session")
    def deployment(emulator: Emulator) -> Deployment:
        return deployed(package)

    return deployment
