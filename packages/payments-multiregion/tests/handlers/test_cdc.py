"""CDC handler against moto: receipts, events, skipped records and a batch with one bad record."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import BUCKET, KEY_ARN

IMAGE = {
    "idempotency_key": {"S": "order-0001"},
    "payment_id": {"S": "p-1"},
    "amount": {"N": "125.50"},
    "currency": {"S": "EUR"},
    "merchant_id": {"S": "m-42"},
    "origin_region": {"S": "us-east-1"},
    "created_at": {"S": "2026-11-22T10:00:00Z"},
    "status": {"S": "RECORDED"},
    "event_published": {"BOOL": False},
}


def record(sequence: str, image: dict[str, Any] | None = None, event_name: str = "INSERT") -> dict[str, Any]:
    body: dict[str, Any] = {"SequenceNumber": sequence, "Keys": {"idempotency_key": {"S": "k"}}}
    if image is not None:
        body["NewImage"] = image
    return {"eventID": sequence, "eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": body}


def with_id(payment_id: str) -> dict[str, Any]:
    return {**IMAGE, "payment_id": {"S": payment_id}}


@pytest.fixture
def published(cdc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    real = cdc._events.put_events
    monkeypatch.setattr(cdc._events, "put_events", lambda **kw: sent.extend(kw["Entries"]) or real(**kw))
    return sent


@pytest.mark.requirement("PAY-9")
def test_writes_receipt_and_emits_event(cdc: ModuleType, aws: dict[str, Any], published: list[dict[str, Any]]) -> None:
    answer = cdc.handler({"Records": [record("100", IMAGE)]}, None)
    assert answer == {"batchItemFailures": []}
    body = aws["s3"].get_object(Bucket=BUCKET, Key="receipts/2026/11/22/p-1.json")["Body"].read()
    head = aws["s3"].head_object(Bucket=BUCKET, Key="receipts/2026/11/22/p-1.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == KEY_ARN
    receipt = json.loads(body)
    assert receipt["amount"] == "125.50"
    assert receipt["currency"] == "EUR"
    assert receipt["status"] == "RECORDED"
    assert [e["DetailType"] for e in published] == ["PaymentRecorded"]
    assert json.loads(published[0]["Detail"]) == {
        "payment_id": "p-1",
        "receipt_key": "receipts/2026/11/22/p-1.json",
        "origin_region": "us-east-1",
    }


def test_skips_updates_and_other_regions(cdc: ModuleType, aws: dict[str, Any], published: list[dict[str, Any]]) -> None:
    remote = {**IMAGE, "origin_region": {"S": "eu-west-1"}}
    answer = cdc.handler(
        {"Records": [record("1", IMAGE, "MODIFY"), record("2", remote), record("3", None, "REMOVE")]}, None
    )
    assert answer == {"batchItemFailures": []}
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert published == []


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"payment_id": {"S": "p-2"}},
        {**IMAGE, "created_at": {"S": "yesterday"}},
        {**IMAGE, "amount": {"Q": "1"}},
    ],
)
def test_fails_only_the_bad_record_in_a_batch(cdc: ModuleType, aws: dict[str, Any], bad: dict[str, Any] | None) -> None:
    batch = {"Records": [record("1", with_id("p-1")), record("2", bad), record("3", with_id("p-3"))]}
    answer = cdc.handler(batch, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    keys = sorted(o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["receipts/2026/11/22/p-1.json", "receipts/2026/11/22/p-3.json"]


def test_fails_record_when_s3_refuses(cdc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    real = cdc._s3.put_object

    def flaky(**kwargs: Any) -> Any:
        if kwargs["Key"].endswith("p-2.json"):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "PutObject")
        return real(**kwargs)

    monkeypatch.setattr(cdc._s3, "put_object", flaky)
    answer = cdc.handler({"Records": [record("1", with_id("p-1")), record("2", with_id("p-2"))]}, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}


def test_fails_record_when_eventbridge_refuses(cdc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        cdc._events, "put_events", lambda **kw: {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}
    )
    answer = cdc.handler({"Records": [record("7", IMAGE)]}, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "7"}]}


def test_fails_record_when_bucket_missing(cdc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECEIPTS_BUCKET", "no-such-bucket-payments")
    answer = cdc.handler({"Records": [record("9", IMAGE)]}, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "9"}]}


@pytest.mark.parametrize("event", [{}, {"Records": []}, "not an event"])
def test_empty_or_malformed_batch_has_no_failures(cdc: ModuleType, event: Any) -> None:
    assert cdc.handler(event, None) == {"batchItemFailures": []}
