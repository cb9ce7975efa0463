"""Session fixtures: the package synthesized once with config/dev.toml (and once as on the emulator)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.targets import apply_target
from platform_tooling.testing.emulator_tables import EMULATOR

PACKAGE = "payments-multiregion"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
SHORT = {"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}


@pytest.fixture(scope="session")
def result(synth: Callable[..., SynthResult]) -> SynthResult:
    return synth(PACKAGE)


@pytest.fixture(scope="session")
def stacks(result: SynthResult) -> dict[str, dict[str, Any]]:
    return result.stacks


@pytest.fixture(scope="session")
def prod_stacks(synth: Callable[..., SynthResult]) -> dict[str, dict[str, Any]]:
    """The stacks of config/prod.toml (synthesis is cached per environment by the platform)."""
    return synth(PACKAGE, environment="prod").stacks


@pytest.fixture(scope="session")
def emulator_stacks(result: SynthResult) -> dict[str, dict[str, Any]]:
    """The stacks as the emulator harness deploys them (its target profile applied)."""
    return apply_target(EMULATOR, result.stacks).stacks


def data_key(stack: dict[str, Any]) -> str:
    """Terraform name of the regional data key (found through its alias)."""
    aliases = [a for a in stack["resource"]["aws_kms_alias"].values() if a["name"].startswith("alias/payments-data-")]
    assert len(aliases) == 1
    return str(aliases[0]["target_key_id"]).split(".")[1]
