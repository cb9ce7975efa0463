"""The client contract of a payment, without AWS calls: identities, outcomes, reason codes, errors
and request validation. Shared by the workflow steps (``handler``) and the API front (``intake``).

Identity: the idempotency key is scoped per merchant. ``payment_id`` is derived from
(merchant id, idempotency key) by SHA-256, so the same request gets the same id in every region
and on every retry; it is the table's hash key value (attribute ``idempotency_key``), the receipt's
name, the acquirer's idempotency reference and the stem of the workflow execution name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULT_CURRENCIES = "USD,EUR,GBP,JPY,SGD,AUD,CAD,CHF"
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MERCHANT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
PAYMENT_ID = re.compile(r"^pay_[0-9a-f]{40}$")
EXECUTION_NAME_LIMIT = 80
"""Step Functions execution names: at most 80 characters of letters, digits, '-' and '_'."""

# Statuses of a payment (the status resource and the table item).
PENDING = "PENDING"
SUCCEEDED = "SUCCEEDED"
DECLINED = "DECLINED"
FAILED = "FAILED"
REJECTED = "REJECTED"
CONFLICT = "CONFLICT"
FINAL = frozenset({SUCCEEDED, DECLINED})
"""Outcomes a retry with the same key replays instead of running the payment again."""

# Reason codes.
APPROVED = "APPROVED"
AMOUNT_OVER_LIMIT = "AMOUNT_OVER_LIMIT"
INVALID_REQUEST = "INVALID_REQUEST"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
TECHNICAL_FAILURE = "TECHNICAL_FAILURE"
NOT_FOUND = "NOT_FOUND"


class PaymentError(Exception):
    """Base of the errors the steps raise; the class name is what the state machine's Retry and
    Catch rules match, ``code`` is the reason code a client sees."""

    code = TECHNICAL_FAILURE

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PaymentValidationError(PaymentError):
    """The request is malformed: a business outcome (400), not retried."""

    code = INVALID_REQUEST


class IdempotencyConflictError(PaymentError):
    """The merchant reused an idempotency key for a different request (409)."""

    code = IDEMPOTENCY_KEY_REUSED


class ClaimLostError(PaymentError):
    """Another attempt owns the payment now; this attempt must undo its authorization."""


class TransientError(PaymentError):
    """A dependency is throttled or failing; the step is retried, then the payment fails retryably."""


class PaymentStoreError(PaymentError):
    """A dependency refused the call for a non-transient reason."""


OUTCOME_FIELDS = (
    "payment_id",
    "status",
    "reason_code",
    "merchant_id",
    "idempotency_key",
    "amount",
    "currency",
    "authorization_id",
    "origin_region",
    "created_at",
)
"""What the status resource shows of a payment (never the request hash or internal bookkeeping)."""


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (attribute-value map) as plain strings, numbers as their decimal text."""
    values: dict[str, Any] = {}
    for name, value in item.items():
        if "S" in value or "N" in value:
            values[name] = value.get("S", value.get("N"))
        elif "BOOL" in value:
            values[name] = value["BOOL"]
    return values


def outcome_of(item: dict[str, Any]) -> dict[str, Any]:
    """The status resource of a stored payment: its identity, outcome and reason code.

    The stored ``idempotency_key`` attribute is the table's hash key (the payment id); the
    client's own key is kept as ``client_key`` and shown as ``idempotency_key``.
    """
    values = plain(item)
    values["idempotency_key"] = values.get("client_key", values.get("idempotency_key"))
    values["payment_id"] = values.get("payment_id", values.get("idempotency_key"))
    return {k: values[k] for k in OUTCOME_FIELDS if k in values}


def payment_id(merchant_id: str, idempotency_key: str) -> str:
    """``pay_`` + 40 hex digits of SHA-256 over (merchant, key): the same for every retry and region."""
    digest = hashlib.sha256(f"{merchant_id}\x1f{idempotency_key}".encode()).hexdigest()
    return f"pay_{digest[:40]}"


def execution_name(pid: str, attempt: int) -> str:
    """The workflow execution of ``attempt`` (0 first): Step Functions refuses a second STANDARD
    execution of the same name, so concurrent retries of one attempt start one workflow."""
    name = f"{pid}-{attempt}"
    if len(name) > EXECUTION_NAME_LIMIT or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"execution name {name!r}: expected at most 80 letters, digits, '-' or '_'")
    return name


def request_hash(payment: dict[str, Any]) -> str:
    """What makes two requests the same request: merchant, key, amount and currency."""
    body = {k: payment[k] for k in ("merchant_id", "idempotency_key", "amount", "currency")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _amount(raw: Any, currency: Any, problems: list[str]) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        problems.append(f"amount must be a positive decimal number, got {raw!r}")
        return None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        problems.append(f"amount must be a positive decimal number, got {raw!r}")
        return None
    places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    if not amount.is_finite() or amount <= 0:
        problems.append(f"amount must be greater than 0, got {raw!r}")
    elif -amount.as_tuple().exponent > places:  # type: ignore[operator]
        problems.append(f"amount allows {places} decimal places for {currency}, got {raw!r}")
    return amount


def identity(raw: Any) -> tuple[str, str]:
    """(merchant id, idempotency key) of a request, or :class:`PaymentValidationError`."""
    if not isinstance(raw, dict):
        raise PaymentValidationError("payment must be a JSON object")
    problems: list[str] = []
    merchant, key = raw.get("merchant_id"), raw.get("idempotency_key")
    if not isinstance(merchant, str) or not MERCHANT_ID.fullmatch(merchant):
        problems.append("merchant_id must be 1-64 characters of letters, digits, '.', '-' or '_'")
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        problems.append("idempotency_key must be 8-64 characters of letters, digits, '-' or '_'")
    if problems:
        raise PaymentValidationError("; ".join(problems), problems=problems)
    return str(merchant), str(key)


def validate(raw: Any) -> dict[str, Any]:
    """Check merchant, key, amount and currency; return the normalised payment with its id and hash."""
    merchant, key = identity(raw)
    problems: list[str] = []
    currency = raw.get("currency")
    allowed = {c.strip() for c in os.environ.get("CURRENCIES", DEFAULT_CURRENCIES).split(",") if c.strip()}
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency) or currency not in allowed:
        problems.append(f"currency must be one of {', '.join(sorted(allowed))}, got {currency!r}")
    amount = _amount(raw.get("amount"), currency, problems)
    if problems:
        raise PaymentValidationError("; ".join(problems), problems=problems)
    payment = {"merchant_id": merchant, "idempotency_key": key, "amount": str(amount), "currency": currency}
    return {**payment, "payment_id": payment_id(merchant, key), "request_hash": request_hash(payment)}
