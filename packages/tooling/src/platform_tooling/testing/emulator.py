"""The emulator rung of the ladder: apply each package to moto, re-plan for drift, test, destroy.

One moto server per test session on 127.0.0.1 and a free port. For each package the harness
synthesizes the app for the :data:`EMULATOR` target (the one mechanism that leaves out what the
emulator cannot create) and with state in a temporary folder, applies every stack in dependency
order, plans again with ``-detailed-exitcode`` (any change not in :data:`TOLERATED_DRIFT` fails),
writes ``cfn-outputs/flat-outputs.json``, lets the package's integration tests run, then destroys
and checks that the emulator holds none of the package's tagged resources.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from platform_tooling.synth import SynthResult
from platform_tooling.testing.emulator_tables import EMULATOR, TOLERATED_DRIFT, untolerated_drift
from platform_tooling.testing.synthesis import package_for
from platform_tooling.testing.terraform import Terraform, base_env

__all__ = ["EMULATOR", "TOLERATED_DRIFT", "Deployment", "Emulator", "deployment_fixture", "emulator"]

# moto accepts any credentials; these are the conventional dummy values, not secrets.
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _register_missing_calls() -> None:
    """Answer the calls moto lacks that the provider needs (valid empty answers)."""
    from moto.securityhub.responses import SecurityHubResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: Any) -> str:
        return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

    def list_state_machine_versions(self: Any) -> str:
        return json.dumps({"stateMachineVersions": []})

    def update_security_hub_configuration(self: Any) -> str:
        return "{}"

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]
    SecurityHubResponse.update_security_hub_configuration = update_security_hub_configuration  # type: ignore[attr-defined]


class Emulator:
    """A moto server on 127.0.0.1 and a free port; stop it with :meth:`stop`."""

    def __init__(self) -> None:
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")
        from moto.server import ThreadedMotoServer

        _register_missing_calls()
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def env(self) -> dict[str, str]:
        """Environment variables that point Terraform (and AWS SDKs) at the emulator."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_EC2_METADATA_DISABLED": "true", **_CREDENTIALS}

    def session(self, region: str = "us-east-1", role_arn: str | None = None) -> boto3.Session:
        """A boto3 session on the emulator, optionally as another account's role."""
        base = boto3.Session(
            aws_access_key_id=_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=region,
        )
        if role_arn is None:
            return base
        creds = base.client("sts", endpoint_url=self.endpoint).assume_role(
            RoleArn=role_arn, RoleSessionName="emulator-check"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )

    def client(self, service: str, region: str = "us-east-1", role_arn: str | None = None) -> Any:
        return self.session(region, role_arn).client(service, endpoint_url=self.endpoint)


def _providers(stack: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = stack.get("provider", {}).get("aws", [])
    return blocks if isinstance(blocks, list) else [blocks]


def _override(stack: dict[str, Any]) -> dict[str, Any]:
    """Provider settings for the emulator only, merged by Terraform from an override file."""
    common = {
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "s3_use_path_style": True,
        "max_retries": 3,
    }
    return {
        "provider": {"aws": [{**({"alias": p["alias"]} if "alias" in p else {}), **common} for p in _providers(stack)]}
    }


def _dependencies(outdir: Path) -> dict[str, list[str]]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: list(info.get("dependencies", [])) for name, info in manifest.get("stacks", {}).items()}


def _order(outdir: Path, stacks: dict[str, Any]) -> list[str]:
    deps = _dependencies(outdir)
    ordered: list[str] = []
    while len(ordered) < len(stacks):
        ready = sorted(n for n in stacks if n not in ordered and all(d in ordered for d in deps.get(n, [])))
        if not ready:
            raise RuntimeError(f"stack dependency cycle among {sorted(set(stacks) - set(ordered))}")
        ordered.extend(ready)
    return ordered


