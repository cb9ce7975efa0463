"""Fixtures of the network-peering tests: the package is synthesized once per session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult

PACKAGE = "network-peering"
STACK = "network-peering"


@pytest.fixture(scope="session")
def stacks(synth: Callable[..., SynthResult]) -> dict[str, dict[str, Any]]:
    """Every stack of the package (config/dev.toml), by name."""
    return synth(PACKAGE).stacks


@pytest.fixture(scope="session")
def stack(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The package's one stack."""
    return stacks[STACK]
