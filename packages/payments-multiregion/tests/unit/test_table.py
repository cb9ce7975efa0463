"""The global table: on-demand, PITR, streams, a customer-managed key per replica, replicas everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import ref, resources

from ..conftest import SHORT


def table(stack: dict[str, Any]) -> dict[str, Any]:
    found = resources(stack, "aws_dynamodb_table")
    assert list(found) == ["table"]
    return found["table"]


@pytest.mark.requirement("PAY-C1", "DR-C4", "DEP-2")
def test_table_is_on_demand_with_pitr_and_streams(stacks: dict[str, Any]) -> None:
    t = table(stacks["payments-global"])
    assert t["name"] == "payments-transactions-dev"
    assert t["billing_mode"] == "PAY_PER_REQUEST"
    assert t["hash_key"] == "idempotency_key"
    assert t["attribute"] == [{"name": "idempotency_key", "type": "S"}]
    assert t["point_in_time_recovery"] == {"enabled": True}
    assert (t["stream_enabled"], t["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert t["deletion_protection_enabled"] is False


@pytest.mark.requirement("PAY-1", "PAY-C3", "PAY-C4", "DR-C4", "DR-C8")
def test_replicas_in_every_other_region_each_with_its_own_key(stacks: dict[str, Any]) -> None:
    stack = stacks["payments-global"]
    t = table(stack)
    keys = resources(stack, "aws_kms_key")
    assert len(keys) == 3
    by_region = {}
    for name, key in keys.items():
        assert key["enable_key_rotation"] is True
        by_region[key.get("provider", "aws.default")] = ref("aws_kms_key", name, "arn")
    assert t["server_side_encryption"] == {"enabled": True, "kms_key_arn": by_region["aws.default"]}
    assert [r["region_name"] for r in t["replica"]] == ["eu-west-1", "ap-southeast-1"]
    assert t["replica"][0] == {
        "region_name": "eu-west-1",
        "kms_key_arn": by_region["aws.euw1"],
        "point_in_time_recovery": True,
    }
    assert t["replica"][1] == {
        "region_name": "ap-southeast-1",
        "kms_key_arn": by_region["aws.apse1"],
        "point_in_time_recovery": True,
    }
    providers = {p.get("alias", "default"): p["region"] for p in stack["provider"]["aws"]}
    assert providers == {"default": "us-east-1", "euw1": "eu-west-1", "apse1": "ap-southeast-1"}


@pytest.mark.requirement("PAY-5")
def test_replica_keys_allow_dynamodb_only_through_the_account(stacks: dict[str, Any]) -> None:
    import json

    keys = resources(stacks["payments-global"], "aws_kms_key").values()
    assert keys
    for key in keys:
        statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
        assert sorted(statements) == ["DynamoDbReplication", "KeyAdministration"]
        service = statements["DynamoDbReplication"]
        assert service["Principal"] == {"Service": "dynamodb.amazonaws.com"}
        assert service["Condition"] == {
            "StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.caller_identity.account_id}"}
        }
        assert "kms:CreateGrant" in service["Action"]


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-1"])
def test_replicas_carry_their_own_region_tag(stacks: dict[str, Any], region: str) -> None:
    tags = [
        t
        for t in resources(stacks["payments-global"], "aws_dynamodb_tag").values()
        if t["provider"] == f"aws.{SHORT[region]}"
    ]
    values = {t["key"]: t["value"] for t in tags}
    assert values["Region"] == region
    assert values["Environment"] == "dev"
    assert values["CostCenter"] == "payments"
    assert {t["resource_arn"] for t in tags} == {
        f"arn:aws:dynamodb:{region}:${{data.aws_caller_identity.caller_identity.account_id}}:table/"
        "payments-transactions-dev"
    }


def test_emulator_excludes_exactly_the_replicas(stacks: dict[str, Any], emulator_stacks: dict[str, Any]) -> None:
    t = table(emulator_stacks["payments-global"])
    assert "replica" not in t
    # The replicas' keys stay: the emulator can create keys, and they are the product's.
    assert len(resources(emulator_stacks["payments-global"], "aws_kms_key")) == 3
    assert resources(emulator_stacks["payments-global"], "aws_dynamodb_tag") == {}
    # Only the stream consumers of the missing replicas go with them, and the alarm-based health
    # checks (moto drops their alarm) with the alarm on their status; everything else is identical.
    for region in ("eu-west-1", "ap-southeast-1"):
        full, emulated = stacks[f"payments-{region}"], emulator_stacks[f"payments-{region}"]
        assert len(resources(full, "aws_lambda_event_source_mapping")) == 1
        assert resources(emulated, "aws_lambda_event_source_mapping") == {}
        assert len(resources(full, "aws_route53_health_check")) == 1
        assert resources(emulated, "aws_route53_health_check") == {}
        gone = {"aws_lambda_event_source_mapping", "aws_route53_health_check"}
        assert sorted(k for k in full["resource"] if k not in gone) == sorted(
            k for k in emulated["resource"] if k not in gone
        )
        missing_alarms = set(resources(full, "aws_cloudwatch_metric_alarm")) - set(
            resources(emulated, "aws_cloudwatch_metric_alarm")
        )
        assert [full["resource"]["aws_cloudwatch_metric_alarm"][a]["metric_name"] for a in missing_alarms] == [
            "HealthCheckStatus"
        ]
    assert len(resources(emulator_stacks["payments-us-east-1"], "aws_lambda_event_source_mapping")) == 1
