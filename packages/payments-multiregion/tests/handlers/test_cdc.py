"""CDC handler against moto: receipts, events, skipped records and a batch with one bad record."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import BUCKET, KEY_ARN

PID = "pay_" + "a" * 40
IMAGE = {
    "idempotency_key": {"S": PID},
    "payment_id": {"S": PID},
    "client_key": {"S": "order-0001"},
    "amount": {"N": "125.50"},
    "currency": {"S": "EUR"},
    "merchant_id": {"S": "m-42"},
    "origin_region": {"S": "us-east-1"},
    "created_at": {"S": "2026-11-22T10:00:00Z"},
    "status": {"S": "SUCCEEDED"},
    "reason_code": {"S": "APPROVED"},
    "authorization_id": {"S": "auth_1"},
    "attempt": {"N": "0"},
}
PENDING = {**IMAGE, "status": {"S": "PENDING"}}
del PENDING["authorization_id"]


def record(
    sequence: str, image: dict[str, Any] | None = None, event_name: str = "MODIFY", old: dict[str, Any] | None = PENDING
) -> dict[str, Any]:
    """A stream record as the table produces it (by default: a PENDING claim recorded as SUCCEEDED)."""
    body: dict[str, Any] = {"SequenceNumber": sequence, "Keys": {"idempotency_key": {"S": "k"}}}
    if image is not None:
        body["NewImage"] = image
    if old is not None and event_name == "MODIFY":
        body["OldImage"] = old
    return {"eventID": sequence, "eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": body}


def with_id(n: int) -> dict[str, Any]:
    pid = f"pay_{n:040d}"
    return {**IMAGE, "payment_id": {"S": pid}, "idempotency_key": {"S": pid}}


def key(n: int) -> str:
    return f"receipts/pay_{n:040d}.json"


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
    body = aws["s3"].get_object(Bucket=BUCKET, Key=f"receipts/{PID}.json")["Body"].read()
    head = aws["s3"].head_object(Bucket=BUCKET, Key=f"receipts/{PID}.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == KEY_ARN
    assert head["Metadata"] == {"authorization-id": "auth_1"}
    receipt = json.loads(body)
    assert (receipt["amount"], receipt["currency"], receipt["status"]) == ("125.50", "EUR", "SUCCEEDED")
    assert (receipt["authorization_id"], receipt["client_key"]) == ("auth_1", "order-0001")
    assert [e["DetailType"] for e in published] == ["PaymentRecorded"]
    assert json.loads(published[0]["Detail"]) == {
        "payment_id": PID,
        "receipt_key": f"receipts/{PID}.json",
        "origin_region": "us-east-1",
    }


@pytest.mark.requirement("PAY-10")
def test_writes_receipts_of_other_regions_payments_without_their_event(
    cdc: ModuleType, aws: dict[str, Any], published: list[dict[str, Any]]
) -> None:
    remote = {**IMAGE, "origin_region": {"S": "eu-west-1"}}
    answer = cdc.handler({"Records": [record("1", remote)]}, None)
    assert answer == {"batchItemFailures": []}
    receipt = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"receipts/{PID}.json")["Body"].read())
    assert receipt["origin_region"] == "eu-west-1"
    assert published == []


def test_receipt_write_is_idempotent(cdc: ModuleType, aws: dict[str, Any]) -> None:
    aws["s3"].put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for sequence in ("1", "2"):
        assert cdc.handler({"Records": [record(sequence, IMAGE)]}, None) == {"batchItemFailures": []}
    versions = aws["s3"].list_object_versions(Bucket=BUCKET)["Versions"]
    assert [v["Key"] for v in versions] == [f"receipts/{PID}.json"]


def test_skips_claims_declines_rewrites_and_removals(
    cdc: ModuleType, aws: dict[str, Any], published: list[dict[str, Any]]
) -> None:
    declined = {**PENDING, "status": {"S": "DECLINED"}}
    batch = [
        record("1", PENDING, "INSERT"),
        record("2", declined),
        record("3", {**IMAGE, "recorded_at": {"S": "x"}}, old=IMAGE),
        record("4", None, "REMOVE"),
    ]
    assert cdc.handler({"Records": batch}, None) == {"batchItemFailures": []}
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert published == []


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"payment_id": {"S": "p-2"}, "status": {"S": "SUCCEEDED"}},
        {**IMAGE, "payment_id": {"S": "../p"}},
        {**IMAGE, "amount": {"Q": "1"}},
    ],
)
def test_fails_only_the_bad_record_in_a_batch(cdc: ModuleType, aws: dict[str, Any], bad: dict[str, Any] | None) -> None:
    batch = {"Records": [record("1", with_id(1)), record("2", bad), record("3", with_id(3))]}
    answer = cdc.handler(batch, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    keys = sorted(o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [key(1), key(3)]


def test_fails_record_when_s3_refuses(cdc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    real = cdc._s3.put_object

    def flaky(**kwargs: Any) -> Any:
        if kwargs["Key"] == key(2):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "PutObject")
        return real(**kwargs)

    monkeypatch.setattr(cdc._s3, "put_object", flaky)
    answer = cdc.handler({"Records": [record("1", with_id(1)), record("2", with_id(2))]}, None)
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


@pytest.mark.requirement("PAY-9")
def test_overwritten_recorded_payment_is_voided_alerted_and_its_receipt_replaced(
    cdc: ModuleType, aws: dict[str, Any], published: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts: list[dict[str, Any]] = []
    monkeypatch.setattr(cdc._sns, "publish", lambda **kw: alerts.append(kw) or {"MessageId": "1"})
    winner = {**IMAGE, "authorization_id": {"S": "auth_2"}, "origin_region": {"S": "eu-west-1"}}
    batch = [record("1", IMAGE), record("2", winner, old=IMAGE)]
    assert cdc.handler({"Records": batch}, None) == {"batchItemFailures": []}
    assert [json.loads(a["Message"])["voided_authorization_id"] for a in alerts] == ["auth_1"]
    assert [e["DetailType"] for e in published] == ["PaymentRecorded", "PaymentDuplicateVoided"]
    receipt = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"receipts/{PID}.json")["Body"].read())
    assert receipt["authorization_id"] == "auth_2"
    assert [o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]] == [f"receipts/{PID}.json"]
