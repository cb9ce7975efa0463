"""Receipts replication: every region's bucket to every other region, re-encrypted with its key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import resources

from ..conftest import REGIONS, SHORT

ACCOUNT = "${data.aws_caller_identity.caller_identity.account_id}"


def configurations(stacks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources(stacks["payments-links"], "aws_s3_bucket_replication_configuration")
    return {c["bucket"]: c for c in found.values()}


@pytest.mark.requirement("PAY-10")
def test_one_configuration_per_region(stacks: dict[str, Any]) -> None:
    assert sorted(configurations(stacks)) == sorted(f"payments-receipts-{SHORT[r]}-dev" for r in REGIONS)


@pytest.mark.requirement("PAY-5", "PAY-10", "PAY-C4", "DR-C5")
@pytest.mark.parametrize("region", REGIONS)
def test_rules_replicate_to_the_other_regions_with_their_keys(stacks: dict[str, Any], region: str) -> None:
    config = configurations(stacks)[f"payments-receipts-{SHORT[region]}-dev"]
    assert config.get("provider", "aws.default") == ("aws.default" if region == "us-east-1" else f"aws.{SHORT[region]}")
    others = [r for r in REGIONS if r != region]
    rules = config["rule"]
    assert [r["id"] for r in rules] == [f"to-{SHORT[o]}" for o in others]
    assert [r["priority"] for r in rules] == [1, 2]
    for rule, other in zip(rules, others, strict=True):
        assert rule["status"] == "Enabled"
        assert rule["filter"] == {"prefix": "receipts/"}
        # A delete in one region does not hide the receipt in the others.
        assert rule["delete_marker_replication"] == {"status": "Disabled"}
        assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
        assert rule["destination"] == {
            "bucket": f"arn:aws:s3:::payments-receipts-{SHORT[other]}-dev",
            "storage_class": "STANDARD",
            "encryption_configuration": {
                "replica_kms_key_id": f"arn:aws:kms:{other}:{ACCOUNT}:alias/payments-data-{SHORT[other]}-dev"
            },
        }


def test_replication_role_is_scoped_to_the_buckets_and_keys(stacks: dict[str, Any]) -> None:
    policies = {p["name"]: p for p in resources(stacks["payments-links"], "aws_iam_policy").values()}
    statements = {
        s["Sid"]: s for s in json.loads(policies["payments-receipts-replication-euw1-dev"]["policy"])["Statement"]
    }
    assert statements["ReadSourceConfiguration"]["Resource"] == "arn:aws:s3:::payments-receipts-euw1-dev"
    assert sorted(statements["WriteReplicas"]["Resource"]) == [
        "arn:aws:s3:::payments-receipts-apse1-dev/*",
        "arn:aws:s3:::payments-receipts-use1-dev/*",
    ]
    decrypt = statements["DecryptSource"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"
    assert decrypt["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/payments-data-euw1-dev"},
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
    }
    encrypt = statements["EncryptReplicasUse1"]
    assert encrypt["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": "alias/payments-data-use1-dev"}


@pytest.mark.requirement("DR-C5")
@pytest.mark.parametrize("region", REGIONS)
def test_receipts_bucket_versioned_cmk_with_lifecycle(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    buckets = {
        n: b
        for n, b in resources(stack, "aws_s3_bucket").items()
        if b["bucket"] == f"payments-receipts-{SHORT[region]}-dev"
    }
    assert len(buckets) == 1
    bucket_ref = f"${{aws_s3_bucket.{next(iter(buckets))}.id}}"
    lifecycle = [
        c for c in resources(stack, "aws_s3_bucket_lifecycle_configuration").values() if c["bucket"] == bucket_ref
    ]
    rule = lifecycle[0]["rule"][0]
    assert rule["transition"] == [
        {"days": 30, "storage_class": "STANDARD_IA"},
        {"days": 365, "storage_class": "GLACIER"},
    ]
    assert rule["expiration"] == [{"days": 2557}]
    versioning = [v for v in resources(stack, "aws_s3_bucket_versioning").values() if v["bucket"] == bucket_ref]
    assert versioning[0]["versioning_configuration"] == {"status": "Enabled"}


@pytest.mark.requirement("PAY-6")
def test_secondary_alert_topics_subscribe_the_primary_inbox(stacks: dict[str, Any]) -> None:
    subscriptions = resources(stacks["payments-links"], "aws_sns_topic_subscription")
    found = {s["topic_arn"]: s for s in subscriptions.values()}
    inbox = f"arn:aws:sqs:us-east-1:{ACCOUNT}:payments-alert-inbox-use1-dev"
    assert sorted(found) == sorted(
        f"arn:aws:sns:{r}:{ACCOUNT}:payments-alerts-{SHORT[r]}-dev" for r in ("eu-west-1", "ap-southeast-1")
    )
    assert all(s["protocol"] == "sqs" and s["endpoint"] == inbox for s in found.values())


@pytest.mark.requirement("PAY-10")
def test_receipts_have_no_object_lock_in_sandboxes(stacks: dict[str, Any]) -> None:
    for region in REGIONS:
        stack = stacks[f"payments-{region}"]
        assert resources(stack, "aws_s3_bucket_object_lock_configuration") == {}
        receipts = [b for b in resources(stack, "aws_s3_bucket").values() if "receipts" in b["bucket"]]
        assert len(receipts) == 1
        assert "object_lock_enabled" not in receipts[0]


@pytest.mark.requirement("PAY-10")
def test_prod_receipts_are_under_object_lock_and_replicate_it(prod_stacks: dict[str, Any]) -> None:
    for region in REGIONS:
        stack = prod_stacks[f"payments-{region}"]
        receipts = {n: b for n, b in resources(stack, "aws_s3_bucket").items() if "receipts" in b["bucket"]}
        assert len(receipts) == 1
        name, bucket = next(iter(receipts.items()))
        assert bucket["object_lock_enabled"] is True
        locks = list(resources(stack, "aws_s3_bucket_object_lock_configuration").values())
        assert len(locks) == 1
        assert locks[0]["bucket"] == f"${{aws_s3_bucket.{name}.id}}"
        assert locks[0]["rule"] == {"default_retention": {"days": 2557, "mode": "GOVERNANCE"}}
    policies = resources(prod_stacks["payments-links"], "aws_iam_policy").values()
    replication = [json.loads(p["policy"]) for p in policies if "receipts-replication" in p["name"]]
    assert len(replication) == len(REGIONS)
    for document in replication:
        read = next(s for s in document["Statement"] if s["Sid"] == "ReadSourceVersions")
        assert {"s3:GetObjectLegalHold", "s3:GetObjectRetention"} <= set(read["Action"])
