"""Change-data-capture handler on the payments table's stream.

For every newly inserted payment that originated in this region it writes a receipt to the
regional receipts bucket (S3 replication copies it to the other regions) and emits a
``PaymentRecorded`` event on the regional bus. Payments written in another region arrive here
through the global table too; their origin region's handler makes their receipt, so they are
skipped (one receipt and one event per payment, not one per region).

Partial batch response: a record that fails is reported in ``batchItemFailures`` by its sequence
number, and only it counts as failed; the event source mapping retries from there, bisects and
finally sends it to the on-failure destination. Receipt writes are idempotent (same key, same
content), so records re-read after a retry cause no duplicates.

Receipts are written with the bucket's customer-managed key named explicitly: the bucket policy
refuses uploads without the SSE-KMS header, and a bare ``aws:kms`` header would pick the
AWS-managed ``aws/s3`` key instead.

Environment: ``RECEIPTS_BUCKET``, ``RECEIPTS_KEY_ARN``, ``EVENT_BUS_NAME``, ``AWS_REGION`` (set by Lambda).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

EVENT_SOURCE = "payments.transactions"
RECORDED = "PaymentRecorded"
REQUIRED = ("payment_id", "idempotency_key", "amount", "currency", "origin_region", "created_at")

_s3 = boto3.client("s3")
_events = boto3.client("events")
_deserializer = TypeDeserializer()


class BadRecordError(ValueError):
    """A stream record that cannot be turned into a receipt."""


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def _region() -> str:
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def payment_of(record: dict[str, Any]) -> dict[str, Any]:
    """The payment in a stream record's new image, as plain Python values."""
    image = record.get("dynamodb", {}).get("NewImage")
    if not isinstance(image, dict):
        raise BadRecordError("record has no NewImage")
    try:
        payment = {k: _deserializer.deserialize(v) for k, v in image.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRecordError(f"NewImage is not a DynamoDB item: {exc}") from exc
    missing = [k for k in REQUIRED if k not in payment]
    if missing:
        raise BadRecordError(f"NewImage lacks {', '.join(missing)}")
    return {k: str(v) if not isinstance(v, bool) else v for k, v in payment.items()}


def receipt_key(payment: dict[str, Any]) -> str:
    """``receipts/<yyyy>/<mm>/<dd>/<payment id>.json`` from the payment's creation date."""
    day = payment["created_at"][:10].split("-")
    if len(day) != 3:
        raise BadRecordError(f"created_at {payment['created_at']!r} is not an ISO date")
    return f"receipts/{day[0]}/{day[1]}/{day[2]}/{payment['payment_id']}.json"


def process(record: dict[str, Any]) -> str | None:
    """Handle one record; return the receipt key written, or None when there is nothing to do."""
    if record.get("eventName") != "INSERT":
        return None  # updates (event_published flag) and TTL removals make no receipt
    payment = payment_of(record)
    if payment["origin_region"] != _region():
        return None
    key = receipt_key(payment)
    receipt = {
        "receipt_version": 1,
        **{k: payment[k] for k in (*REQUIRED, "merchant_id") if k in payment},
        "status": "RECORDED",
    }
    _s3.put_object(
        Bucket=os.environ["RECEIPTS_BUCKET"],
        Key=key,
        Body=json.dumps(receipt, sort_keys=True).encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=os.environ["RECEIPTS_KEY_ARN"],
        BucketKeyEnabled=True,
    )
    answer = _events.put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": RECORDED,
                "EventBusName": os.environ["EVENT_BUS_NAME"],
                "Detail": json.dumps(
                    {"payment_id": payment["payment_id"], "receipt_key": key, "origin_region": payment["origin_region"]}
                ),
            }
        ]
    )
    if answer.get("FailedEntryCount", 0):
        raise RuntimeError(f"PutEvents refused the event: {answer.get('Entries')}")
    return key


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Process a stream batch; report only the records that failed."""
    failures: list[dict[str, str]] = []
    records = event.get("Records", []) if isinstance(event, dict) else []
    for record in records:
        sequence = str(record.get("dynamodb", {}).get("SequenceNumber", "")) if isinstance(record, dict) else ""
        try:
            if not isinstance(record, dict):
                raise BadRecordError("record is not an object")
            key = process(record)
            if key:
                log("INFO", "receipt written", receipt_key=key, sequence=sequence)
        except (BadRecordError, ClientError, BotoCoreError, RuntimeError, KeyError) as exc:
            log("ERROR", "record failed", sequence=sequence, error=str(exc), error_type=type(exc).__name__)
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}