@dataclass
class Deployment:
    """One package deployed on the emulator."""

    package: str
    emulator: Emulator
    result: SynthResult
    state_dir: Path
    order: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)
    deps: dict[str, list[str]] = field(default_factory=dict)
    initialised: list[str] = field(default_factory=list)

    def terraform(self, stack: str) -> Terraform:
        return Terraform(self.result.outdir / "stacks" / stack, base_env(self.emulator.env()), timeout_s=1500)

    def client(self, service: str, region: str | None = None, role_arn: str | None = None) -> Any:
        """A boto3 client on the emulator (default region: the package's first stack's provider region)."""
        region = region or _providers(self.result.stacks[self.order[0]])[0].get("region", "us-east-1")
        return self.emulator.client(service, region, role_arn)

    def _waves(self, names: list[str]) -> list[list[str]]:
        """``names`` grouped so that each group depends only on earlier groups."""
        waves: list[list[str]] = []
        placed: set[str] = set()
        while len(placed) < len(names):
            wave = [n for n in names if n not in placed and all(d in placed for d in self.deps.get(n, []))]
            waves.append(wave)
            placed.update(wave)
        return waves

    def _apply(self, name: str) -> dict[str, Any]:
        stack_dir = self.result.outdir / "stacks" / name
        (stack_dir / "emulator_override.tf.json").write_text(json.dumps(_override(self.result.stacks[name])))
        tf = self.terraform(name)
        tf.init()
        self.initialised.append(name)
        tf.apply()
        return tf.outputs()

    def deploy(self) -> None:
        """Apply every stack (independent stacks in parallel), re-plan each for drift, write outputs."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as pool:
            for wave in self._waves(self.order):
                for outputs in pool.map(self._apply, wave):
                    self.outputs.update(outputs)
        self.timings["apply_s"] = time.monotonic() - started
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as pool:
            for name, plan in zip(
                self.order, pool.map(lambda n: self.terraform(n).plan_changes(), self.order), strict=True
            ):
                if plan is not None:
                    self.drift.extend(f"{name}: {line}" for line in untolerated_drift(plan))
        self.timings["replan_s"] = time.monotonic() - started
        target = self.result.package.directory / "cfn-outputs"
        target.mkdir(exist_ok=True)
        (target / "flat-outputs.json").write_text(json.dumps(self.outputs, indent=2, sort_keys=True) + "\n")

    def destroy(self) -> list[str]:
        """Destroy every initialised stack (dependents first); return what the emulator still holds."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as pool:
            for wave in reversed(self._waves([n for n in self.order if n in self.initialised])):
                list(pool.map(lambda n: self.terraform(n).destroy(), wave))
        self.timings["destroy_s"] = time.monotonic() - started
        return self.leftovers()

    def leftovers(self) -> list[str]:
        """Resources tagged ``Package=<package>`` still in the emulator (KMS keys pending deletion excepted)."""
        found = []
        seen: set[tuple[str, str | None]] = set()
        for stack in self.result.stacks.values():
            for provider in _providers(stack):
                role = (provider.get("assume_role") or [{}])[0].get("role_arn")
                key = (provider["region"], role)
                if key in seen:
                    continue
                seen.add(key)
                tagging = self.emulator.client("resourcegroupstaggingapi", provider["region"], role)
                kms = self.emulator.client("kms", provider["region"], role)
                pages = tagging.get_paginator("get_resources").paginate(
                    TagFilters=[{"Key": "Package", "Values": [self.package]}]
                )
                for page in pages:
                    for item in page["ResourceTagMappingList"]:
                        arn = item["ResourceARN"]
                        if ":vpc-peering-connection/" in arn:
                            # AWS (and moto) list deleted peering connections for a while.
                            ec2 = self.emulator.client("ec2", provider["region"], role)
                            connections = ec2.describe_vpc_peering_connections(
                                VpcPeeringConnectionIds=[arn.rsplit("/", 1)[1]]
                            )["VpcPeeringConnections"]
                            if all(
                                p["Status"]["Code"] in ("deleted", "rejected", "failed", "expired") for p in connections
                            ):
                                continue
                        if ":cluster-snapshot:rds:" in arn:
                            continue  # automated Aurora snapshots outlive the cluster (AWS keeps them too)
                        if ":kms:" in arn and ":key/" in arn:
                            state = kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]
                            if state == "PendingDeletion":
                                continue
                        found.append(arn)
        return sorted(found)


