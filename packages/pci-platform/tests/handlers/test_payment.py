"""Payment handler against moto in-process, with pg8000's connection replaced by a fake database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pg8000.native
import pytest
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "payment"
REGION = "ap-southeast-1"
GOOD = {
    "payment_id": "pay_0001abcd",
    "amount": "12.50",
    "currency": "SGD",
    "card_token": "tok_abcdef123456",
    "merchant_id": "m-42",
}


class FakeDatabase:
    def __init__(self, *, fail_connect: bool = False, fail_insert: bool = False) -> None:
        self.fail_connect = fail_connect
        self.fail_insert = fail_insert
        self.rows: list[dict[str, Any]] = []
        self.logins: list[dict[str, Any]] = []

    def connect(self, **kwargs: Any) -> FakeDatabase:
        self.logins.append(kwargs)
        if self.fail_connect:
            raise pg8000.native.InterfaceError("connection refused")
        return self

    def run(self, sql: str, **params: Any) -> list[Any]:
        if sql.startswith("INSERT"):
            if self.fail_insert:
                raise pg8000.native.DatabaseError({"C": "53300", "M": "too many connections"})
            self.rows.append(params)
        return []

    def close(self) -> None:
        pass


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="payments")["QueueUrl"]
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name="payments-bus")
        # Capture the bus's events in a queue, as the analytics rule would.
        capture_url = sqs.create_queue(QueueName="capture")["QueueUrl"]
        capture_arn = sqs.get_queue_attributes(QueueUrl=capture_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="all", EventBusName="payments-bus", EventPattern=json.dumps({"source": ["pci-platform.payments"]})
        )
        events.put_targets(Rule="all", EventBusName="payments-bus", Targets=[{"Id": "q", "Arn": capture_arn}])
        bucket = boto3.client("s3", region_name=REGION)
        bucket.create_bucket(Bucket="tx-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="fh", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("firehose", region_name=REGION).create_delivery_stream(
            DeliveryStreamName="tx",
            ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": "arn:aws:s3:::tx-logs"},
        )
        env = {
            "DB_HOST": "proxy.internal",
            "DB_USER": "payments_app",
            "DB_NAME": "payments",
            "QUEUE_URL": queue_url,
            "BUS_NAME": "payments-bus",
            "STREAM_NAME": "tx",
            "MAX_BODY_BYTES": "512",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield {"sqs": sqs, "queue_url": queue_url, "capture_url": capture_url}


@pytest.fixture
def handler(aws: dict[str, Any]) -> ModuleType:
    return load_handler(FOLDER)


def request(body: Any, *, encode: bool = False) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    if encode:
        return {
            "httpMethod": "POST",
            "path": "/api/payments",
            "isBase64Encoded": True,
            "body": base64.b64encode(text.encode()).decode(),
        }
    return {"httpMethod": "POST", "path": "/api/payments", "isBase64Encoded": False, "body": text}


def use(monkeypatch: pytest.MonkeyPatch, handler: ModuleType, db: FakeDatabase) -> None:
    monkeypatch.setattr(handler.pg8000.native, "Connection", db.connect)


def messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    return [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


@pytest.mark.parametrize("encode", [False, True])
def test_stores_queues_and_publishes_a_good_payment(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, encode: bool
) -> None:
    db = FakeDatabase()
    use(monkeypatch, handler, db)
    response = handler.handler(request(GOOD, encode=encode), None)
    assert response["statusCode"] == 201
    assert json.loads(response["body"]) == {"payment_id": "pay_0001abcd", "status": "accepted", "warnings": []}
    assert db.rows == [GOOD]
    login = db.logins[0]
    assert (login["user"], login["host"], login["database"]) == ("payments_app", "proxy.internal", "payments")
    assert login["ssl_context"] is not None
    assert login["password"]  # an IAM authentication token, not a stored password
    assert messages(aws["sqs"], aws["queue_url"]) == [GOOD]
    (event,) = messages(aws["sqs"], aws["capture_url"])
    assert event["detail-type"] == "payment.succeeded"
    assert "card_token" not in event["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("not json", "body is not JSON"),
        ([1, 2], "body is not a JSON object"),
        ({**GOOD, "amount": "-1"}, "invalid fields: amount"),
        ({**GOOD, "amount": "1.001"}, "invalid fields: amount"),
        ({**GOOD, "currency": "sgd", "payment_id": "x"}, "invalid fields: payment_id, currency"),
        ({**GOOD, "card_token": "4111111111111111"}, "body contains a card number; send a card token"),
    ],
)
def test_rejects_malformed_payments(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, body: Any, detail: str
) -> None:
    db = FakeDatabase()
    use(monkeypatch, handler, db)
    response = handler.handler(request(body), None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "invalid_request", "detail": detail}
    assert db.logins == []


@pytest.mark.parametrize("event", [{}, None, {"body": None}, "text"])
def test_rejects_events_without_a_body(handler: ModuleType, event: Any) -> None:
    assert handler.handler(event, None)["statusCode"] == 400


def test_rejects_oversized_bodies_before_parsing(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    use(monkeypatch, handler, db)
    response = handler.handler(request({**GOOD, "note": "x" * 600}), None)
    assert response["statusCode"] == 413
    assert json.loads(response["body"])["error"] == "payload_too_large"


@pytest.mark.parametrize("db", [FakeDatabase(fail_connect=True), FakeDatabase(fail_insert=True)])
def test_database_errors_fail_the_payment_and_publish_it(
    handler: ModuleType,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    db: FakeDatabase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use(monkeypatch, handler, db)
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 502
    assert json.loads(response["body"]) == {"error": "database_unavailable", "payment_id": "pay_0001abcd"}
    assert messages(aws["sqs"], aws["queue_url"]) == []
    (event,) = messages(aws["sqs"], aws["capture_url"])
    assert event["detail-type"] == "payment.failed"
    assert any(getattr(r, "outcome", None) == "failed" for r in caplog.records)


def test_downstream_errors_after_storing_are_reported_not_failed(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, handler, FakeDatabase())
    monkeypatch.setenv("QUEUE_URL", aws["queue_url"] + "-missing")
    monkeypatch.setenv("STREAM_NAME", "missing-stream")
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["warnings"] == ["queue", "stream"]
