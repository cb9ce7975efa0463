"""The emulator rung of the ladder: apply each package to moto, re-plan for drift, test, destroy.

One moto server per test session, in its own process (:mod:`.moto_launcher`) on 127.0.0.1 and a
free port, started and stopped by the session fixture :func:`emulator`. Every package whose
``deployment`` fixture was collected is prepared from the synthesis cache for the
:data:`EMULATOR` target (:class:`.deployment.Deployment`), applied as soon as the packages it
requires are up (stacks and packages in parallel), re-planned with ``-detailed-exitcode`` (any
change not in :data:`TOLERATED_DRIFT` fails) and its outputs written to
``cfn-outputs/flat-outputs.json``. Then IAM is enforced (:meth:`Emulator.enforce_iam`) while the
integration tests run, so that what they do as a deployed role
(``deployment.client(..., as_role=...)``, :func:`.roles.run_handler`) is authorized against that
role's policies. Finally every package is destroyed after the packages that read it, and the
emulator is checked to hold none of its tagged resources. Where the time went is in
:data:`TIMINGS` (:mod:`.emulator_timings`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest

from platform_tooling.testing.deployment import Deployment, run_graph, slots
from platform_tooling.testing.emulator_tables import EMULATOR, TOLERATED_DRIFT
from platform_tooling.testing.emulator_timings import TIMINGS, record
from platform_tooling.testing.moto_launcher import OPERATOR_ACCESS_KEY, OPERATOR_SESSION

__all__ = ["EMULATOR", "TIMINGS", "TOLERATED_DRIFT", "Deployment", "Emulator", "deployment_fixture", "emulator"]

# The operator's credentials: the launcher never authorizes them (dummy values, not secrets).
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": OPERATOR_ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class Emulator:
    """The moto server process on 127.0.0.1 and a free port; stop it with :meth:`stop`."""

    def __init__(self, startup_timeout_s: float = 120) -> None:
        folder = Path(tempfile.mkdtemp(prefix="emulator-server-"))
        port_file = folder / "port"
        self.log = folder / "server.log"
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "1"}
        command = [sys.executable, "-m", "platform_tooling.testing.moto_launcher", "--port-file", str(port_file)]
        with self.log.open("w") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + startup_timeout_s
        while not port_file.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(self.log.read_text().splitlines()[-20:])
                raise RuntimeError(f"the emulator did not start (log {self.log}):\n{tail}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the server process (killed if it does not exit within 15 s)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _request(self, path: str, data: bytes | None = None) -> bytes:
        # The URL is always this emulator's own http://127.0.0.1 endpoint.
        request = urllib.request.Request(  # noqa: S310
            f"{self.endpoint}{path}",
            data=data,
            method="POST" if data else "GET",
            headers={"Content-Type": "text/plain"},  # a form type would hide the body from moto
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return bytes(answer.read())

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far."""
        times = psutil.Process(self._process.pid).cpu_times()
        return float(times.user + times.system)

    def enforce_iam(self, enabled: bool) -> None:
        """Authorize every request not signed by the operator against its caller's policies."""
        self._request("/moto-api/reset-auth", b"0" if enabled else b"inf")

    def server_timings(self) -> dict[str, dict[str, float]]:
        """Requests and handling time per Terraform call tag (``other``: tests and harness)."""
        found: dict[str, dict[str, float]] = json.loads(self._request("/platform/timings"))
        return found

    def env(self) -> dict[str, str]:
        """Environment variables that point Terraform (and AWS SDKs) at the emulator as the operator."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_EC2_METADATA_DISABLED": "true", **_CREDENTIALS}

    def credentials(self, role_arn: str, region: str = "us-east-1", session_name: str = "integration-test") -> Any:
        """Temporary credentials of ``role_arn`` (AssumeRole by the operator), authorized against
        the role's policies while IAM is enforced."""
        sts = self.session(region).client("sts", endpoint_url=self.endpoint)
        return sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]

    def session(
        self, region: str = "us-east-1", role_arn: str | None = None, *, as_role: bool = False
    ) -> boto3.Session:
        """A boto3 session on the emulator: the operator's; with ``role_arn``, the operator acting
        through that role (another account's deployment role: never authorized); with
        ``as_role=True`` as well, that role itself (authorized against its policies)."""
        if role_arn is None:
            return boto3.Session(
                aws_access_key_id=_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=_CREDENTIALS["AWS_SESSION_TOKEN"],
                region_name=region,
            )
        creds = self.credentials(role_arn, region, "integration-test" if as_role else OPERATOR_SESSION)
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )

    def client(
        self, service: str, region: str = "us-east-1", role_arn: str | None = None, *, as_role: bool = False
    ) -> Any:
        """A boto3 client on the emulator (see :meth:`session`)."""
        return self.session(region, role_arn, as_role=as_role).client(service, endpoint_url=self.endpoint)


_DEPLOYMENTS: dict[str, Deployment] = {}
_FAILURES: dict[str, BaseException] = {}
_DECLARED: dict[str, tuple[tuple[str, ...], Callable[[Emulator], None] | None]] = {}


def _requires(package: str) -> tuple[str, ...]:
    return _DECLARED.get(package, ((), None))[0]


def deploy_declared(emulator: Emulator, state_root: Path) -> None:
    """Deploy every package whose ``deployment`` fixture was collected: every stack's init starts
    at once, each package applies as soon as the packages it requires are applied (independent
    packages in parallel), and each re-plans for drift right after its own apply."""
    wanted: list[str] = []
    pending = list(_DECLARED)
    while pending:
        package = pending.pop(0)
        if package not in wanted:
            wanted.append(package)
            pending.extend(_requires(package))
    for package in wanted:  # synthesis (when the cache is stale) stays on the main thread
        try:
            _DEPLOYMENTS[package] = Deployment.prepare(emulator, package, state_root)
        except Exception as exc:  # recorded: that package's tests report it
            _FAILURES[package] = exc
    with ThreadPoolExecutor(max_workers=slots()) as inits, ThreadPoolExecutor(max_workers=len(wanted)) as plans:
        for deployment in _DEPLOYMENTS.values():
            deployment.start_init(inits)
        replans: dict[str, Future[None]] = {}

        def apply(package: str) -> None:
            """Apply ``package``; its dependents start now, while its re-plan runs beside them."""
            if package in _FAILURES:
                raise _FAILURES[package]
            seed = _DECLARED.get(package, ((), None))[1]
            if seed is not None:
                seed(emulator)
            _DEPLOYMENTS[package].apply()
            replans[package] = plans.submit(_DEPLOYMENTS[package].replan)

        for package, result in run_graph(wanted, {p: _requires(p) for p in wanted}, apply).items():
            if isinstance(result, BaseException):
                _FAILURES.setdefault(package, result)
        for package, future in replans.items():
            error = future.exception()
            if error is not None:
                _FAILURES.setdefault(package, error)


def destroy_deployed() -> list[str]:
    """Destroy every prepared package after the packages that require it; return the problems."""
    problems: list[str] = []
    names = list(_DEPLOYMENTS)
    readers = {name: [n for n in names if name in _requires(n)] for name in names}

    def destroy(package: str) -> None:
        deployment = _DEPLOYMENTS[package]
        problems.extend(f"{package}: drift {line}" for line in deployment.drift)
        problems.extend(f"{package}: left {arn}" for arn in deployment.destroy())
        shutil.rmtree(deployment.outdir, ignore_errors=True)

    for package, result in run_graph(names, readers, destroy).items():
        if isinstance(result, BaseException):
            problems.append(f"{package}: destroy failed: {result}")
    return problems


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
