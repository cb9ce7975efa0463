"""Fixtures of pci-platform's tests: the stack synthesized once per session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult

PACKAGE = "pci-platform"
STACK = "pci-platform"


@pytest.fixture(scope="session")
def result(synth: Callable[..., SynthResult]) -> SynthResult:
    """The dev synthesis of the package."""
    return synth(PACKAGE)


@pytest.fixture(scope="session")
def stacks(result: SynthResult) -> dict[str, dict[str, Any]]:
    """Synthesized stacks by name."""
    return result.stacks


@pytest.fixture(scope="session")
def stack(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The pci-platform stack."""
    return stacks[STACK]


@pytest.fixture(scope="session")
def prod_stack(synth: Callable[..., SynthResult]) -> dict[str, Any]:
    """The prod pci-platform stack (its secrets use this package's secrets key; dev's the operator's)."""
    return synth(PACKAGE, environment="prod").stacks[STACK]
