"""Change-data-capture handler on the payments table's stream, in every region.

Receipts: every region's consumer writes the receipt of every recorded payment it sees, whichever
region recorded it, to its own regional bucket, so a receipt exists in a region even when the
payment's origin region is lost before it wrote or replicated one. The receipt's key comes from
the payment id only (``receipts/<payment_id>.json``) and its content from the item only, and the
write is conditional (``If-None-Match: *``): a copy already there for the same authorization
(written by this consumer's earlier try, or replicated from another region) is left as it is. The ``PaymentRecorded`` event is
emitted by the origin region's consumer only (one event per payment; the failover rule forwards it).

Cross-region duplicates: the same (merchant, key) submitted to two regions inside the replication
window is recorded under the same payment id in both; the global table keeps the last write. A
region whose recorded payment is overwritten by another attempt's write sees a MODIFY whose old
image is SUCCEEDED with another authorization: that authorization is the duplicate the table no
longer holds. The consumer voids it (idempotent), alerts (ids only), emits ``PaymentDuplicateVoided``
and rewrites the receipt from the item that stays.

Partial batch response: a record that fails is reported in ``batchItemFailures`` by its sequence
number; the mapping retries it, bisects and finally sends its stream position (shard and sequence
numbers, readable for the stream's 24 hours) to the on-failure queue. A receipt a region's consumer
failed to write is still written by the other regions' consumers and replicated back.

Environment: ``RECEIPTS_BUCKET``, ``RECEIPTS_KEY_ARN``, ``EVENT_BUS_NAME``, ``ALERT_TOPIC_ARN``,
``AWS_REGION`` (set by Lambda).
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
DUPLICATE_VOIDED = "PaymentDuplicateVoided"
SUCCEEDED = "SUCCEEDED"
REQUIRED = ("payment_id", "amount", "currency", "origin_region", "authorization_id")
RECEIPT_FIELDS = (*REQUIRED, "merchant_id", "client_key", "reason_code", "recorded_at")
AUTHORIZATION_METADATA = "authorization-id"
ALREADY_WRITTEN = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})

_s3 = boto3.client("s3")
_events = boto3.client("events")
_sns = boto3.client("sns")
_deserializer = TypeDeserializer()


class BadRecordError(ValueError):
    """A stream record that cannot be turned into a receipt."""


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def _region() -> str:
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def image(record: dict[str, Any], which: str = "NewImage") -> dict[str, Any] | None:
    """A stream record's image as plain Python values (None when the record has none)."""
    raw = record.get("dynamodb", {}).get(which)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRecordError(f"{which} is not a DynamoDB item")
    try:
        values = {k: _deserializer.deserialize(v) for k, v in raw.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRecordError(f"{which} is not a DynamoDB item: {exc}") from exc
    return {k: str(v) if not isinstance(v, bool) else v for k, v in values.items()}


def receipt_key(payment: dict[str, Any]) -> str:
    """``receipts/<payment id>.json``: one name per payment in every region and on every retry."""
    pid = str(payment.get("payment_id", ""))
    if not pid.startswith("pay_") or "/" in pid:
        raise BadRecordError(f"payment_id {pid!r} is not a payment id")
    return f"receipts/{pid}.json"


def _put_receipt(payment: dict[str, Any], receipt: dict[str, Any], conditional: bool) -> None:
    _s3.put_object(
        Bucket=os.environ["RECEIPTS_BUCKET"],
        Key=receipt_key(payment),
        Body=json.dumps(receipt, sort_keys=True).encode(),
        ContentType="application/json",
        Metadata={AUTHORIZATION_METADATA: str(payment["authorization_id"])},
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=os.environ["RECEIPTS_KEY_ARN"],
        BucketKeyEnabled=True,
        **({"IfNoneMatch": "*"} if conditional else {}),
    )


def write_receipt(payment: dict[str, Any]) -> bool:
    """Write the receipt unless the same one is there; True when this call wrote it.

    A receipt already present for another authorization of the payment (a cross-region duplicate
    that lost) is replaced by this one, the authorization the table kept.
    """
    missing = [k for k in REQUIRED if k not in payment]
    if missing:
        raise BadRecordError(f"recorded payment lacks {', '.join(missing)}")
    receipt = {"receipt_version": 2, "status": SUCCEEDED, **{k: payment[k] for k in RECEIPT_FIELDS if k in payment}}
    try:
        _put_receipt(payment, receipt, conditional=True)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ALREADY_WRITTEN:
            raise
    present = _s3.head_object(Bucket=os.environ["RECEIPTS_BUCKET"], Key=receipt_key(payment))
    if present.get("Metadata", {}).get(AUTHORIZATION_METADATA) == str(payment["authorization_id"]):
        return False
    _put_receipt(payment, receipt, conditional=False)
    return True


def _put_event(detail_type: str, detail: dict[str, Any]) -> None:
    answer = _events.put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": detail_type,
                "EventBusName": os.environ["EVENT_BUS_NAME"],
                "Detail": json.dumps(detail, sort_keys=True),
            }
        ]
    )
    if answer.get("FailedEntryCount", 0):
        raise RuntimeError(f"PutEvents refused the event: {answer.get('Entries')}")


