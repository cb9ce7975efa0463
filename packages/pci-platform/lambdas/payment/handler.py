"""Authorise one payment received from the internal load balancer, exactly once per ``payment_id``.

The request body is JSON: ``payment_id`` (8-64 of ``[A-Za-z0-9_-]``), ``amount`` (positive, at most
two decimals), ``currency`` (ISO 4217), ``card_token`` (a token, never a card number) and
``merchant_id``. The payment is stored through RDS Proxy (IAM token; TLS with the server
certificate and host name verified), queued for batch settlement, published on the payment bus
(``payment.succeeded``) and written, without the token, to the transaction-log stream. When the
database refuses or fails before the payment is stored, ``payment.failed`` is published.

Responses: 201 stored; 400 malformed; 409 ``payment_id_reused`` (same id, different payment) or
``in_progress`` (another attempt holds the payment, ``Retry-After`` given); 413 body too large;
502 database unavailable. Every request logs one line with ``outcome`` (``succeeded``,
``duplicate``, ``rejected``, ``failed``), counted by the platform's failed-payments metric filter.

Idempotency: ``payment_id`` is the key. The insert is conditional (``ON CONFLICT DO NOTHING``) and
takes a lease on the row (``claimed_until``, ``CLAIM_SECONDS``, longer than the function's
timeout). Each follow-up (queue, event, stream) is marked done in the row when it succeeds, and the
answer (status code and body) is recorded in the row at the end. A repeated ``payment_id``:

- with a recorded answer: that answer again (same status code and body), nothing re-queued or
  re-published; a different payment under the same id gets 409 ``payment_id_reused``.
- without one, lease held: 409 ``in_progress`` (another attempt is running, or died less than
  ``CLAIM_SECONDS`` ago).
- without one, lease expired: the lease is taken and the attempt resumed: only the follow-ups not
  marked done run, then the answer is recorded and returned.

A timeout between the write and the publish, as the on-call engineer sees it: the client's first
request ends in a 502 from the load balancer; the row exists with no follow-up marked and no
answer. The client's retry with the same ``payment_id`` gets 409 ``in_progress`` until the lease
runs out, then resumes and gets 201: nothing lost, nothing marked done sent twice. A follow-up
that succeeded just before the timeout, with its mark not yet written, is sent again on resume
(at least once, as an SQS standard queue delivers anyway): consumers deduplicate on
``payment_id``, which every message and event carries. A client that never retries leaves a row
without an answer and with unmarked follow-ups: reconciliation finds it by those columns. A
database failure after the write answers 502 without ``payment.failed`` (the payment exists) and
releases the lease, so the retry resumes at once.

The table is created once at deploy time (``lambdas/rotation/schema.py``), never per request.

Database users: the application secret rotates with alternating users, so RDS Proxy holds the
credentials of ``DB_USER`` or of ``DB_USER_clone``, whichever the secret's ``AWSCURRENT`` names.
The function may connect as either (``rds-db:connect`` on both); it logs in as the user that last
worked and, when the proxy refuses that login (SQLSTATE 28000 or 28P01), as the other one. After a
rotation each function instance pays one refused login, once.

Environment: DB_HOST, DB_PORT, DB_USER, DB_NAME (RDS Proxy endpoint host name and user),
DB_CA_BUNDLE (CA file for the proxy's certificate; default: the runtime's trust store, which holds
the Amazon roots the proxy's certificate chains to), QUEUE_URL, BUS_NAME, STREAM_NAME,
EVENT_SOURCE, MAX_BODY_BYTES (default 8192), CLAIM_SECONDS (default 60).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import ssl
from collections.abc import Callable
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
CLAIM = (
    "INSERT INTO payments (payment_id, merchant_id, amount, currency, card_token, claimed_until) "
    "VALUES (:payment_id, :merchant_id, :amount, :currency, :card_token, now() + make_interval(secs => :lease)) "
    "ON CONFLICT (payment_id) DO NOTHING RETURNING payment_id"
)
"""Store a new payment with a lease on it; no row back when the id exists."""
READ = (
    "SELECT merchant_id, amount, currency, card_token, response_status, response_body, "
    "queued_at IS NOT NULL, published_at IS NOT NULL, streamed_at IS NOT NULL "
    "FROM payments WHERE payment_id = :payment_id"
)
TAKE_OVER = (
    "UPDATE payments SET claimed_until = now() + make_interval(secs => :lease) WHERE payment_id = :payment_id "
    "AND response_status IS NULL AND (claimed_until IS NULL OR claimed_until < now()) RETURNING payment_id"
)
"""Take the lease of an unanswered payment whose previous attempt ended or expired."""
MARKS = {
    "queue": "UPDATE payments SET queued_at = now() WHERE payment_id = :payment_id",
    "event": "UPDATE payments SET published_at = now() WHERE payment_id = :payment_id",
    "stream": "UPDATE payments SET streamed_at = now() WHERE payment_id = :payment_id",
}
RECORD = (
    "UPDATE payments SET response_status = :status, response_body = :body, claimed_until = NULL "
    "WHERE payment_id = :payment_id"
)
RELEASE = "UPDATE payments SET claimed_until = NULL WHERE payment_id = :payment_id AND response_status IS NULL"
CLONE_SUFFIX = "_clone"
LOGIN_REFUSED = frozenset({"28000", "28P01"})
"""SQLSTATEs of a refused login (invalid authorization, invalid password): try the other user."""
_LAST_USER: list[str] = []
"""The user that last logged in, kept for the function instance's next requests."""
REQUIRED_SETTINGS = ("DB_HOST", "DB_USER", "QUEUE_URL", "BUS_NAME", "STREAM_NAME")
DATABASE_ERRORS = (pg8000.native.DatabaseError, pg8000.native.InterfaceError, OSError, ClientError, BotoCoreError)


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


