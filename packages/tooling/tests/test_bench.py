"""The benchmark's conformance probe reads the synthesis cache and times the conformance rules; the
report gives each rung's share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platform_tooling.testing.bench import CONFORMANCE_RULES, Figure, probe_conformance, rung_shares
from shared_constructs.policy.packs import BASELINE


def _cache_with_one_stack(root: Path) -> Path:
    folder = root / "example" / "dev"
    (folder / "stacks" / "example").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    role = {
        "assume_role_policy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
        "name": "example-dev",
    }
    stack = {"resource": {"aws_iam_role": {"example": role}}}
    (folder / "stacks" / "example" / "cdk.tf.json").write_text(json.dumps(stack))
    return root


def test_every_conformance_rule_is_in_the_pack() -> None:
    assert {rule.id for rule in BASELINE} >= CONFORMANCE_RULES


def test_probe_counts_the_stacks_it_evaluated(tmp_path: Path) -> None:
    found = probe_conformance(_cache_with_one_stack(tmp_path))
    assert (found["environments"], found["stacks"]) == (1, 1)
    assert found["pack_s"] > 0


def test_probe_refuses_an_empty_cache(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no synthesized output"):
        probe_conformance(tmp_path)


def test_each_rung_s_share_adds_its_packages_up() -> None:
    figures = [
        Figure("floor: import the provider bindings", 30.0, 28.0),
        Figure("nox -s synth test -- pci-platform", 60.0, 50.0),
        Figure("test -- pci-platform", 40.0, 39.0),
        Figure("test -- tooling", 20.0, 19.0),
        Figure("lint -- tooling", 2.0, 2.0),
        Figure("validate -- pci-platform", 18.0, 18.0),
        Figure("emulator rung (every package)", 320.0, 700.0),
    ]
    shares = rung_shares(figures)
    assert shares == {
        "test": (60.0, 58.0, 0.15),
        "lint": (2.0, 2.0, 0.005),
        "validate": (18.0, 18.0, 0.045),
        "emulator": (320.0, 700.0, 0.8),
    }
