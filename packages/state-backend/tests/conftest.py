"""Fixtures of the state-backend tests: the package is synthesized once per session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult

PACKAGE = "state-backend"


@pytest.fixture(scope="session")
def stack(synth: Callable[..., SynthResult]) -> dict[str, Any]:
    """The package's one stack (config/dev.toml)."""
    return synth(PACKAGE).stacks["state-backend"]
