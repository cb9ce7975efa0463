"""Transaction handler: validate, authorize and record a payment idempotently, then publish its event.

Two callers:

* API Gateway (Lambda proxy event with a JSON ``body``): the whole chain runs and an HTTP response
  comes back: 201 recorded, 400 invalid request, 402 declined, 409 duplicate idempotency key,
  503 a dependency failed (retry with the same idempotency key).
* Step Functions tasks (``{"action": "validate" | "authorize" | "record", "payment": {...}}``): the
  step's result is returned; failures raise errors whose class names the state machine's
  ``Retry``/``Catch`` rules match (``PaymentValidationError``, ``PaymentDeclinedError``,
  ``DuplicatePaymentError``, ``TransientError``, ``PaymentStoreError``).

Idempotency: the table's hash key is the client's idempotency key and the write is a conditional
put. The item records a hash of the request and whether its event was published, so that a retry
after a failed publish (same key, same request) publishes instead of being refused.

Environment: ``TABLE_NAME``, ``EVENT_BUS_NAME``, ``AWS_REGION`` (set by Lambda),
``MAX_AMOUNT`` (authorization limit, default 1000000), ``CURRENCIES`` (comma-separated ISO 4217
codes, default a common set).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

EVENT_SOURCE = "payments.transactions"
ACCEPTED = "PaymentAccepted"
DEFAULT_CURRENCIES = "USD,EUR,GBP,JPY,SGD,AUD,CAD,CHF"
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "InternalException",
    }
)

_dynamodb = boto3.client("dynamodb")
_events = boto3.client("events")


class PaymentError(Exception):
    """Base of the errors this handler reports; ``status`` and ``code`` shape the HTTP answer."""

    status = 500
    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PaymentValidationError(PaymentError):
    """The request is malformed (400)."""

    status = 400
    code = "INVALID_REQUEST"


class PaymentDeclinedError(PaymentError):
    """The payment is well-formed but not authorized (402)."""

    status = 402
    code = "DECLINED"


class DuplicatePaymentError(PaymentError):
    """The idempotency key was already used (409)."""

    status = 409
    code = "DUPLICATE_IDEMPOTENCY_KEY"


class TransientError(PaymentError):
    """A dependency is throttled or failing; the same request may be retried (503)."""

    status = 503
    code = "RETRY"


class PaymentStoreError(PaymentError):
    """A dependency refused the call for a non-transient reason (500)."""

    status = 500
    code = "STORE_ERROR"


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line (never card data: payments carry no PAN here)."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def _region() -> str:
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def validate(raw: Any) -> dict[str, Any]:
    """Check amount, currency and idempotency key; return the normalised payment."""
    if not isinstance(raw, dict):
        raise PaymentValidationError("payment must be a JSON object")
    problems: list[str] = []
    key = raw.get("idempotency_key")
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        problems.append("idempotency_key must be 8-64 characters of letters, digits, '-' or '_'")
    currency = raw.get("currency")
    allowed = {c.strip() for c in os.environ.get("CURRENCIES", DEFAULT_CURRENCIES).split(",") if c.strip()}
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency) or currency not in allowed:
        problems.append(f"currency must be one of {', '.join(sorted(allowed))}, got {currency!r}")
    amount_raw = raw.get("amount")
    amount: Decimal | None = None
    if isinstance(amount_raw, bool) or not isinstance(amount_raw, int | float | str):
        problems.append(f"amount must be a positive decimal number, got {amount_raw!r}")
    else:
        try:
            amount = Decimal(str(amount_raw))
        except InvalidOperation:
            problems.append(f"amount must be a positive decimal number, got {amount_raw!r}")
    if amount is not None:
        places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
        if not amount.is_finite() or amount <= 0:
            problems.append(f"amount must be greater than 0, got {amount_raw!r}")
        elif -amount.as_tuple().exponent > places:  # type: ignore[operator]
            problems.append(f"amount allows {places} decimal places for {currency}, got {amount_raw!r}")
    merchant = raw.get("merchant_id", "")
    if not isinstance(merchant, str) or len(merchant) > 64:
        problems.append("merchant_id must be a string of at most 64 characters")
    if problems:
        raise PaymentValidationError("; ".join(problems), problems=problems)
    return {
        "idempotency_key": key,
        "amount": str(amount),
        "currency": currency,
        "merchant_id": merchant,
    }


def authorize(payment: dict[str, Any]) -> dict[str, Any]:
    """Decline amounts above the configured limit; a real acquirer call would go here."""
    limit = Decimal(os.environ.get("MAX_AMOUNT", "1000000"))
    if Decimal(payment["amount"]) > limit:
        raise PaymentDeclinedError(f"amount {payment['amount']} exceeds the limit {limit}")
    return {**payment, "authorized": True}


def _request_hash(payment: dict[str, Any]) -> str:
    body = {k: payment[k] for k in ("idempotency_key", "amount", "currency", "merchant_id")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _client_error(exc: ClientError, action: str) -> PaymentError:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    if code in TRANSIENT_CODES:
        return TransientError(f"{action} was throttled or failed ({code}); retry", aws_error=code)
    return PaymentStoreError(f"{action} failed ({code})", aws_error=code)


def _publish(item: dict[str, Any]) -> None:
    detail = {
        k: item[k]
        for k in ("payment_id", "idempotency_key", "amount", "currency", "merchant_id", "origin_region", "created_at")
    }
    try:
        answer = _events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": ACCEPTED,
                    "Detail": json.dumps(detail),
                    "EventBusName": os.environ["EVENT_BUS_NAME"],
                }
            ]
        )
    except ClientError as exc:
        raise _client_error(exc, "publishing the payment event") from exc
    except BotoCoreError as exc:
        raise TransientError(f"publishing the payment event failed: {exc}") from exc
    if answer.get("FailedEntryCount", 0):
        entry = answer.get("Entries", [{}])[0]
        raise TransientError("publishing the payment event failed", aws_error=entry.get("ErrorCode"))


def _mark_published(key: str) -> None:
    try:
        _dynamodb.update_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"idempotency_key": {"S": key}},
            UpdateExpression="SET event_published = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )
    except (ClientError, BotoCoreError) as exc:
        # The event is out; the flag only guards retries, and a later retry is refused as a duplicate.
        log("WARNING", "could not mark the event published", idempotency_key=key, error=str(exc))


def _existing(key: str) -> dict[str, Any] | None:
    try:
        found = _dynamodb.get_item(
            TableName=os.environ["TABLE_NAME"], Key={"idempotency_key": {"S": key}}, ConsistentRead=True
        )
    except ClientError as exc:
        raise _client_error(exc, "reading the existing payment") from exc
    existing: dict[str, Any] | None = found.get("Item")
    return existing


def record(payment: dict[str, Any]) -> dict[str, Any]:
    """Write the payment once (conditional put), then publish its event to the regional bus."""
    item = {
        **payment,
        "payment_id": str(uuid.uuid4()),
        "status": "RECORDED",
        "origin_region": _region(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "request_hash": _request_hash(payment),
    }
    attributes: dict[str, dict[str, Any]] = {
        k: {"S": str(v)} for k, v in item.items() if k not in ("amount", "authorized")
    }
    attributes["amount"] = {"N": str(item["amount"])}
    attributes["event_published"] = {"BOOL": False}
    try:
        _dynamodb.put_item(
            TableName=os.environ["TABLE_NAME"],
            Item=attributes,
            ConditionExpression="attribute_not_exists(idempotency_key)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise _client_error(exc, "recording the payment") from exc
        existing = _existing(payment["idempotency_key"])
        if (
            existing is None
            or existing.get("request_hash", {}).get("S") != item["request_hash"]
            or existing.get("event_published", {}).get("BOOL", True)
        ):
            raise DuplicatePaymentError(
                f"idempotency key {payment['idempotency_key']!r} was already used",
                payment_id=(existing or {}).get("payment_id", {}).get("S"),
            ) from exc
        # Same request retried after its event failed to publish: finish the earlier attempt.
        item = {k: v.get("S", v.get("N")) for k, v in existing.items() if "S" in v or "N" in v}
        log("INFO", "resuming a payment whose event was not published", payment_id=item["payment_id"])
    _publish(item)
    _mark_published(payment["idempotency_key"])
    log("INFO", "payment recorded", payment_id=item["payment_id"], region=item["origin_region"])
    return {
        k: item[k]
        for k in (
            "payment_id",
            "idempotency_key",
            "amount",
            "currency",
            "merchant_id",
            "status",
            "origin_region",
            "created_at",
        )
    }


def _http(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _api(event: dict[str, Any]) -> dict[str, Any]:
    try:
        try:
            raw = json.loads(event.get("body") or "")
        except (TypeError, ValueError):
            raise PaymentValidationError("request body must be a JSON object") from None
        return _http(201, record(authorize(validate(raw))))
    except PaymentError as exc:
        log("WARNING" if exc.status < 500 else "ERROR", exc.message, code=exc.code, **exc.details)
        return _http(exc.status, {"error": {"code": exc.code, "message": exc.message, **exc.details}})


STEPS = {"validate": validate, "authorize": authorize, "record": record}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Entry point for API Gateway proxy events and Step Functions task inputs."""
    if isinstance(event, dict) and ("httpMethod" in event or "requestContext" in event):
        return _api(event)
    if not isinstance(event, dict):
        raise PaymentValidationError("task input must be a JSON object")
    action = event.get("action", "process")
    payment = event.get("payment", {})
    if action == "process":
        return record(authorize(validate(payment)))
    step = STEPS.get(action)
    if step is None:
        raise PaymentValidationError(f"action must be one of process, {', '.join(STEPS)}; got {action!r}")
    return step(payment)