_DEPLOYMENTS: dict[str, Deployment] = {}
_FAILURES: dict[str, BaseException] = {}
_DECLARED: dict[str, tuple[tuple[str, ...], Callable[[Emulator], None] | None]] = {}
TIMINGS: dict[str, dict[str, float]] = {}
"""Seconds spent applying, re-planning and destroying each package, for the session summary."""
_STATE_ROOT = Path(tempfile.mkdtemp(prefix="emulator-state-"))  # shared: packages read each other's state


def prepare_package(emulator: Emulator, package: str) -> Deployment:
    """Synthesize ``package`` for the emulator (main thread only: jsii is not thread-safe)."""
    if package not in _DEPLOYMENTS:
        from platform_tooling.synth import synth_package

        outdir = Path(tempfile.mkdtemp(prefix=f"emulator-{package}-"))
        overrides = {"state": {"backend": "local", "local_dir": str(_STATE_ROOT)}}
        result = synth_package(package_for(package), overrides=overrides, outdir=outdir, target=EMULATOR)
        _DEPLOYMENTS[package] = Deployment(
            package,
            emulator,
            result,
            _STATE_ROOT,
            _order(result.outdir, result.stacks),
            deps=_dependencies(result.outdir),
        )
    return _DEPLOYMENTS[package]


def _deploy(emulator: Emulator, package: str) -> None:
    requires, seed = _DECLARED.get(package, ((), None))
    failed = [dep for dep in requires if dep in _FAILURES]
    if failed:
        raise RuntimeError(f"{package} needs {', '.join(failed)}, which failed to deploy")
    if seed is not None:
        seed(emulator)
    _DEPLOYMENTS[package].deploy()


def deploy_declared(emulator: Emulator, workers: int = 4) -> None:
    """Deploy every package whose ``deployment`` fixture was collected, in waves: a package starts
    when the packages it requires are up; independent packages apply in parallel."""
    wanted: list[str] = []
    pending = list(_DECLARED)
    while pending:
        package = pending.pop(0)
        if package not in wanted:
            wanted.append(package)
            pending.extend(_DECLARED.get(package, ((), None))[0])
    for package in wanted:
        try:
            prepare_package(emulator, package)
        except Exception as exc:  # recorded: that package's tests report it
            _FAILURES[package] = exc
    done = set(_FAILURES)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while len(done) < len(wanted):
            wave = [p for p in wanted if p not in done and all(d in done for d in _DECLARED.get(p, ((), None))[0])]
            futures = {p: pool.submit(_deploy, emulator, p) for p in wave}
            for package, future in futures.items():
                error = future.exception()
                if error is not None:
                    _FAILURES[package] = error
                done.add(package)


def _dependency_order() -> list[Deployment]:
    """Prepared deployments, every package after the packages it requires."""
    ordered: list[str] = []

    def visit(package: str) -> None:
        if package in ordered or package not in _DEPLOYMENTS:
            return
        for dependency in _DECLARED.get(package, ((), None))[0]:
            visit(dependency)
        ordered.append(package)

    for package in list(_DEPLOYMENTS):
        visit(package)
    return [_DEPLOYMENTS[p] for p in ordered]


def deployed(package: str) -> Deployment:
    """The deployment of ``package``; raises what its synthesis or deployment raised."""
    if package in _FAILURES:
        raise _FAILURES[package]
    if package not in _DEPLOYMENTS:
        raise LookupError(f"{package} was not deployed: declare it with deployment_fixture()")
    return _DEPLOYMENTS[package]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The session's moto server with every declared package deployed; all are destroyed (in
    reverse order) and the emulator is checked empty before it stops."""
    server = Emulator()
    problems: list[str] = []
    try:
        deploy_declared(server)
        yield server
    finally:
        try:
            for deployment in reversed(_dependency_order()):
                problems.extend(f"{deployment.package}: drift {line}" for line in deployment.drift)
                try:
                    problems.extend(f"{deployment.package}: left {arn}" for arn in deployment.destroy())
                except Exception as exc:
                    problems.append(f"{deployment.package}: destroy failed: {exc}")
                print(
                    f"\nemulator {deployment.package}: "
                    + ", ".join(f"{k} {v:.0f} s" for k, v in deployment.timings.items())
                )
        finally:
            _DEPLOYMENTS.clear()
            _FAILURES.clear()
            server.stop()
    assert not problems, "planned changes after apply, or resources left after destroy:\n" + "\n".join(problems)


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
