"""Remediation handler against moto in-process: each remediation, gone resources, AWS errors, bad events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "remediation"
REGION = "us-east-1"
PAB_RULE = "security-baseline-s3-public-access-use1-dev"
TAG_RULE = "security-baseline-required-tags-use1-dev"
VOLUME_RULE = "security-baseline-encrypted-volumes-use1-dev"
DEFAULTS = {"CostCenter": "platform", "Environment": "dev", "Owner": "security-team"}


def config_event(rule: str, resource_type: str, resource_id: str, compliance: str = "NON_COMPLIANT") -> dict[str, Any]:
    """A Config Rules Compliance Change event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "5f1a0e6c-0000-0000-0000-000000000000",
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": "123456789012",
        "region": REGION,
        "detail": {
            "resourceId": resource_id,
            "awsRegion": REGION,
            "awsAccountId": "123456789012",
            "configRuleName": rule,
            "messageType": "ComplianceChangeNotification",
            "resourceType": resource_type,
            "newEvaluationResult": {
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": {
                        "configRuleName": rule,
                        "resourceType": resource_type,
                        "resourceId": resource_id,
                    },
                },
                "complianceType": compliance,
            },
        },
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("RULE_ACTIONS", json.dumps({PAB_RULE: "s3_public_access_block", TAG_RULE: "required_tags"}))
    monkeypatch.setenv("TAG_DEFAULTS", json.dumps(DEFAULTS))
    monkeypatch.setenv("REQUIRED_TAG_KEYS", "CostCenter,Environment,Owner")
    with mock_aws():
        yield


@pytest.fixture
def handler(aws: None) -> ModuleType:
    return load_handler(FOLDER)


@pytest.fixture
def topic(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    sns = boto3.client("sns", region_name=REGION)
    arn: str = sns.create_topic(Name="compliance")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("REPORT_TOPIC_ARN", arn)
    return queue


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "remediation"]


def bucket(name: str, tags: dict[str, str] | None = None) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return s3


@pytest.mark.requirement("SEC-C4")
def test_reapplies_s3_public_access_block(handler: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    s3 = bucket("exposed")
    caplog.set_level(logging.INFO)
    out = handler.handler(config_event(PAB_RULE, "AWS::S3::Bucket", "exposed"), None)
    assert out["results"][0]["status"] == "remediated"
    assert out["results"][0]["action"] == "s3_public_access_block"
    config = s3.get_public_access_block(Bucket="exposed")["PublicAccessBlockConfiguration"]
    assert config == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    (line,) = logged(caplog)
    assert line["status"] == "remediated"
    assert line["resource_id"] == "exposed"
    assert line["message"] == "remediation result"


@pytest.mark.requirement("SEC-C4")
def test_adds_missing_tags_to_bucket_keeping_existing(handler: ModuleType) -> None:
    s3 = bucket("untagged", {"Owner": "payments-team", "Team": "blue"})
    out = handler.handler(config_event(TAG_RULE, "AWS::S3::Bucket", "untagged"), None)
    assert out["results"][0]["status"] == "remediated"
    assert out["results"][0]["detail"] == "added CostCenter, Environment"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="untagged")["TagSet"]}
    assert tags == {"CostCenter": "platform", "Environment": "dev", "Owner": "payments-team", "Team": "blue"}


def test_adds_tags_to_bucket_without_any_tags(handler: ModuleType) -> None:
    s3 = bucket("bare")
    out = handler.handler(config_event(TAG_RULE, "AWS::S3::Bucket", "bare"), None)
    assert out["results"][0]["status"] == "remediated"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="bare")["TagSet"]}
    assert tags == DEFAULTS


def test_adds_missing_tags_to_ec2_volume(handler: ModuleType) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    volume = ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Environment", "Value": "prod"}]}],
    )["VolumeId"]
    out = handler.handler(config_event(TAG_RULE, "AWS::EC2::Volume", volume), None)
    assert out["results"][0]["status"] == "remediated"
    tags = {
        t["Key"]: t["Value"] for t in ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [volume]}])["Tags"]
    }
    assert tags == {"CostCenter": "platform", "Environment": "prod", "Owner": "security-team"}


def test_tagged_resource_is_already_compliant(handler: ModuleType) -> None:
    bucket("tidy", DEFAULTS)
    out = handler.handler(config_event(TAG_RULE, "AWS::S3::Bucket", "tidy"), None)
    assert out["results"][0]["status"] == "already_compliant"


