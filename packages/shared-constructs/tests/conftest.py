from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def reference(synth) -> dict[str, Any]:
    """The reference example's one stack, synthesized once per session."""
    return synth("reference").stacks["reference"]
