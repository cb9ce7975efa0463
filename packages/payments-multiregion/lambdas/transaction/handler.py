"""Transaction handler: the steps of the payment workflow (``workflow.py`` holds the state machine).

Every task is invoked with ``{"action": <step>, "state": <workflow state>}`` and returns the state
with its own part added. The state carries the client's ``request``, the ``attempt`` number the
API front chose, then ``payment`` (validate), ``claimed`` or ``outcome`` (claim),
``authorization`` (authorize) and finally ``outcome``, the status resource the client receives.
Failures raise errors whose class names the state machine's Retry and Catch rules match
(``PaymentValidationError``, ``IdempotencyConflictError``, ``ClaimLostError``,
``TransientError``, ``PaymentStoreError``).

The payment's item (hash key attribute ``idempotency_key`` = the payment id) moves
PENDING -> SUCCEEDED | DECLINED, or PENDING -> FAILED (technical, released for a retry). Each
attempt owns the item through ``attempt_id`` (its execution name); record and decline write only
while they own it, so two attempts can never both record.

Environment: ``TABLE_NAME``, ``AWS_REGION`` (set by Lambda), ``MAX_AMOUNT``, ``CURRENCIES``,
``CLAIM_TTL_S`` (how long a PENDING claim blocks other attempts; the workflow's timeout).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
import payments_acquirer as acquirer
from botocore.exceptions import BotoCoreError, ClientError
from payments_contract import (
    DECLINED,
    FAILED,
    FINAL,
    PAYMENT_IN_PROGRESS,
    PENDING,
    SUCCEEDED,
    TECHNICAL_FAILURE,
    ClaimLostError,
    IdempotencyConflictError,
    PaymentError,
    PaymentStoreError,
    PaymentValidationError,
    TransientError,
    execution_name,
    outcome_of,
    validate,
)

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
CONDITION_FAILED = "ConditionalCheckFailedException"

_dynamodb = boto3.client("dynamodb")


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line (never card data: payments carry no PAN here)."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def _region() -> str:
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _client_error(exc: ClientError, action: str) -> PaymentError:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    if code in TRANSIENT_CODES:
        return TransientError(f"{action} was throttled or failed ({code}); retry", aws_error=code)
    return PaymentStoreError(f"{action} failed ({code})", aws_error=code)


def _key(state: dict[str, Any]) -> dict[str, Any]:
    return {"idempotency_key": {"S": state["payment"]["payment_id"]}}


def _attempt_id(state: dict[str, Any]) -> str:
    return execution_name(state["payment"]["payment_id"], int(state.get("attempt", 0)))


def _read(state: dict[str, Any]) -> dict[str, Any] | None:
    try:
        found = _dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=_key(state), ConsistentRead=True)
    except ClientError as exc:
        raise _client_error(exc, "reading the payment") from exc
    except BotoCoreError as exc:
        raise TransientError(f"reading the payment failed: {exc}") from exc
    item: dict[str, Any] | None = found.get("Item")
    return item


def _update(state: dict[str, Any], action: str, expression: str, values: dict[str, Any]) -> None:
    """An update of the item this attempt owns (PENDING under its attempt id), or ClaimLostError."""
    try:
        _dynamodb.update_item(
            TableName=os.environ["TABLE_NAME"],
            Key=_key(state),
            UpdateExpression=expression,
            ConditionExpression="attempt_id = :mine AND #s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":mine": {"S": _attempt_id(state)},
                ":pending": {"S": PENDING},
                **values,
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
            raise ClaimLostError(f"{action}: another attempt owns payment {state['payment']['payment_id']}") from exc
        raise _client_error(exc, action) from exc
    except BotoCoreError as exc:
        raise TransientError(f"{action} failed: {exc}") from exc


def step_validate(state: dict[str, Any]) -> dict[str, Any]:
    """The normalised payment with its id and request hash, or PaymentValidationError."""
    return {**state, "payment": validate(state.get("request"))}


def step_claim(state: dict[str, Any]) -> dict[str, Any]:
    """Take the payment for this attempt (conditional put), or answer what is already known.

    A new key, a FAILED attempt or a PENDING claim past its expiry of the *same request* may be
    taken; a recorded outcome is replayed; a live claim answers PAYMENT_IN_PROGRESS; another request
    under the same key is an IdempotencyConflictError.
    """
    payment, now = state["payment"], int(time.time())
    item = {
        "idempotency_key": {"S": payment["payment_id"]},
        "payment_id": {"S": payment["payment_id"]},
        "client_key": {"S": payment["idempotency_key"]},
        "merchant_id": {"S": payment["merchant_id"]},
        "amount": {"N": payment["amount"]},
        "currency": {"S": payment["currency"]},
        "request_hash": {"S": payment["request_hash"]},
        "status": {"S": PENDING},
        "attempt": {"N": str(int(state.get("attempt", 0)))},
        "attempt_id": {"S": _attempt_id(state)},
        "origin_region": {"S": _region()},
        "created_at": {"S": _now()},
        "expires_at": {"N": str(now + int(os.environ.get("CLAIM_TTL_S", "3600")))},
    }
    try:
        _dynamodb.put_item(
            TableName=os.environ["TABLE_NAME"],
            Item=item,
            ConditionExpression=(
                "attribute_not_exists(idempotency_key) OR "
                "(request_hash = :h AND (#s = :failed OR (#s = :pending AND expires_at < :now)))"
            ),
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":h": {"S": payment["request_hash"]},
                ":failed": {"S": FAILED},
                ":pending": {"S": PENDING},
                ":now": {"N": str(now)},
            },
        )
        return {**state, "claimed": True}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != CONDITION_FAILED:
            raise _client_error(exc, "claiming the payment") from exc
    except BotoCoreError as exc:
        raise TransientError(f"claiming the payment failed: {exc}") from exc
    existing = _read(state)
    if existing is None:
        raise TransientError("the payment's claim vanished while it was read; retry")
    if existing.get("request_hash", {}).get("S") != payment["request_hash"]:
        raise IdempotencyConflictError(
            f"idempotency key {payment['idempotency_key']!r} of merchant {payment['merchant_id']!r} "
            "was already used for a different request",
            payment_id=payment["payment_id"],
        )
    outcome = outcome_of(existing)
    if outcome["status"] not in FINAL:
        outcome.update(status=PENDING, reason_code=PAYMENT_IN_PROGRESS)
    log("INFO", "payment already known; replaying", payment_id=payment["payment_id"], status=outcome["status"])
    return {**state, "outcome": {**outcome, "replayed": True}}


def step_authorize(state: dict[str, Any]) -> dict[str, Any]:
    """The acquirer's decision (approval with an authorization id, or a decline with a reason)."""
    payment = state["payment"]
    decision = acquirer.authorize(payment["amount"], payment["currency"], payment["payment_id"])
    return {**state, "authorization": decision}


