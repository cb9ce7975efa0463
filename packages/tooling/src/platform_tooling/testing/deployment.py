"""One app package on the emulator: prepared from the synthesis cache, applied, re-planned, destroyed.

The harness does not synthesize again: it copies what the synthesis cache holds for the
package's dev environment (:mod:`platform_tooling.cache`; synthesized now only if stale) into a
working folder, applies the emulator's target profile to the JSON
(:data:`~platform_tooling.testing.emulator_tables.EMULATOR`), and writes an override file per stack
with what only the emulator needs: provider settings, and state kept in the session's own folder
(backend and every remote-state read). The product's configuration is otherwise applied as
synthesized.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from platform_tooling.synth import read_stacks, synthesized
from platform_tooling.targets import apply_target
from platform_tooling.testing.emulator_tables import EMULATOR, untolerated_drift
from platform_tooling.testing.leftovers import leftovers
from platform_tooling.testing.synthesis import package_for
from platform_tooling.testing.terraform import Terraform, base_env

if TYPE_CHECKING:
    from platform_tooling.testing.emulator import Emulator


def slots() -> int:
    """Terraform processes side by side: they mostly wait on the provider, so a few per core."""
    return 3 * (os.cpu_count() or 2) + 2


_SLOTS = threading.BoundedSemaphore(slots())


def run_graph(names: Iterable[str], deps: Mapping[str, Iterable[str]], work: Callable[[str], Any]) -> dict[str, Any]:
    """Run ``work`` on every name as soon as the names it depends on are done (in parallel).

    Returns each name's result or the exception it raised; a name whose dependency failed is
    not run and gets a ``RuntimeError`` saying which.
    """
    todo = list(dict.fromkeys(names))
    nodes = set(todo)
    results: dict[str, Any] = {}
    running: dict[Future[Any], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        while todo or running:
            for name in [n for n in todo if all(d in results or d not in nodes for d in deps.get(n, ()))]:
                failed = [d for d in deps.get(name, ()) if isinstance(results.get(d), BaseException)]
                todo.remove(name)
                if failed:
                    results[name] = RuntimeError(f"{name} needs {', '.join(failed)}, which failed")
                else:
                    running[pool.submit(work, name)] = name
            if not running:
                if todo:
                    raise RuntimeError(f"dependency cycle among {', '.join(sorted(todo))}")
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                error = future.exception()
                results[name] = error if error is not None else future.result()
    return results


def _tail(path: str) -> str:
    """``<package>/<suffix>/<stack>.tfstate`` of a state path or key."""
    return "/".join(PurePosixPath(path).parts[-3:])


def emulator_override(stack: Mapping[str, Any], state_root: Path) -> dict[str, Any]:
    """What only the emulator needs, merged by Terraform from ``emulator_override.tf.json``:
    provider settings that spare the emulator's endpoint checks and fail fast on a missing API,
    and the backend and remote-state reads moved to the session's state folder."""
    common = {"skip_credentials_validation": True, "skip_metadata_api_check": "true", "s3_use_path_style": True}
    common["max_retries"] = 3
    blocks = stack.get("provider", {}).get("aws", [])
    providers = blocks if isinstance(blocks, list) else [blocks]
    override: dict[str, Any] = {
        "provider": {"aws": [{**({"alias": p["alias"]} if "alias" in p else {}), **common} for p in providers]}
    }
    backend = stack.get("terraform", {}).get("backend", {})
    for settings in backend.values():
        location = settings.get("path") or settings.get("key")
        override["terraform"] = {"backend": {"local": {"path": str(state_root / _tail(location))}}}
    reads = stack.get("data", {}).get("terraform_remote_state", {})
    for name, config in reads.items():
        location = config.get("config", {}).get("path") or config.get("config", {}).get("key")
        override.setdefault("data", {}).setdefault("terraform_remote_state", {})[name] = {
            "backend": "local",
            "config": {"path": str(state_root / _tail(location))},
        }
    return override


