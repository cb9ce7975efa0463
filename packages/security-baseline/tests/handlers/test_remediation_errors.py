"""Remediation handler: transient errors raise for a retry, permanent ones are reported, bad events,
and every Config rule the package deploys is either remediated or has a runbook step."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.stub import Stubber
from platform_tooling.testing.query import resources
from security_baseline.config_rules import REMEDIATIONS, managed_rules

REGION = "us-east-1"
PAB_RULE = "security-baseline-s3-public-access-use1-dev"
TAG_RULE = "security-baseline-required-tags-use1-dev"
VOLUME_RULE = "security-baseline-encrypted-volumes-use1-dev"


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


TRANSIENT = [
    client_error("Throttling", 400),
    client_error("ThrottlingException", 400),
    client_error("RequestLimitExceeded", 503),
    client_error("SlowDown", 503),
    client_error("InternalError", 500),
    client_error("ServiceUnavailable", 503),
    client_error("RequestTimeout", 400),
    client_error("SomethingNew", 502),  # any 5xx
    client_error("SomethingNew", 429),
    ReadTimeoutError(endpoint_url="https://s3.amazonaws.com"),
    ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com"),
    EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"),
]
PERMANENT = [
    client_error("AccessDenied", 403),
    client_error("InvalidRequest", 400),
    client_error("MalformedXML", 400),
    ParamValidationError(report="bad Bucket"),
    NoCredentialsError(),
]


def name(exc: Exception) -> str:
    return (
        f"{type(exc).__name__}-{exc.response['Error']['Code']}" if isinstance(exc, ClientError) else type(exc).__name__
    )


@pytest.mark.parametrize("exc", TRANSIENT, ids=name)
def test_transient_errors_are_classified_transient(handler: ModuleType, exc: Exception) -> None:
    assert handler.is_transient(exc) is True


@pytest.mark.parametrize("exc", PERMANENT, ids=name)
def test_permanent_errors_are_not_transient(handler: ModuleType, exc: Exception) -> None:
    assert handler.is_transient(exc) is False


def failing_s3(operation: str, exc: Exception) -> Any:
    """An S3 client whose ``operation`` raises ``exc`` (the other calls go to moto)."""
    s3 = boto3.client("s3", region_name=REGION)
    if isinstance(exc, ClientError):
        stubber = Stubber(s3)
        error = exc.response["Error"]
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        stubber.add_client_error(operation, error["Code"], error["Message"], status)
        stubber.activate()
        return s3
    setattr(s3, operation, mock.Mock(side_effect=exc))
    return s3


@pytest.mark.parametrize(
    "exc",
    [client_error("SlowDown", 503), client_error("Throttling", 400), ReadTimeoutError(endpoint_url="https://s3")],
    ids=name,
)
def test_transient_error_raises_for_a_retry(
    handler: ModuleType,
    context: SimpleNamespace,
    make_event: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    exc: Exception,
) -> None:
    caplog.set_level(logging.INFO)
    s3 = failing_s3("get_public_access_block", exc)
    with mock.patch.object(handler, "_client", return_value=s3), pytest.raises(handler.TransientAwsError) as raised:
        handler.handler(make_event(PAB_RULE, "AWS::S3::Bucket", "busy"), context)
    assert isinstance(raised.value.__cause__, type(exc))
    assert "busy" in str(raised.value)
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "remediation"]
    assert line["message"] == "transient AWS error, retrying"


def test_transient_error_while_tagging_ec2_raises(
    handler: ModuleType, context: SimpleNamespace, make_event: Callable[..., dict[str, Any]]
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    stubber = Stubber(ec2)
    stubber.add_client_error("describe_volumes", "RequestLimitExceeded", "slow down", 503)
    with stubber, mock.patch.object(handler, "_client", return_value=ec2), pytest.raises(handler.TransientAwsError):
        handler.handler(make_event(TAG_RULE, "AWS::EC2::Volume", "vol-0123456789abcdef0"), context)


def test_permanent_error_is_a_reported_failure(
    handler: ModuleType, context: SimpleNamespace, make_event: Callable[..., dict[str, Any]], topic: str
) -> None:
    sns = boto3.client("sns", region_name=REGION)
    s3 = failing_s3("get_public_access_block", client_error("AccessDenied", 403))
    with mock.patch.object(handler, "_client", side_effect=lambda service, _: s3 if service == "s3" else sns):
        (result,) = handler.handler(make_event(PAB_RULE, "AWS::S3::Bucket", "locked"), context)["results"]
    assert result["status"] == "failed"
    assert result["detail"].startswith("AWS error AccessDenied")
    assert result["runbook"] == handler.RUNBOOK["s3-public-access"]
    assert result["reported"] is True
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=topic)["Messages"]
    assert json.loads(messages[0]["Body"])["status"] == "failed"


def test_transient_error_publishing_the_report_raises(
    handler: ModuleType, context: SimpleNamespace, make_event: Callable[..., dict[str, Any]], topic: str
) -> None:
    sns = boto3.client("sns", region_name=REGION)
    stubber = Stubber(sns)
    stubber.add_client_error("publish", "Throttled", "rate exceeded", 429)
    with stubber, mock.patch.object(handler, "_client", return_value=sns), pytest.raises(handler.TransientAwsError):
        handler.handler(make_event(VOLUME_RULE, "AWS::EC2::Volume", "vol-1"), context)


def test_permanent_error_publishing_the_report_is_logged(
    handler: ModuleType, context: SimpleNamespace, make_event: Callable[..., dict[str, Any]], monkeypatch: Any
) -> None:
    monkeypatch.setenv("REPORT_TOPIC_ARN", f"arn:aws:sns:{REGION}:123456789012:missing")
    (result,) = handler.handler(make_event(VOLUME_RULE, "AWS::EC2::Volume", "vol-1"), context)["results"]
    assert result["status"] == "not_remediable"
    assert result["reported"] is False
    assert "NotFound" in result["report_error"]


def test_unexpected_exception_is_a_failed_result(
    handler: ModuleType, context: SimpleNamespace, make_event: Callable[..., dict[str, Any]]
) -> None:
    with mock.patch.object(handler, "_client", side_effect=RuntimeError("network down")):
        (result,) = handler.handler(make_event(PAB_RULE, "AWS::S3::Bucket", "any"), context)["results"]
    assert result["status"] == "failed"
    assert result["detail"] == "unexpected RuntimeError: network down"


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
            "missing or empty account, resource_id, resource_type, rule",
        ),
        ({"Records": [{"Sns": {"Message": "{not json"}}]}, "expected a JSON object, got str"),
    ],
)
def test_fails_malformed_event_without_crashing(
    handler: ModuleType, context: SimpleNamespace, caplog: pytest.LogCaptureFixture, event: Any, detail: str
) -> None:
    caplog.set_level(logging.INFO)
    out = handler.handler(event, context)
    assert out["results"] == [{"status": "invalid_event", "detail": detail}]
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "remediation"]
    assert logged == [{"message": "remediation result", "status": "invalid_event", "detail": detail}]


def test_bad_configuration_json_is_tolerated(
    handler: ModuleType, context: SimpleNamespace, make_event: Callable[..., dict[str, Any]], monkeypatch: Any
) -> None:
    monkeypatch.setenv("RULE_ACTIONS", "{broken")
    (result,) = handler.handler(make_event(PAB_RULE, "AWS::S3::Bucket", "b"), context)["results"]
    assert result["status"] == "not_remediable"


def test_every_managed_rule_is_remediated_or_has_a_runbook_step(handler: ModuleType) -> None:
    rules = managed_rules()
    assert rules
    assert {r.name for r in rules} == set(handler.RUNBOOK)
    assert REMEDIATIONS
    assert set(REMEDIATIONS) <= {r.name for r in rules}
    assert set(REMEDIATIONS.values()) <= set(handler.ACTIONS)


def test_every_deployed_rule_resolves_to_its_runbook_step(handler: ModuleType, stacks: dict[str, Any]) -> None:
    """The deployed names (``security-baseline-<rule>-<region>-<suffix>``) find their step, and the
    function's RULE_ACTIONS name only actions the handler has."""
    deployed = [r["name"] for stack in stacks.values() for r in resources(stack, "aws_config_config_rule").values()]
    assert len(deployed) == len(stacks) * len(managed_rules())
    for rule in deployed:
        assert handler.runbook_step(rule) != handler.NO_RUNBOOK, rule
    functions = [f for stack in stacks.values() for f in resources(stack, "aws_lambda_function").values()]
    assert functions
    for function in functions:
        actions = json.loads(function["environment"]["variables"]["RULE_ACTIONS"])
        assert actions
        assert set(actions.values()) <= set(handler.ACTIONS)


def test_runbook_match_is_by_whole_name_part(handler: ModuleType) -> None:
    assert handler.runbook_step("security-baseline-s3-encryption-use1-dev") == handler.RUNBOOK["s3-encryption"]
    assert handler.runbook_step("security-baseline-s3-encryptionx-use1-dev") == handler.NO_RUNBOOK
