"""Fixtures of the remediation handler tests: moto in-process, the loaded handler, its AWS calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "remediation"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account: the function's own
PAB_RULE = "security-baseline-s3-public-access-use1-dev"
TAG_RULE = "security-baseline-required-tags-use1-dev"
REQUIRED = "Environment,CostCenter,Owner,DataClassification,ManagedBy,App"


@pytest.fixture
def context() -> SimpleNamespace:
    """The invocation context Lambda passes: the function's ARN names its account."""
    return SimpleNamespace(invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:remediation")


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    """Builds a Config Rules Compliance Change event as EventBridge delivers it."""
    return config_event


def config_event(
    rule: str, resource_type: str, resource_id: str, compliance: str = "NON_COMPLIANT", account: str = ACCOUNT
) -> dict[str, Any]:
    """A Config Rules Compliance Change event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "5f1a0e6c-0000-0000-0000-000000000000",
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": account,
        "region": REGION,
        "detail": {
            "resourceId": resource_id,
            "awsRegion": REGION,
            "awsAccountId": account,
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
    monkeypatch.setenv("REQUIRED_TAG_KEYS", REQUIRED)
    with mock_aws():
        yield


@pytest.fixture
def handler(aws: None) -> ModuleType:
    return load_handler(FOLDER)


@pytest.fixture
def calls(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """Every AWS call the handler makes: (service, operation, parameters)."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    real: Callable[..., Any] = handler._client

    def recording(service: str, region: str | None) -> Any:
        client = real(service, region)

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            seen.append((service, model.name, dict(params)))

        client.meta.events.register(f"provide-client-params.{service}.*", record)
        return client

    monkeypatch.setattr(handler, "_client", recording)
    return seen


@pytest.fixture
def topic(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The report topic, subscribed by a queue the test reads: returns the queue URL."""
    sns = boto3.client("sns", region_name=REGION)
    arn: str = sns.create_topic(Name="compliance")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("REPORT_TOPIC_ARN", arn)
    return queue


@pytest.fixture
def remediate(handler: ModuleType, context: SimpleNamespace) -> Callable[..., dict[str, Any]]:
    """Runs the handler on one event built by :func:`config_event`; returns its one result."""

    def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        (result,) = handler.handler(config_event(*args, **kwargs), context)["results"]
        return dict(result)

    return run
