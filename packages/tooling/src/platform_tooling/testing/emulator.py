"""The emulator rung of the ladder: deploy every declared package to moto, test, destroy.

One moto server per test session, in its own process (:class:`platform_tooling.deploy.emulator.Emulator`)
on 127.0.0.1 and a free port, started and stopped by the session fixture :func:`emulator`. Every
package whose ``deployment`` fixture was collected is prepared from the synthesis cache for the
emulator target (:class:`.deployment.Deployment`) and deployed through the deployment engine
(:class:`platform_tooling.deploy.engine.Run`), with every plan approved in advance: each stack as
soon as the stacks it depends on and the stacks whose outputs it reads are applied (in parallel
across packages, the longest chain of work first), planned and applied by one ``terraform
apply``, then planned again (any change not in :data:`TOLERATED_DRIFT` fails) while the stacks
after it go on. ``nox -s deploy`` applies a saved plan after its review instead; the engine's
tests cover that path (Terraform's own ``terraform_data``, no provider). Before that,
each package that reads another package's outputs is deployed alone on the empty emulator and
must be refused (:func:`refusals`). Outputs go to ``cfn-outputs/flat-outputs.json``. Then IAM is
enforced (:meth:`Emulator.enforce_iam`) while the integration tests run, so that what they do as
a deployed role (``deployment.client(..., as_role=...)``, :func:`.roles.run_handler`) is
authorized against that role's policies. Finally every stack is destroyed after the stacks that
read it, and the emulator is checked to hold none of the packages' tagged resources. Where the
time went is in :data:`TIMINGS` (:mod:`.emulator_timings`).
"""

from __future__ import annotations

import shutil
import tempfile
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
from platform_tooling.testing.emulator_timings import TIMINGS, record

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
_REFUSALS: dict[str, list[str]] = {}
_RUN: list[Run] = []


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


def _record(run: Run, results: dict[StackId, Any]) -> None:
    """Per package: failures, outputs (and ``flat-outputs.json``), drift and timings."""
    for node, result in results.items():
        if isinstance(result, BaseException):
            _FAILURES.setdefault(node.package, RuntimeError(f"stack {node.stack}: {result}"))
    for package, deployment in _DEPLOYMENTS.items():
        nodes = [n for n in run.nodes if n.package == package]
        outcomes = [run.outcomes[n] for n in nodes]
        deployment.outputs = run.flat_outputs(package)
        if package not in _FAILURES:
            run.write_outputs(package)
        for node, outcome in zip(nodes, outcomes, strict=True):
            if outcome.verified is not None:
                deployment.drift.extend(f"{node.stack}: {c.line()}" for c in outcome.verified.changes)
        started = [o.started for o in outcomes if o.started]
        if started:
            deployment.timings["apply_s"] = max(o.done for o in outcomes) - min(started)
        spans = [o.verify_span for o in outcomes if o.verify_span[1]]
        if spans:
            deployment.timings["replan_s"] = max(end for _, end in spans) - min(start for start, _ in spans)


def deploy_declared(emulator: Emulator, state_root: Path) -> None:
    """Deploy every package whose ``deployment`` fixture was collected (and what they require)
    through the deployment engine, each stack re-planned for drift right after its apply."""
    wanted = _wanted()
    for package in wanted:  # synthesis (when the cache is stale) stays on the main thread
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
    try:
        results = run.deploy(lambda plan: True, verify=True)
    except Refused as exc:  # a producer outside the session: every package's tests report it
        results = {node: exc for node in run.nodes}
    _record(run, results)


def destroy_deployed() -> list[str]:
    """Destroy every stack that was deployed after the stacks that read it; return the problems."""
    problems: list[str] = []
    for package, deployment in _DEPLOYMENTS.items():
        problems.extend(f"{package}: drift {line}" for line in deployment.drift)
    for run in _RUN:
        started = [node for node in run.nodes if run.outcomes[node].started]
        # The re-plan just refreshed every resource, so destroy does not refresh again.
        for node, result in run.destroy(started, refresh=False).items():
            if isinstance(result, BaseException):
                problems.append(f"{node}: destroy failed: {result}")
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
    try:
        deploy_declared(server, state_root)
        server.enforce_iam(True)
        yield server
    finally:
        try:
            server.enforce_iam(False)
            problems = destroy_deployed()
            record(server, _DEPLOYMENTS)
        finally:
            _DEPLOYMENTS.clear()
            _FAILURES.clear()
            _REFUSALS.clear()
            _RUN.clear()
            server.stop()
    assert not problems, "planned changes after apply, or resources left after destroy:\n" + "\n".join(problems)
    # Everything was destroyed: the state files and the server's log have served their purpose.
    shutil.rmtree(state_root, ignore_errors=True)
    shutil.rmtree(server.log.parent, ignore_errors=True)


def deployment_fixture(
    package: str, *, requires: tuple[str, ...] = (), seed: Callable[[Emulator], None] | None = None
) -> Any:
    """Declare ``package`` for the emulator session and return its ``deployment`` fixture.

    ``requires``: packages deployed first (their published outputs are read through remote state).
    ``seed`` prepares what an operator would have created before deploying (an existing secret).
    The deployment is destroyed, and the emulator checked empty, at the end of the session.
    """
    _DECLARED[package] = (requires, seed)

    @pytest.fixture(scope="session")
    def deployment(emulator: Emulator) -> Deployment:
        return deployed(package)

    return deployment
