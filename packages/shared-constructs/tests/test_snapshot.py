"""One reviewed JSON snapshot of the reference example's synthesized stack."""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_reference_stack_matches_snapshot(synth, snapshot_json):
    stacks = synth("reference").stacks
    assert sorted(stacks) == ["reference"]
    assert stacks["reference"] == snapshot_json(name="reference")
