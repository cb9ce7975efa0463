"""Authorise one payment received from the internal load balancer.

The request body is JSON: ``payment_id`` (8-64 of ``[A-Za-z0-9_-]``), ``amount`` (positive, at most
two decimals), ``currency`` (ISO 4217), ``card_token`` (a token, never a card number) and
``merchant_id``. The payment is stored through RDS Proxy (IAM token, TLS), queued for batch
settlement, published on the payment bus (``payment.succeeded``) and written, without the token, to
the transaction-log stream. When the database refuses or fails, ``payment.failed`` is published.

Responses: 201 stored; 400 malformed; 413 body too large; 502 database unavailable. Every request
logs one line with ``outcome`` (``succeeded``/``rejected``/``failed``), counted by the platform's
failed-payments metric filter.

Environment: DB_HOST, DB_PORT, DB_USER, DB_NAME (RDS Proxy endpoint and user), QUEUE_URL, BUS_NAME,
STREAM_NAME, EVENT_SOURCE, MAX_BODY_BYTES (default 8192).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import ssl
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
import pg8000.native
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger("payment")
LOGGER.setLevel(logging.INFO)

PAYMENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
TOKEN = re.compile(r"^tok_[A-Za-z0-9]{8,64}$")
PAN_LIKE = re.compile(r"\d{13,19}")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS payments (payment_id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, "
    "amount NUMERIC(12,2) NOT NULL, currency CHAR(3) NOT NULL, card_token TEXT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)
INSERT = (
    "INSERT INTO payments (payment_id, merchant_id, amount, currency, card_token) "
    "VALUES (:payment_id, :merchant_id, :amount, :currency, :card_token) ON CONFLICT (payment_id) DO NOTHING"
)


class Rejected(ValueError):
    """The request is not a valid payment; the message says why."""


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "statusDescription": f"{status}",
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def parse(event: Any, max_bytes: int) -> dict[str, Any]:
    """The validated payment of an ALB event; raises :class:`Rejected` (``too_large`` first)."""
    if not isinstance(event, dict) or not isinstance(event.get("body"), str):
        raise Rejected("request has no body")
    raw = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"].encode()
    if len(raw) > max_bytes:
        raise Rejected("too_large")
    try:
        body = json.loads(raw)
    except ValueError:
        raise Rejected("body is not JSON") from None
    if not isinstance(body, dict):
        raise Rejected("body is not a JSON object")
    if PAN_LIKE.search(json.dumps(body)):
        raise Rejected("body contains a card number; send a card token")
    problems = []
    if not isinstance(body.get("payment_id"), str) or not PAYMENT_ID.fullmatch(body["payment_id"]):
        problems.append("payment_id")
    if not isinstance(body.get("currency"), str) or not CURRENCY.fullmatch(body["currency"]):
        problems.append("currency")
    if not isinstance(body.get("card_token"), str) or not TOKEN.fullmatch(body["card_token"]):
        problems.append("card_token")
    if not isinstance(body.get("merchant_id"), str) or not 1 <= len(body["merchant_id"]) <= 64:
        problems.append("merchant_id")
    try:
        amount = Decimal(str(body.get("amount")))
        # A non-finite amount has a letter for its exponent ('n', 'N', 'F'), never an int.
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int) or amount <= 0 or exponent < -2 or amount >= Decimal("1e10"):
            problems.append("amount")
    except InvalidOperation:
        problems.append("amount")
    if problems:
        raise Rejected(f"invalid fields: {', '.join(problems)}")
    return {
        "payment_id": body["payment_id"],
        "merchant_id": body["merchant_id"],
        "amount": str(amount),
        "currency": body["currency"],
        "card_token": body["card_token"],
    }


def _connect() -> pg8000.native.Connection:
    host, port, user = os.environ["DB_HOST"], int(os.environ.get("DB_PORT", "5432")), os.environ["DB_USER"]
    token = boto3.client("rds").generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user)
    # RDS Proxy requires TLS; its certificate is public (Amazon Trust Services), so verify it.
    return pg8000.native.Connection(
        user=user,
        password=token,
        host=host,
        port=port,
        database=os.environ.get("DB_NAME", "payments"),
        ssl_context=ssl.create_default_context(),
        timeout=5,
    )


def _publish(detail_type: str, payment: dict[str, Any], **extra: Any) -> None:
    detail = {k: v for k, v in payment.items() if k != "card_token"} | extra
    boto3.client("events").put_events(
        Entries=[
            {
                "Source": os.environ.get("EVENT_SOURCE", "pci-platform.payments"),
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": os.environ["BUS_NAME"],
            }
        ]
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Handle one ALB request (module docstring)."""
    try:
        payment = parse(event, int(os.environ.get("MAX_BODY_BYTES", "8192")))
    except Rejected as exc:
        status = 413 if str(exc) == "too_large" else 400
        LOGGER.warning("payment rejected", extra={"outcome": "rejected", "reason": str(exc)})
        return _response(
            status, {"error": "payload_too_large" if status == 413 else "invalid_request", "detail": str(exc)}
        )
    try:
        connection = _connect()
        try:
            connection.run(SCHEMA)
            connection.run(INSERT, **payment)
        finally:
            connection.close()
    except (pg8000.native.DatabaseError, pg8000.native.InterfaceError, OSError, ClientError, BotoCoreError) as exc:
        LOGGER.error(
            "payment failed",
            extra={"outcome": "failed", "payment_id": payment["payment_id"], "reason": type(exc).__name__},
        )
        try:
            _publish("payment.failed", payment, reason=type(exc).__name__)
        except (ClientError, BotoCoreError):
            LOGGER.error("could not publish payment.failed", extra={"payment_id": payment["payment_id"]})
        return _response(502, {"error": "database_unavailable", "payment_id": payment["payment_id"]})
    warnings = []
    public = {k: v for k, v in payment.items() if k != "card_token"}
    follow_ups = (
        (
            "queue",
            lambda: boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(payment)),
        ),
        ("event", lambda: _publish("payment.succeeded", payment)),
        (
            "stream",
            lambda: boto3.client("firehose").put_record(
                DeliveryStreamName=os.environ["STREAM_NAME"], Record={"Data": (json.dumps(public) + "\n").encode()}
            ),
        ),
    )
    for step, call in follow_ups:
        # The payment is stored: a failed follow-up is reported, never turned into a failed payment.
        try:
            call()
        except (ClientError, BotoCoreError) as exc:
            warnings.append(step)
            LOGGER.error(
                "payment stored but a follow-up failed",
                extra={"payment_id": payment["payment_id"], "step": step, "reason": type(exc).__name__},
            )
    LOGGER.info("payment stored", extra={"outcome": "succeeded", "payment_id": payment["payment_id"]})
    return _response(201, {"payment_id": payment["payment_id"], "status": "accepted", "warnings": warnings})
