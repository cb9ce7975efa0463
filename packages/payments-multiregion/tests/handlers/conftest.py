"""Fixtures for handler tests: moto in-process with the table, bus and bucket the handlers use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
REGION = "us-east-1"
TABLE = "payments-transactions-test"
BUS = "payments-events-use1-test"
BUCKET = "payments-receipts-use1-test"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TOPIC = "payments-alerts-use1-test"
STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:payments-workflow-use1-test"


def create_table(region: str) -> Any:
    """The payments table (stream on) in ``region`` of the mocked account."""
    dynamodb = boto3.client("dynamodb", region_name=region)
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "idempotency_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return dynamodb


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A mocked account with the payments table (stream on), the regional bus and receipts bucket."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "TABLE_NAME": TABLE,
        "EVENT_BUS_NAME": BUS,
        "RECEIPTS_BUCKET": BUCKET,
        "RECEIPTS_KEY_ARN": KEY_ARN,
        "MAX_AMOUNT": "10000",
        "CLAIM_TTL_S": "300",
        "STATE_MACHINE_ARN": STATE_MACHINE_ARN,
        "WORKFLOW_TYPE": "EXPRESS",
        "CURRENCIES": "EUR,USD,JPY",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb = create_table(REGION)
        sns = boto3.client("sns", region_name=REGION)
        monkeypatch.setenv("ALERT_TOPIC_ARN", sns.create_topic(Name=TOPIC)["TopicArn"])
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield {
            "dynamodb": dynamodb,
            "events": events,
            "s3": s3,
            "sns": sns,
            "cloudwatch": boto3.client("cloudwatch", region_name=REGION),
        }


@pytest.fixture
def transaction(aws: dict[str, Any]) -> ModuleType:
    return load_handler(LAMBDAS / "transaction")


@pytest.fixture
def intake(aws: dict[str, Any]) -> ModuleType:
    return load_handler(LAMBDAS / "transaction", "intake")


@pytest.fixture
def cdc(aws: dict[str, Any]) -> ModuleType:
    return load_handler(LAMBDAS / "cdc")


@pytest.fixture
def health(aws: dict[str, Any]) -> ModuleType:
    return load_handler(LAMBDAS / "health")
