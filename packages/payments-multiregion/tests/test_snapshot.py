"""One snapshot per stack of the deterministic synthesis (review every diff; never update blindly)."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

STACKS = ["payments-global", "payments-us-east-1", "payments-eu-west-1", "payments-ap-southeast-1", "payments-links"]


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_stack_names(stacks: dict[str, Any]) -> None:
    assert sorted(stacks) == sorted(STACKS)


@pytest.mark.parametrize("name", STACKS)
def test_stack_snapshot(stacks: dict[str, Any], snapshot_json: SnapshotAssertion, name: str) -> None:
    assert stacks[name] == snapshot_json