def tls_context() -> ssl.SSLContext:
    """TLS 1.2+ verifying the server's certificate chain and host name (``DB_CA_BUNDLE`` or the trust store)."""
    bundle = os.environ.get("DB_CA_BUNDLE")
    if bundle and not os.path.isfile(bundle):
        raise RuntimeError(f"DB_CA_BUNDLE: no CA bundle file at {bundle}")
    context = ssl.create_default_context(cafile=bundle or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The defaults already; set again so the connection never depends on them.
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def database_users() -> list[str]:
    """The users to log in as, in order: the one that last logged in, then the other of ``DB_USER``
    and ``DB_USER_clone`` (module docstring, "Database users")."""
    base = os.environ["DB_USER"]
    users = [base, f"{base}{CLONE_SUFFIX}"]
    return (
        [_LAST_USER[0], *[u for u in users if u != _LAST_USER[0]]] if _LAST_USER and _LAST_USER[0] in users else users
    )


def _connect() -> pg8000.native.Connection:
    host, port = os.environ["DB_HOST"], int(os.environ.get("DB_PORT", "5432"))
    users = database_users()
    for user in users:
        token = boto3.client("rds").generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user)
        try:
            connection = pg8000.native.Connection(
                user=user,
                password=token,
                host=host,
                port=port,
                database=os.environ.get("DB_NAME", "payments"),
                ssl_context=tls_context(),
                timeout=5,
            )
        except pg8000.native.DatabaseError as exc:
            detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            if detail.get("C") not in LOGIN_REFUSED or user == users[-1]:
                raise
            LOGGER.info("database login refused; trying the other user", extra={"user": user})
            continue
        _LAST_USER[:] = [user]
        return connection
    raise AssertionError("unreachable: the last user's refusal is raised")


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


def _queue(payment: dict[str, Any]) -> None:
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(payment))


def _stream(payment: dict[str, Any]) -> None:
    public = {k: v for k, v in payment.items() if k != "card_token"}
    boto3.client("firehose").put_record(
        DeliveryStreamName=os.environ["STREAM_NAME"], Record={"Data": (json.dumps(public) + "\n").encode()}
    )


def _follow_ups() -> dict[str, Callable[[dict[str, Any]], None]]:
    """The steps after the write, in order (looked up at call time, so each can be replaced in tests)."""
    return {"queue": _queue, "event": lambda payment: _publish("payment.succeeded", payment), "stream": _stream}


class Claim:
    """What the conditional write found: a new payment, a resumed one, or an answer without work."""

    def __init__(self, done: set[str] | None = None, answer: tuple[int, dict[str, Any]] | None = None) -> None:
        self.done = done or set()
        self.answer = answer


def _same_payment(payment: dict[str, Any], row: list[Any]) -> bool:
    merchant_id, amount, currency, card_token = row[:4]
    return (merchant_id, Decimal(str(amount)), str(currency).strip(), card_token) == (
        payment["merchant_id"],
        Decimal(payment["amount"]),
        payment["currency"],
        payment["card_token"],
    )


