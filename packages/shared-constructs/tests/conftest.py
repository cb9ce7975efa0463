from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.testing.synthesis import scratch_app
from shared_constructs.settings import BaseSettings
from shared_constructs.stack import PlatformStack


@pytest.fixture(scope="session")
def reference(synth) -> dict[str, Any]:
    """The reference example's one stack, synthesized once per session."""
    return synth("reference").stacks["reference"]


@pytest.fixture
def settings() -> BaseSettings:
    """Minimal valid settings (suffix ``dev``)."""
    return BaseSettings(
        environment="dev",
        environment_suffix="dev",
        cost_center="cc",
        owner="team",
        account_id="123456789012",
        deployer_role_arn="arn:aws:iam::123456789012:role/deployer",
    )


@pytest.fixture
def stack(settings: BaseSettings) -> PlatformStack[BaseSettings]:
    """A fresh stack ``t`` of package ``t`` in us-east-1, for constructs built in one test."""
    return PlatformStack(scratch_app(), "t", settings=settings, package="t", region="us-east-1")


@pytest.fixture
def synthesized() -> Callable[[PlatformStack[Any]], dict[str, Any]]:
    """``synthesized(stack)``: the stack's Terraform JSON."""
    from cdktf import Testing

    def _synth(stack: PlatformStack[Any]) -> dict[str, Any]:
        return json.loads(Testing.synth(stack))  # type: ignore[no-any-return]

    return _synth
