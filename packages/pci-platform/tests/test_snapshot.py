"""One JSON snapshot per stack of the deterministic synthesis (review diffs; never update blindly)."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_stacks_match_snapshot(stacks: dict[str, dict[str, Any]], snapshot_json: SnapshotAssertion) -> None:
    assert sorted(stacks) == ["pci-platform"]
    for name, stack in stacks.items():
        assert stack == snapshot_json(name=name)