@dataclass
class Deployment:
    """One package on the emulator: its working folder, stacks, outputs, timings and drift."""

    package: str
    emulator: Emulator
    outdir: Path
    stacks: dict[str, dict[str, Any]]
    state_root: Path
    deps: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    _inits: dict[str, Future[None]] = field(default_factory=dict, repr=False)

    @property
    def directory(self) -> Path:
        """The package's folder (``packages/<name>``, or the reference example's)."""
        return package_for(self.package).directory

    @property
    def region(self) -> str:
        """The region of the package's first stack's default provider."""
        first = self.stacks[sorted(self.stacks)[0]].get("provider", {}).get("aws", [{}])
        return str((first if isinstance(first, list) else [first])[0].get("region", "us-east-1"))

    @classmethod
    def prepare(cls, emulator: Emulator, package: str, state_root: Path) -> Deployment:
        """Copy the cached dev synthesis into a working folder and apply the emulator's target.

        Main thread only: a stale cache entry is synthesized here, and jsii is not thread-safe.
        """
        started = time.monotonic()
        source, _ = synthesized(package_for(package), environment="dev")
        outdir = Path(tempfile.mkdtemp(prefix=f"emulator-{package}-"))
        shutil.copytree(source, outdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".terraform*", ".validated"))
        applied = apply_target(EMULATOR, read_stacks(outdir))
        for name, document in applied.stacks.items():
            folder = outdir / "stacks" / name
            (folder / "cdk.tf.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
            override = emulator_override(document, state_root)
            (folder / "emulator_override.tf.json").write_text(json.dumps(override, indent=2), encoding="utf-8")
        report = {EMULATOR.name: applied.report()}
        (outdir / "target-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        manifest = json.loads((outdir / "manifest.json").read_text())
        deps = {name: list(info.get("dependencies", [])) for name, info in manifest.get("stacks", {}).items()}
        deployment = cls(package, emulator, outdir, applied.stacks, state_root, deps=deps)
        deployment.timings["synthesis_s"] = time.monotonic() - started
        return deployment

    def terraform(self, stack: str) -> Terraform:
        return Terraform(self.outdir / "stacks" / stack, base_env(self.emulator.env()), timeout_s=1500)

    def _state_outputs(self, stack: str) -> dict[str, Any]:
        """The stack's outputs, read from the state file the apply just wrote (no extra call)."""
        override = json.loads((self.outdir / "stacks" / stack / "emulator_override.tf.json").read_text())
        state = json.loads(Path(override["terraform"]["backend"]["local"]["path"]).read_text())
        return {name: item.get("value") for name, item in state.get("outputs", {}).items()}

    def _init(self, stack: str) -> None:
        with _SLOTS:
            self.terraform(stack).init()

    def start_init(self, pool: Executor) -> None:
        """Start ``terraform init`` of every stack now (it needs nothing deployed); each apply
        waits for its own stack's init only."""
        self._inits = {stack: pool.submit(self._init, stack) for stack in sorted(self.stacks)}

    def _apply(self, stack: str) -> dict[str, Any]:
        init = self._inits.get(stack)
        if init is None:
            self._init(stack)
        else:
            init.result()
        with _SLOTS:
            self.applied.append(stack)
            self.terraform(stack).apply()
        return self._state_outputs(stack)

    def _replan(self, stack: str) -> list[str]:
        with _SLOTS:
            plan = self.terraform(stack).plan_changes()
        return [] if plan is None else [f"{stack}: {line}" for line in untolerated_drift(plan)]

    @staticmethod
    def _raise_first(results: Mapping[str, Any]) -> None:
        for name, result in results.items():
            if isinstance(result, BaseException):
                raise RuntimeError(f"stack {name}: {result}") from result

    def apply(self) -> None:
        """Apply every stack as soon as the stacks it reads are up; write
        ``cfn-outputs/flat-outputs.json``."""
        started = time.monotonic()
        applied = run_graph(sorted(self.stacks), self.deps, self._apply)
        self._raise_first(applied)
        for outputs in applied.values():
            self.outputs.update(outputs)
        self.timings["apply_s"] = time.monotonic() - started
        target = self.directory / "cfn-outputs"
        target.mkdir(exist_ok=True)
        (target / "flat-outputs.json").write_text(json.dumps(self.outputs, indent=2, sort_keys=True) + "\n")

    def replan(self) -> None:
        """Plan every stack again (in parallel); what is not tolerated drift goes to :attr:`drift`."""
        started = time.monotonic()
        replanned = run_graph(sorted(self.stacks), {}, self._replan)
        self._raise_first(replanned)
        self.drift.extend(line for name in sorted(replanned) for line in replanned[name])
        self.timings["replan_s"] = time.monotonic() - started

    def deploy(self) -> None:
        """Apply, then re-plan for drift."""
        self.apply()
        self.replan()

    def destroy(self) -> list[str]:
        """Destroy every applied stack after the stacks that read it; return what is left over.

        The re-plan just refreshed every resource, so destroy does not refresh again.
        """
        started = time.monotonic()
        readers = {name: [n for n in self.applied if name in self.deps.get(n, [])] for name in self.applied}

        def destroy(stack: str) -> None:
            with _SLOTS:
                self.terraform(stack).destroy(refresh=False)

        self._raise_first(run_graph(self.applied, readers, destroy))
        self.timings["destroy_s"] = time.monotonic() - started
        return self.leftovers()

    def client(
        self, service: str, region: str | None = None, role_arn: str | None = None, *, as_role: str | None = None
    ) -> Any:
        """A boto3 client on the emulator (default region: :attr:`region`): the operator's, or the
        operator's in another account through ``role_arn`` (its deployment role); with ``as_role``
        (a role ARN or the name of an output holding one) that deployed role itself, authorized
        against its policies while IAM is enforced."""
        if as_role is not None:
            role = str(self.outputs.get(as_role, as_role))
            return self.emulator.client(service, region or self.region, role, as_role=True)
        return self.emulator.client(service, region or self.region, role_arn)

    def run_handler(self, function: str, event: Any, *, folder: str, region: str | None = None) -> Any:
        """Run the handler in ``lambdas/<folder>/`` as the deployed ``function`` and its role
        (:func:`platform_tooling.testing.roles.run_handler`); return what the handler returned."""
        from platform_tooling.testing.roles import run_handler

        return run_handler(self, function, event, folder=folder, region=region).result

    def leftovers(self) -> list[str]:
        """Resources tagged with this package still in the emulator, in every account and region
        its stacks use (KMS keys pending deletion, deleted peerings and automated snapshots aside)."""
        return leftovers(self.emulator, self.package, self.stacks.values())