def _find(connection: Any, payment: dict[str, Any], lease: int) -> Claim:
    """The payment's id exists: replay its answer, refuse, or take it over (module docstring, "Idempotency")."""
    rows = connection.run(READ, payment_id=payment["payment_id"])
    if not rows:  # deleted between the two statements: nothing to resume, nothing to replay
        raise pg8000.native.InterfaceError("payment row vanished between the insert and the read")
    row = rows[0]
    if not _same_payment(payment, row):
        return Claim(answer=(409, {"error": "payment_id_reused", "payment_id": payment["payment_id"]}))
    if row[4] is not None:
        return Claim(answer=(int(row[4]), json.loads(row[5])))
    if not connection.run(TAKE_OVER, lease=lease, payment_id=payment["payment_id"]):
        return Claim(answer=(409, {"error": "in_progress", "payment_id": payment["payment_id"]}))
    return Claim(done={step for step, marked in zip(MARKS, row[6:9], strict=True) if marked})


def _complete(connection: Any, payment: dict[str, Any], done: set[str]) -> dict[str, Any]:
    """Run the follow-ups not done yet, marking each; record and return the answer's body."""
    warnings = []
    for step, call in _follow_ups().items():
        if step in done:
            continue
        # The payment is stored: a failed follow-up is reported, never turned into a failed payment.
        try:
            call(payment)
        except (ClientError, BotoCoreError) as exc:
            warnings.append(step)
            LOGGER.error(
                "payment stored but a follow-up failed",
                extra={"payment_id": payment["payment_id"], "step": step, "reason": type(exc).__name__},
            )
            continue
        connection.run(MARKS[step], payment_id=payment["payment_id"])
    body = {"payment_id": payment["payment_id"], "status": "accepted", "warnings": warnings}
    connection.run(RECORD, status=201, body=json.dumps(body), payment_id=payment["payment_id"])
    return body


def _failed(payment: dict[str, Any], exc: Exception, *, stored: bool) -> dict[str, Any]:
    LOGGER.error(
        "payment failed",
        extra={
            "outcome": "failed",
            "payment_id": payment["payment_id"],
            "reason": type(exc).__name__,
            "stored": stored,
        },
    )
    if not stored:
        try:
            _publish("payment.failed", payment, reason=type(exc).__name__)
        except (ClientError, BotoCoreError):
            LOGGER.error("could not publish payment.failed", extra={"payment_id": payment["payment_id"]})
    return _response(502, {"error": "database_unavailable", "payment_id": payment["payment_id"]})


def _release(connection: Any, payment_id: str) -> None:
    try:
        connection.run(RELEASE, payment_id=payment_id)
    except DATABASE_ERRORS:
        LOGGER.warning("could not release the payment's lease", extra={"payment_id": payment_id})


def _close(connection: Any) -> None:
    try:
        connection.close()
    except DATABASE_ERRORS:
        LOGGER.warning("could not close the database connection")


def _replay(payment: dict[str, Any], answer: tuple[int, dict[str, Any]], lease: int) -> dict[str, Any]:
    status, body = answer
    LOGGER.info(
        "payment seen before", extra={"outcome": "duplicate", "payment_id": payment["payment_id"], "status": status}
    )
    response = _response(status, body)
    if body.get("error") == "in_progress":
        response["headers"]["Retry-After"] = str(lease)
    return response


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
    missing = [name for name in REQUIRED_SETTINGS if not os.environ.get(name)]
    if missing:
        # Before anything is stored: a payment must not be half-handled for want of a setting.
        raise RuntimeError(f"environment variable {missing[0]} is not set: the payment function cannot run")
    lease = int(os.environ.get("CLAIM_SECONDS", "60"))
    connection = None
    try:
        try:
            connection = _connect()
            holding = bool(connection.run(CLAIM, lease=lease, **payment))
        except DATABASE_ERRORS as exc:
            return _failed(payment, exc, stored=False)
        try:
            claim = Claim() if holding else _find(connection, payment, lease)
            holding = claim.answer is None
            if claim.answer is not None:
                return _replay(payment, claim.answer, lease)
            body = _complete(connection, payment, claim.done)
        except DATABASE_ERRORS as exc:
            if holding:
                _release(connection, payment["payment_id"])
            return _failed(payment, exc, stored=True)
    finally:
        if connection is not None:
            _close(connection)
    LOGGER.info("payment stored", extra={"outcome": "succeeded", "payment_id": payment["payment_id"]})
    return _response(201, body)