def void_authorization(authorization_id: str, reference: str) -> dict[str, Any]:
    """Void at the acquirer (stand-in: the transaction function's ``payments_acquirer.void``
    contract: idempotent, keyed by the authorization id)."""
    return {"authorization_id": authorization_id, "reference": reference, "voided": True}


def resolve_duplicate(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Void the overwritten attempt's authorization, alert with ids only, announce it."""
    voided = void_authorization(str(old["authorization_id"]), str(old["payment_id"]))
    detail = {
        "payment_id": old["payment_id"],
        "voided_authorization_id": old["authorization_id"],
        "voided_origin_region": old.get("origin_region"),
        "kept_status": new.get("status"),
        "kept_authorization_id": new.get("authorization_id"),
        "kept_origin_region": new.get("origin_region"),
        "seen_in_region": _region(),
    }
    _sns.publish(
        TopicArn=os.environ["ALERT_TOPIC_ARN"],
        Subject="Duplicate payment authorization voided",
        Message=json.dumps(detail, sort_keys=True),
    )
    _put_event(DUPLICATE_VOIDED, detail)
    log("WARNING", "cross-region duplicate resolved", **detail)
    return voided


def process(record: dict[str, Any]) -> str | None:
    """Handle one record; return what was done (for the log), or None when nothing was."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None  # TTL and other removals make no receipt
    new, old = image(record), image(record, "OldImage")
    if new is None:
        raise BadRecordError("record has no NewImage")
    duplicate = False
    if old is not None and old.get("status") == SUCCEEDED and "authorization_id" in old:
        duplicate = old["authorization_id"] != new.get("authorization_id")
        if duplicate:
            resolve_duplicate(old, new)
    if new.get("status") != SUCCEEDED:
        return "duplicate voided" if duplicate else None
    if old is not None and old.get("status") == SUCCEEDED and not duplicate:
        return None  # a rewrite of the same recorded payment: its receipt exists
    wrote = write_receipt(new)
    if new["origin_region"] == _region():
        _put_event(
            RECORDED,
            {"payment_id": new["payment_id"], "receipt_key": receipt_key(new), "origin_region": new["origin_region"]},
        )
    return f"receipt {'written' if wrote else 'already present'}: {receipt_key(new)}"


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Process a stream batch (or a redrive of failed records); report only the records that failed."""
    failures: list[dict[str, str]] = []
    records = event.get("Records", []) if isinstance(event, dict) else []
    for record in records:
        sequence = str(record.get("dynamodb", {}).get("SequenceNumber", "")) if isinstance(record, dict) else ""
        try:
            if not isinstance(record, dict):
                raise BadRecordError("record is not an object")
            done = process(record)
            if done:
                log("INFO", done, sequence=sequence)
        except (BadRecordError, ClientError, BotoCoreError, RuntimeError, KeyError) as exc:
            log("ERROR", "record failed", sequence=sequence, error=str(exc), error_type=type(exc).__name__)
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}
