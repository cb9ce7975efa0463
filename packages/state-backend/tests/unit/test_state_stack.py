"""The state bucket and the team policies, as synthesized from config/dev.toml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.deploy.pipelines import load_teams
from platform_tooling.deploy.reads import reads
from platform_tooling.synth import discover, read_stacks, synthesized
from shared_constructs.settings import SettingsError, load_settings
from state_backend.settings import Settings

CONFIG = Path(__file__).resolve().parents[2] / "config" / "dev.toml"


def resources(stack: dict[str, Any], type_: str) -> dict[str, Any]:
    found = stack["resource"].get(type_, {})
    assert found, f"no {type_} in the stack"
    return found


def state_bucket(stack: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(name, bucket)] = [(n, b) for n, b in resources(stack, "aws_s3_bucket").items() if n.startswith("state_")]
    return name, bucket


def test_state_bucket_is_versioned_encrypted_with_its_key_and_expires_old_versions(stack):
    name, bucket = state_bucket(stack)
    assert bucket["bucket"] == "tfstate-state-use1-dev"
    versioning = [v for v in resources(stack, "aws_s3_bucket_versioning").values() if name in v["bucket"]]
    assert [v["versioning_configuration"]["status"] for v in versioning] == ["Enabled"]
    [encryption] = [
        e
        for e in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
        if name in e["bucket"]
    ]
    by_default = encryption["rule"][0]["apply_server_side_encryption_by_default"]
    assert by_default["sse_algorithm"] == "aws:kms"
    assert by_default["kms_master_key_id"].startswith("${aws_kms_key.")
    [lifecycle] = [c for c in resources(stack, "aws_s3_bucket_lifecycle_configuration").values() if name in c["bucket"]]
    rules = {r["id"]: r for r in lifecycle["rule"]}
    assert rules["expire-old-state-versions"]["noncurrent_version_expiration"][0]["noncurrent_days"] == 90


def test_state_bucket_refuses_plain_http(stack):
    name, _ = state_bucket(stack)
    [policy] = [p for p in resources(stack, "aws_s3_bucket_policy").values() if name in p["bucket"]]
    document = json.loads(policy["policy"])
    denies = [s for s in document["Statement"] if s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)]
    assert denies, "no statement denies requests without TLS"


def test_one_policy_per_team_limited_to_its_packages_prefixes(stack):
    policies = resources(stack, "aws_iam_policy")
    assert sorted(p["name"] for p in policies.values()) == sorted(
        f"tfstate-{team}-state-dev" for team in ("network", "payments", "pci", "platform", "security")
    )
    [network] = [p for p in policies.values() if p["name"] == "tfstate-network-state-dev"]
    statements = {s["Sid"]: s for s in json.loads(network["policy"])["Statement"]}
    assert statements["WriteOwnState"]["Resource"].endswith("/network-peering/*")
    assert statements["ReadProducerState"]["Action"] == "s3:GetObject"
    assert statements["ReadProducerState"]["Resource"].endswith("/security-baseline/*")
    assert statements["ListOwnPrefixes"]["Condition"] == {
        "StringLike": {"s3:prefix": ["network-peering/*", "security-baseline/*"]}
    }
    assert set(statements) == {"ListOwnPrefixes", "WriteOwnState", "ReadProducerState", "UseStateKey"}


def test_publishes_the_bucket_and_the_team_policies(stack):
    outputs = stack["output"]
    assert {"state_bucket_name", "state_key_arn", "network_state_policy_arn"} <= set(outputs)


def test_fails_two_teams_writing_one_package():
    with pytest.raises(SettingsError, match="'security-baseline' is already written by team"):
        load_settings(Settings, CONFIG, {"teams": {"network": {"packages": ["security-baseline"]}}})


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_teams_and_their_packages_are_those_of_teams_toml(environment: str):
    """teams.toml (owners, pipelines) and this package's teams (state access) name the same teams,
    each writing the same app packages."""
    root = CONFIG.parents[3]
    _, _, teams = load_teams(root)
    apps = {p.parent.name for p in root.glob("packages/*/cdktf.json")}
    expected = {t.name: sorted(set(t.packages) & apps) for t in teams}
    assert expected["security"] == ["security-baseline"]
    settings = load_settings(Settings, CONFIG.with_name(f"{environment}.toml"), {})
    assert {team: sorted(access.packages) for team, access in settings.teams.items()} == expected


def test_each_team_reads_the_state_of_exactly_the_producers_its_packages_read():
    """A team's read access follows the remote-state reads of its packages' synthesized stacks."""
    root = CONFIG.parents[3]
    settings = load_settings(Settings, CONFIG, {})
    apps = {p.name: p for p in discover(root)}
    for team, access in settings.teams.items():
        producers: set[str] = set()
        for package in access.packages:
            folder, _ = synthesized(apps[package], environment="dev", environ={})
            producers |= {r.producer for stack in read_stacks(folder).values() for r in reads(stack)}
        assert sorted(producers - set(access.packages)) == sorted(access.reads), team
    assert any(access.reads for access in settings.teams.values())
