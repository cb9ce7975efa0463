"""One app package on the emulator: its workspace, outputs, drift and the clients its tests use.

The harness does not synthesize again: :meth:`Deployment.prepare` copies what the synthesis
cache holds for the package's dev environment into a throwaway workspace for the emulator
target (:meth:`platform_tooling.deploy.workspace.Workspace.for_emulator`). The deployment
itself goes through the deployment engine with every other package of the session
(:mod:`platform_tooling.testing.emulator`), as ``nox -s deploy`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_tooling.deploy.workspace import Workspace
from platform_tooling.testing.leftovers import leftovers
from platform_tooling.testing.synthesis import package_for

if TYPE_CHECKING:
    from platform_tooling.deploy.emulator import Emulator


@dataclass
class Deployment:
    """One package on the emulator: its workspace, outputs, timings and drift."""

    package: str
    emulator: Emulator
    workspace: Workspace
    outputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)
    """Changes planned after the apply that are not the emulator's tolerated drift."""

    @property
    def outdir(self) -> Path:
        """The workspace folder (``stacks/<stack>/``)."""
        return self.workspace.folder

    @property
    def stacks(self) -> dict[str, dict[str, Any]]:
        return self.workspace.stacks

    @property
    def directory(self) -> Path:
        """The package's folder (``packages/<name>``, or the reference example's)."""
        return self.workspace.directory

    @property
    def region(self) -> str:
        """The region of the package's first stack's default provider."""
        first = self.stacks[sorted(self.stacks)[0]].get("provider", {}).get("aws", [{}])
        return str((first if isinstance(first, list) else [first])[0].get("region", "us-east-1"))

    @classmethod
    def prepare(cls, emulator: Emulator, package: str, state_root: Path) -> Deployment:
        """The package's dev synthesis in a throwaway workspace for the emulator. Main thread only."""
        started = time.monotonic()
        workspace = Workspace.for_emulator(package_for(package), environment="dev", state_root=state_root)
        deployment = cls(package, emulator, workspace)
        deployment.timings["synthesis_s"] = time.monotonic() - started
        return deployment

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

    def run_handler(
        self, function: str, event: Any, *, folder: str, region: str | None = None, role_arn: str | None = None
    ) -> Any:
        """Run the handler in ``lambdas/<folder>/`` as the deployed ``function`` and its role
        (:func:`platform_tooling.testing.roles.run_handler`); return what the handler returned.
        ``role_arn``: the deployment role of the function's account when it is another account."""
        from platform_tooling.testing.roles import run_handler

        return run_handler(self, function, event, folder=folder, region=region, role_arn=role_arn).result

    def leftovers(self) -> list[str]:
        """Resources tagged with this package still in the emulator, in every account and region
        its stacks use (KMS keys pending deletion, deleted peerings and automated snapshots aside)."""
        return leftovers(self.emulator, self.package, self.stacks.values())