def _outcome(state: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
    payment = state["payment"]
    outcome = {
        "payment_id": payment["payment_id"],
        "status": status,
        "reason_code": reason,
        "merchant_id": payment["merchant_id"],
        "idempotency_key": payment["idempotency_key"],
        "amount": payment["amount"],
        "currency": payment["currency"],
        "origin_region": _region(),
    }
    if status == SUCCEEDED:
        outcome["authorization_id"] = state["authorization"]["authorization_id"]
    return outcome


def step_record(state: dict[str, Any]) -> dict[str, Any]:
    """Record the approval on the item this attempt owns (ClaimLostError when it no longer does)."""
    authorization = state["authorization"]
    _update(
        state,
        "recording the payment",
        "SET #s = :succeeded, reason_code = :reason, authorization_id = :auth, recorded_at = :at REMOVE expires_at",
        {
            ":succeeded": {"S": SUCCEEDED},
            ":reason": {"S": authorization["reason_code"]},
            ":auth": {"S": authorization["authorization_id"]},
            ":at": {"S": _now()},
        },
    )
    log("INFO", "payment recorded", payment_id=state["payment"]["payment_id"], region=_region())
    return {**state, "outcome": _outcome(state, SUCCEEDED, authorization["reason_code"])}


def step_decline(state: dict[str, Any]) -> dict[str, Any]:
    """Record the decline, so that a retry with the same key replays it instead of asking again."""
    reason = state["authorization"]["reason_code"]
    _update(
        state,
        "recording the decline",
        "SET #s = :declined, reason_code = :reason, recorded_at = :at REMOVE expires_at",
        {":declined": {"S": DECLINED}, ":reason": {"S": reason}, ":at": {"S": _now()}},
    )
    return {**state, "outcome": _outcome(state, DECLINED, reason)}


def step_release(state: dict[str, Any]) -> dict[str, Any]:
    """Mark this attempt FAILED so that a retry with the same key may run at once. Best effort:
    when the table is what failed, the claim expires instead (``CLAIM_TTL_S``)."""
    try:
        _update(state, "releasing the claim", "SET #s = :failed REMOVE expires_at", {":failed": {"S": FAILED}})
    except PaymentError as exc:
        log("WARNING", "claim not released; it expires", payment_id=state["payment"]["payment_id"], error=exc.message)
    return {**state, "outcome": _outcome(state, FAILED, TECHNICAL_FAILURE)}


def step_void(state: dict[str, Any]) -> dict[str, Any]:
    """Compensation: void the authorization that could not be recorded, then release the claim."""
    authorization = state["authorization"]
    voided = acquirer.void(authorization["authorization_id"], state["payment"]["payment_id"])
    log("WARNING", "authorization voided: the payment could not be recorded", **voided)
    return {**step_release(state), "voided": voided}


STEPS = {
    "validate": step_validate,
    "claim": step_claim,
    "authorize": step_authorize,
    "record": step_record,
    "decline": step_decline,
    "void": step_void,
    "release": step_release,
}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Entry point of the workflow's tasks: run ``event["action"]`` on ``event["state"]``."""
    if not isinstance(event, dict) or not isinstance(event.get("state"), dict):
        raise PaymentValidationError("task input must be an object with 'action' and 'state'")
    step = STEPS.get(str(event.get("action")))
    if step is None:
        raise PaymentValidationError(f"action must be one of {', '.join(STEPS)}; got {event.get('action')!r}")
    return step(event["state"])
