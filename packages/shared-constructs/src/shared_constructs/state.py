"""Terraform state: the backend of a stack, and reading another package's published outputs.

Local (default): ``<repository>/.state/<package>/<suffix>/<stack>.tfstate``, written relative to
the stack's folder (``packages/<package>/cdktf.out/stacks/<stack>``) so that synthesized output
holds no machine path and remote-state reads between packages work on one machine.

S3: bucket and region from settings, key ``<package>/<suffix>/<stack>.tfstate``, ``encrypt`` and
native S3 locking (``use_lockfile``, Terraform >= 1.10).
"""

from __future__ import annotations

import posixpath
from typing import overload

from shared_constructs.cdk import (
    Construct,
    DataTerraformRemoteStateLocal,
    DataTerraformRemoteStateS3,
    LocalBackend,
    S3Backend,
    TerraformStack,
)
from shared_constructs.contracts import Output, StackContract
from shared_constructs.settings import BaseSettings

_STACK_DIR_TO_REPO = "../../../../.."  # stacks/<stack> -> cdktf.out -> <package> -> packages -> repo


def state_key(package: str, suffix: str, stack: str) -> str:
    """The state object key of ``stack`` of ``package`` for environment ``suffix``."""
    return f"{package}/{suffix}/{stack}.tfstate"


def local_state_path(settings: BaseSettings, package: str, stack: str) -> str:
    """Where the local backend keeps the state of ``stack``, as written into the stack."""
    root = settings.state.local_dir or posixpath.join(_STACK_DIR_TO_REPO, ".state")
    return posixpath.join(root, state_key(package, settings.environment_suffix, stack))


def configure_backend(stack: TerraformStack, settings: BaseSettings, package: str, stack_name: str) -> None:
    """Attach the backend chosen by ``settings.state`` to ``stack``."""
    state = settings.state
    if state.backend == "local":
        LocalBackend(stack, path=local_state_path(settings, package, stack_name))
        return
    backend = S3Backend(
        stack,
        bucket=state.bucket or "",
        key=state_key(package, settings.environment_suffix, stack_name),
        region=state.region,
        encrypt=True,
        kms_key_id=state.kms_key_id,
    )
    backend.add_override("use_lockfile", True)


class RemoteOutputs(Construct):
    """The published outputs of another package's stack, read from its Terraform state.

    ``stack``: the producer's contract for that stack (:mod:`shared_constructs.contracts`). The
    same settings that choose this stack's backend choose the data source, so a consumer works
    unchanged against local state, the emulator or a team's S3 bucket.
    """

    def __init__(self, scope: Construct, id: str, *, settings: BaseSettings, stack: StackContract) -> None:
        super().__init__(scope, id)
        self.contract = stack
        package, name = stack.package, stack.stack
        state = settings.state
        if state.backend == "local":
            self._source: DataTerraformRemoteStateLocal | DataTerraformRemoteStateS3 = DataTerraformRemoteStateLocal(
                self, "state", path=local_state_path(settings, package, name)
            )
        else:
            self._source = DataTerraformRemoteStateS3(
                self,
                "state",
                bucket=state.bucket or "",
                key=state_key(package, settings.environment_suffix, name),
                region=state.region,
            )

    @overload
    def get(self, output: Output[str]) -> str: ...
    @overload
    def get(self, output: Output[list[str]]) -> list[str]: ...
    def get(self, output: Output[str] | Output[list[str]]) -> str | list[str]:
        """The value of ``output`` (a token resolved at plan time); the contract must declare it."""
        self.contract.check(output)
        if output.kind == "list":
            return self._source.get_list(output.name)
        return self._source.get_string(output.name)