def test_reports_tag_without_default(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUIRED_TAG_KEYS", "CostCenter,Environment,Owner,DataClassification")
    s3 = bucket("partly")
    out = handler.handler(config_event(TAG_RULE, "AWS::S3::Bucket", "partly"), None)
    result = out["results"][0]
    assert result["status"] == "not_remediable"
    assert result["detail"] == "added CostCenter, Environment, Owner; no default value for DataClassification"
    tags = {t["Key"] for t in s3.get_bucket_tagging(Bucket="partly")["TagSet"]}
    assert tags == {"CostCenter", "Environment", "Owner"}


def test_reports_rule_without_safe_fix_to_topic(handler: ModuleType, topic: str) -> None:
    out = handler.handler(config_event(VOLUME_RULE, "AWS::EC2::Volume", "vol-0123456789abcdef0"), None)
    result = out["results"][0]
    assert result["status"] == "not_remediable"
    assert result["action"] == "report"
    assert result["reported"] is True
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=topic, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert body["rule"] == VOLUME_RULE
    assert body["status"] == "not_remediable"


def test_unsupported_resource_type_for_tags_is_reported(handler: ModuleType) -> None:
    out = handler.handler(config_event(TAG_RULE, "AWS::Lambda::Function", "fn"), None)
    assert out["results"][0]["status"] == "not_remediable"
    assert "not AWS::Lambda::Function" in out["results"][0]["detail"]


def test_compliant_event_is_ignored(handler: ModuleType) -> None:
    out = handler.handler(config_event(PAB_RULE, "AWS::S3::Bucket", "fine", compliance="COMPLIANT"), None)
    assert out["results"][0]["status"] == "ignored"


def test_sns_wrapped_event_is_unwrapped(handler: ModuleType) -> None:
    bucket("via-sns")
    event = {"Records": [{"Sns": {"Message": json.dumps(config_event(PAB_RULE, "AWS::S3::Bucket", "via-sns"))}}]}
    out = handler.handler(event, None)
    assert [r["status"] for r in out["results"]] == ["remediated"]


@pytest.mark.parametrize(
    ("rule", "resource_type", "resource_id"),
    [
        (PAB_RULE, "AWS::S3::Bucket", "deleted-bucket"),
        (TAG_RULE, "AWS::S3::Bucket", "deleted-bucket"),
        (TAG_RULE, "AWS::EC2::Volume", "vol-0000000000000dead"),
    ],
)
def test_resource_that_no_longer_exists(
    handler: ModuleType, caplog: pytest.LogCaptureFixture, rule: str, resource_type: str, resource_id: str
) -> None:
    caplog.set_level(logging.INFO)
    out = handler.handler(config_event(rule, resource_type, resource_id), None)
    assert out["results"][0]["status"] == "resource_gone"
    assert logged(caplog)[0]["status"] == "resource_gone"


def test_aws_error_is_a_failed_result(handler: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    stubber = Stubber(s3)
    stubber.add_client_error(
        "put_public_access_block",
        service_error_code="AccessDenied",
        service_message="not authorized",
        http_status_code=403,
    )
    caplog.set_level(logging.INFO)
    with stubber, mock.patch.object(handler, "_client", return_value=s3):
        out = handler.handler(config_event(PAB_RULE, "AWS::S3::Bucket", "locked"), None)
    result = out["results"][0]
    assert result["status"] == "failed"
    assert result["detail"].startswith("AWS error AccessDenied")
    assert logged(caplog)[0]["status"] == "failed"


def test_report_topic_error_does_not_crash(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORT_TOPIC_ARN", f"arn:aws:sns:{REGION}:123456789012:missing")
    out = handler.handler(config_event(VOLUME_RULE, "AWS::EC2::Volume", "vol-1"), None)
    result = out["results"][0]
    assert result["status"] == "not_remediable"
    assert result["reported"] is False
    assert "NotFound" in result["report_error"]


def test_unexpected_exception_is_a_failed_result(handler: ModuleType) -> None:
    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("network down")

    with mock.patch.object(handler, "_client", side_effect=boom):
        out = handler.handler(config_event(PAB_RULE, "AWS::S3::Bucket", "any"), None)
    assert out["results"][0]["status"] == "failed"
    assert out["results"][0]["detail"] == "unexpected RuntimeError: network down"


def test_client_error_type_is_botocore(handler: ModuleType) -> None:
    # guards the except clauses: the handler must catch botocore's ClientError class.
    assert handler.ClientError is ClientError


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        (None, "expected a JSON object, got NoneType"),
        ("not json", "expected a JSON object, got str"),
        ([], "expected a JSON object, got list"),
        ({}, "missing object 'detail'"),
        ({"detail": "x"}, "missing object 'detail'"),
        ({"detail": {}}, "missing object 'detail.newEvaluationResult'"),
        (
            {"detail": {"newEvaluationResult": {"complianceType": "NON_COMPLIANT"}}},
            "missing or empty resource_id, resource_type, rule",
        ),
        ({"Records": [{"Sns": {"Message": "{not json"}}]}, "expected a JSON object, got str"),
    ],
)
def test_fails_malformed_event_without_crashing(
    handler: ModuleType, caplog: pytest.LogCaptureFixture, event: Any, detail: str
) -> None:
    caplog.set_level(logging.INFO)
    out = handler.handler(event, None)
    assert out["results"] == [{"status": "invalid_event", "detail": detail}]
    assert logged(caplog) == [{"message": "remediation result", "status": "invalid_event", "detail": detail}]


def test_bad_configuration_json_is_tolerated(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULE_ACTIONS", "{broken")
    out = handler.handler(config_event(PAB_RULE, "AWS::S3::Bucket", "b"), None)
    assert out["results"][0]["status"] == "not_remediable"
