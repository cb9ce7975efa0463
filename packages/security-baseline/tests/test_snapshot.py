"""One JSON snapshot per synthesized stack per environment (config/*.toml): review every diff
before updating."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from platform_tooling.cache import environments
from platform_tooling.synth import SynthResult
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

PACKAGE = "security-baseline"
ENVIRONMENTS = environments(Path(__file__).resolve().parents[1])
STACKS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_environment_file_is_snapshotted() -> None:
    assert {"dev", "prod"} <= set(ENVIRONMENTS)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_stack_names(synth: Callable[..., SynthResult], environment: str) -> None:
    assert sorted(synth(PACKAGE, environment=environment).stacks) == sorted(f"{PACKAGE}-{r}" for r in STACKS)


@pytest.mark.parametrize(
    ("environment", "region"), [pytest.param(e, r, id=f"{e}-{r}") for e in ENVIRONMENTS for r in STACKS]
)
def test_stack_matches_snapshot(
    synth: Callable[..., SynthResult], snapshot_json: SnapshotAssertion, environment: str, region: str
) -> None:
    assert synth(PACKAGE, environment=environment).stacks[f"{PACKAGE}-{region}"] == snapshot_json
