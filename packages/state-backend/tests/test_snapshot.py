"""One JSON snapshot per stack per environment (config/*.toml) of the deterministic synthesis
(review diffs; never update blindly)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from platform_tooling.cache import environments
from platform_tooling.synth import SynthResult
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

PACKAGE = "state-backend"
ENVIRONMENTS = environments(Path(__file__).resolve().parents[1])
STACKS = ("state-backend",)


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_environment_file_is_snapshotted() -> None:
    assert {"dev", "prod"} <= set(ENVIRONMENTS)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_stack_names(synth: Callable[..., SynthResult], environment: str) -> None:
    assert sorted(synth(PACKAGE, environment=environment).stacks) == sorted(STACKS)


@pytest.mark.parametrize(
    ("environment", "name"), [pytest.param(e, n, id=f"{e}-{n}") for e in ENVIRONMENTS for n in STACKS]
)
def test_stack_matches_snapshot(
    synth: Callable[..., SynthResult], snapshot_json: SnapshotAssertion, environment: str, name: str
) -> None:
    assert synth(PACKAGE, environment=environment).stacks[name] == snapshot_json
