"""One JSON snapshot per synthesized stack: review every diff before updating."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

STACKS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("region", STACKS)
def test_stack_matches_snapshot(
    stacks: dict[str, dict[str, Any]], snapshot_json: SnapshotAssertion, region: str
) -> None:
    assert stacks[f"security-baseline-{region}"] == snapshot_json
