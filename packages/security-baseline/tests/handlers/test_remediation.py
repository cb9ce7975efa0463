"""Remediation handler against moto in-process: each outcome, the account guard, what it may write."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"  # the function's own (conftest.ACCOUNT)
PAB_RULE = "security-baseline-s3-public-access-use1-dev"
TAG_RULE = "security-baseline-required-tags-use1-dev"
OTHER_ACCOUNT = "210987654321"
VOLUME_RULE = "security-baseline-encrypted-volumes-use1-dev"
PERSON_ONLY = ("CostCenter", "DataClassification", "Environment", "Owner")
OPEN = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
CLOSED = dict.fromkeys(OPEN, True)
FULL_TAGS = {
    "Environment": "prod",
    "CostCenter": "payments",
    "Owner": "payments-team",
    "DataClassification": "cardholder",
    "ManagedBy": "cdktf",
    "App": "pci-platform",
}


def reports(queue: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "remediation"]


def bucket(name: str, tags: dict[str, str] | None = None, block: dict[str, bool] | None = OPEN) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=name)
    if block is not None:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return s3


def bucket_tags(name: str) -> dict[str, str]:
    s3 = boto3.client("s3", region_name=REGION)
    return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}


@pytest.mark.requirement("SEC-C4")
@pytest.mark.parametrize("block", [OPEN, None], ids=["settings-off", "no-configuration"])
def test_turns_on_public_access_block(
    remediate: Callable[..., dict[str, Any]],
    calls: list[Any],
    caplog: pytest.LogCaptureFixture,
    block: dict[str, bool] | None,
) -> None:
    s3 = bucket("exposed", block=block)
    caplog.set_level(logging.INFO)
    result = remediate(PAB_RULE, "AWS::S3::Bucket", "exposed")
    assert result["status"] == "remediated"
    assert result["action"] == "s3_public_access_block"
    assert s3.get_public_access_block(Bucket="exposed")["PublicAccessBlockConfiguration"] == CLOSED
    (line,) = logged(caplog)
    assert (line["message"], line["status"], line["resource_id"]) == ("remediation result", "remediated", "exposed")
    assert [op for _, op, _ in calls] == ["GetPublicAccessBlock", "PutPublicAccessBlock"]


def test_public_access_block_already_on_is_already_compliant(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], calls: list[Any]
) -> None:
    bucket("closed", block=CLOSED)
    result = remediate(PAB_RULE, "AWS::S3::Bucket", "closed")
    assert result["status"] == "already_compliant"
    assert [op for _, op, _ in calls] == ["GetPublicAccessBlock"]  # nothing written


@pytest.mark.parametrize("rule", [PAB_RULE, TAG_RULE])
def test_every_s3_call_names_this_account_as_bucket_owner(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], calls: list[Any], rule: str
) -> None:
    bucket("owned")
    remediate(rule, "AWS::S3::Bucket", "owned")
    s3_calls = [(op, params) for service, op, params in calls if service == "s3"]
    assert len(s3_calls) == 2  # a read and a write
    for op, params in s3_calls:
        assert params.get("ExpectedBucketOwner") == ACCOUNT, op


@pytest.mark.parametrize("rule", [PAB_RULE, TAG_RULE, VOLUME_RULE])
def test_refuses_resource_of_another_account(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], calls: list[Any], topic: str, rule: str
) -> None:
    result = remediate(rule, "AWS::S3::Bucket", "theirs", account=OTHER_ACCOUNT)
    assert result["status"] == "refused_other_account"
    assert (
        result["detail"] == f"the resource is in account {OTHER_ACCOUNT}; this function changes only account {ACCOUNT}"
    )
    assert [c for c in calls if c[0] != "sns"] == []  # not even a read
    (report,) = reports(topic)
    assert report["status"] == "refused_other_account"
    assert report["runbook"] == handler.runbook_step(rule)


def test_without_invocation_context_nothing_is_touched(
    handler: ModuleType, calls: list[Any], make_event: Callable[..., dict[str, Any]]
) -> None:
    bucket("unknown-owner")
    (result,) = handler.handler(make_event(PAB_RULE, "AWS::S3::Bucket", "unknown-owner"), None)["results"]
    assert result["status"] == "failed"
    assert "account is unknown" in result["detail"]
    assert calls == []


def test_missing_tags_get_only_what_is_known_and_a_marker(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], topic: str
) -> None:
    bucket("bare")
    result = remediate(TAG_RULE, "AWS::S3::Bucket", "bare")
    assert result["status"] == "not_remediable"
    assert result["detail"] == (
        "added App=unassigned, ManagedBy=manual, NeedsClassification=CostCenter DataClassification Environment "
        "Owner; a person must set CostCenter, DataClassification, Environment, Owner"
    )
    tags = bucket_tags("bare")
    assert tags == {
        "ManagedBy": "manual",
        "App": "unassigned",
        "NeedsClassification": "CostCenter DataClassification Environment Owner",
    }
    (report,) = reports(topic)
    assert report["runbook"] == handler.RUNBOOK["required-tags"]


def test_never_writes_classification_owner_or_cost_center_on_ec2(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]]
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    volume = ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Environment", "Value": "prod"}]}],
    )["VolumeId"]
    result = remediate(TAG_RULE, "AWS::EC2::Volume", volume)
    assert result["status"] == "not_remediable"
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [volume]}])["Tags"]
    tags = {t["Key"]: t["Value"] for t in found}
    assert tags == {
        "Environment": "prod",
        "ManagedBy": "manual",
        "App": "unassigned",
        "NeedsClassification": "CostCenter DataClassification Owner",
    }
    assert not {"CostCenter", "DataClassification", "Owner"} & set(tags)


@pytest.mark.requirement("SEC-C4")
def test_only_knowable_tags_missing_is_remediated_keeping_existing(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]]
) -> None:
    existing = {k: v for k, v in FULL_TAGS.items() if k not in ("ManagedBy", "App")} | {"Team": "blue"}
    bucket("almost", existing)
    result = remediate(TAG_RULE, "AWS::S3::Bucket", "almost")
    assert result["status"] == "remediated"
    assert result["detail"] == "added App=unassigned, ManagedBy=manual"
    assert bucket_tags("almost") == {**existing, "ManagedBy": "manual", "App": "unassigned"}


def test_fully_tagged_resource_is_already_compliant(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], calls: list[Any]
) -> None:
    bucket("tidy", FULL_TAGS)
    result = remediate(TAG_RULE, "AWS::S3::Bucket", "tidy")
    assert result["status"] == "already_compliant"
    assert [op for _, op, _ in calls] == ["GetBucketTagging"]


def test_marker_already_in_place_is_not_rewritten(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], calls: list[Any]
) -> None:
    marked = {"ManagedBy": "manual", "App": "unassigned", "NeedsClassification": " ".join(PERSON_ONLY)}
    bucket("marked", marked)
    result = remediate(TAG_RULE, "AWS::S3::Bucket", "marked")
    assert result["status"] == "not_remediable"
    assert result["detail"] == f"a person must set {', '.join(PERSON_ONLY)}"
    assert [op for _, op, _ in calls] == ["GetBucketTagging"]


def test_rule_without_safe_fix_is_reported_with_its_runbook_step(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], topic: str
) -> None:
    result = remediate(VOLUME_RULE, "AWS::EC2::Volume", "vol-0123456789abcdef0")
    assert result["status"] == "not_remediable"
    assert result["action"] == "report"
    assert result["reported"] is True
    (report,) = reports(topic)
    assert report["rule"] == VOLUME_RULE
    assert report["runbook"] == handler.RUNBOOK["encrypted-volumes"]


def test_unknown_rule_gets_the_generic_step(handler: ModuleType, remediate: Callable[..., dict[str, Any]]) -> None:
    result = remediate("network-peering-sg-peer-ports-use1-dev", "AWS::EC2::SecurityGroup", "sg-1")
    assert result["status"] == "not_remediable"
    assert result["runbook"] == handler.NO_RUNBOOK


def test_unsupported_resource_type_for_tags_is_reported(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]]
) -> None:
    result = remediate(TAG_RULE, "AWS::Lambda::Function", "fn")
    assert result["status"] == "not_remediable"
    assert "not AWS::Lambda::Function" in result["detail"]


def test_compliant_event_is_ignored(handler: ModuleType, remediate: Callable[..., dict[str, Any]]) -> None:
    assert remediate(PAB_RULE, "AWS::S3::Bucket", "fine", compliance="COMPLIANT")["status"] == "ignored"


def test_sns_wrapped_event_is_unwrapped(
    handler: ModuleType, make_event: Callable[..., dict[str, Any]], context: SimpleNamespace
) -> None:
    bucket("via-sns")
    event = {"Records": [{"Sns": {"Message": json.dumps(make_event(PAB_RULE, "AWS::S3::Bucket", "via-sns"))}}]}
    assert [r["status"] for r in handler.handler(event, context)["results"]] == ["remediated"]


@pytest.mark.parametrize(
    ("rule", "resource_type", "resource_id"),
    [
        (PAB_RULE, "AWS::S3::Bucket", "deleted-bucket"),
        (TAG_RULE, "AWS::S3::Bucket", "deleted-bucket"),
        (TAG_RULE, "AWS::EC2::Volume", "vol-0000000000000dead"),
    ],
)
def test_resource_that_no_longer_exists(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], rule: str, resource_type: str, resource_id: str
) -> None:
    assert remediate(rule, resource_type, resource_id)["status"] == "resource_gone"


def test_retired_package_key_is_left_alone_and_app_is_added(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]]
) -> None:
    # Package was the app key before App replaced it (docs/decisions/0010-one-tag-policy.md): it is
    # no longer required, so it is neither counted as App nor removed.
    existing = {k: v for k, v in FULL_TAGS.items() if k != "App"} | {"Package": "pci-platform"}
    bucket("renamed-key", existing)
    result = remediate(TAG_RULE, "AWS::S3::Bucket", "renamed-key")
    assert result["status"] == "remediated"
    assert result["detail"] == "added App=unassigned"
    assert bucket_tags("renamed-key") == {**existing, "App": "unassigned"}


def test_required_keys_default_to_the_platform_set(
    handler: ModuleType, remediate: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUIRED_TAG_KEYS")
    bucket("no-app", {k: v for k, v in FULL_TAGS.items() if k != "App"})
    result = remediate(TAG_RULE, "AWS::S3::Bucket", "no-app")
    assert (result["status"], result["detail"]) == ("remediated", "added App=unassigned")
