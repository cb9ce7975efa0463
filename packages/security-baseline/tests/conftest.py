"""Fixtures of the security-baseline tests: the synthesized stacks, once per session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult

PACKAGE = "security-baseline"
HOME = "us-east-1"
PLATFORM = "123456789012"
"""The deployer's account in config/dev.toml (``accounts.platform``)."""
ANALYTICS = "210987654321"
"""network-peering's analytics account in config/dev.toml (``accounts.analytics``, us-east-2 only)."""
REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")
ADOPTED_DETECTOR = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="session")
def stacks(synth: Callable[..., SynthResult]) -> dict[str, dict[str, Any]]:
    """dev.toml synthesized: stack name -> parsed cdk.tf.json."""
    return synth(PACKAGE).stacks


@pytest.fixture(scope="session")
def home(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return stacks[f"{PACKAGE}-{PLATFORM}-{HOME}"]


@pytest.fixture(scope="session")
def adopted(synth: Callable[..., SynthResult]) -> dict[str, dict[str, Any]]:
    """Every region of every account adopting an existing detector and recorder, Security Hub adopted
    too: the platform account's us-east-1 and eu-west-1, the analytics account's us-east-2."""
    overrides = {
        "regions": [HOME, "eu-west-1"],
        "regional": {
            "guardduty": {"mode": "adopt", "detector_id": ADOPTED_DETECTOR},
            "config_recorder": {"mode": "adopt", "recorder_name": "default"},
            "security_hub": {"mode": "adopt"},
        },
    }
    return synth(PACKAGE, overrides=overrides).stacks
