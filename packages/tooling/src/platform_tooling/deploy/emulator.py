"""The emulator: moto in its own process on 127.0.0.1 and a free port, as strict as AWS on what we send.

:class:`Emulator` starts the server (:mod:`platform_tooling.testing.moto_launcher`) and gives
Terraform and boto3 what they need to reach it as the operator. ``nox -s plan|deploy -- ...
--target emulator`` starts one for the run; the emulator rung starts one per test session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import psutil

from platform_tooling.testing.moto_launcher import OPERATOR_ACCESS_KEY, OPERATOR_SESSION

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
