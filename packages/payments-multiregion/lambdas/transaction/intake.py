"""The API front of the payments workflow (API Gateway Lambda proxy, IAM-authorized methods).

``POST /payments``: derives the payment id from (merchant, idempotency key), replays a recorded
outcome without running anything again, and otherwise starts the workflow with an execution name
derived from the payment id and the attempt: EXPRESS waits for the outcome (``StartSyncExecution``),
STANDARD answers 202 with the status resource to poll.
``GET /payments/{payment_id}``: the status resource (outcome and reason code) from the table.

Answers (body always JSON with ``status`` and ``reason_code``):
201 SUCCEEDED; 402 DECLINED (business outcome, do not retry); 400 REJECTED (fix the request);
409 CONFLICT (key reused for another request); 202 PENDING (poll ``status_url``);
503 FAILED TECHNICAL_FAILURE (retry with the same key; nothing was charged or it was voided);
404 NOT_FOUND (GET of an unknown id).

Environment: ``TABLE_NAME``, ``STATE_MACHINE_ARN``, ``WORKFLOW_TYPE`` (STANDARD or EXPRESS),
``AWS_REGION`` (set by Lambda).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from payments_contract import (
    CONFLICT,
    DECLINED,
    FAILED,
    FINAL,
    IDEMPOTENCY_KEY_REUSED,
    INVALID_REQUEST,
    NOT_FOUND,
    PAYMENT_ID,
    PAYMENT_IN_PROGRESS,
    PENDING,
    REJECTED,
    SUCCEEDED,
    TECHNICAL_FAILURE,
    PaymentValidationError,
    execution_name,
    identity,
    outcome_of,
    payment_id,
)

HTTP_STATUS = {SUCCEEDED: 201, DECLINED: 402, REJECTED: 400, CONFLICT: 409, PENDING: 202, FAILED: 503}
RETRY_AFTER_S = "2"

_dynamodb = boto3.client("dynamodb")
_states = boto3.client("stepfunctions")


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line (ids and codes only)."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def status_url(pid: str) -> str:
    return f"/payments/{pid}"


def respond(outcome: dict[str, Any], replayed: bool = False) -> dict[str, Any]:
    """The HTTP answer of an outcome (status codes in the module docstring)."""
    status = outcome.get("status", FAILED)
    headers = {"Content-Type": "application/json"}
    if status == FAILED:
        headers["Retry-After"] = RETRY_AFTER_S
        outcome = {**outcome, "retryable": True}
    if status == PENDING and "payment_id" in outcome:
        outcome = {**outcome, "status_url": status_url(outcome["payment_id"])}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    code = 200 if replayed and status == SUCCEEDED else HTTP_STATUS.get(status, 503)
    return {"statusCode": code, "headers": headers, "body": json.dumps(outcome, sort_keys=True)}


def _failed(pid: str | None, message: str) -> dict[str, Any]:
    outcome = {"status": FAILED, "reason_code": TECHNICAL_FAILURE, "message": message}
    return respond({**outcome, "payment_id": pid} if pid else outcome)


def _item(pid: str) -> dict[str, Any] | None:
    found = _dynamodb.get_item(
        TableName=os.environ["TABLE_NAME"], Key={"idempotency_key": {"S": pid}}, ConsistentRead=True
    )
    item: dict[str, Any] | None = found.get("Item")
    return item


def _next_attempt(item: dict[str, Any]) -> int:
    return int(item.get("attempt", {}).get("N", "0")) + 1


def _sync_outcome(answer: dict[str, Any], pid: str) -> dict[str, Any]:
    """The outcome of a finished EXPRESS execution (a failed execution is a technical failure)."""
    if answer.get("status") == "SUCCEEDED":
        outcome: dict[str, Any] = json.loads(answer.get("output") or "{}")
        if outcome.get("status") == REJECTED:
            outcome["message"] = _cause_message(outcome.pop("cause", ""))
        return outcome
    log("ERROR", "workflow failed", payment_id=pid, error=answer.get("error"), status=answer.get("status"))
    return {"payment_id": pid, "status": FAILED, "reason_code": TECHNICAL_FAILURE}


def _cause_message(cause: str) -> str:
    try:
        return str(json.loads(cause).get("errorMessage", cause))
    except (TypeError, ValueError, AttributeError):
        return str(cause)


def _start(request: dict[str, Any], pid: str, attempt: int) -> dict[str, Any]:
    name = execution_name(pid, attempt)
    arguments = {
        "stateMachineArn": os.environ["STATE_MACHINE_ARN"],
        "name": name,
        "input": json.dumps({"request": request, "attempt": attempt}, sort_keys=True),
    }
    if os.environ.get("WORKFLOW_TYPE", "STANDARD") == "EXPRESS":
        return respond(_sync_outcome(_states.start_sync_execution(**arguments), pid))
    try:
        _states.start_execution(**arguments)
    except ClientError as exc:
        # The same attempt already started (a concurrent retry): its execution carries the payment.
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
    return respond({"payment_id": pid, "status": PENDING, "reason_code": PAYMENT_IN_PROGRESS})


def create(event: dict[str, Any]) -> dict[str, Any]:
    """``POST /payments``."""
    try:
        request = json.loads(event.get("body") or "")
        merchant, key = identity(request)
    except PaymentValidationError as exc:
        return respond({"status": REJECTED, "reason_code": INVALID_REQUEST, "message": exc.message})
    except (TypeError, ValueError):
        return respond(
            {"status": REJECTED, "reason_code": INVALID_REQUEST, "message": "request body must be a JSON object"}
        )
    pid = payment_id(merchant, key)
    try:
        item = _item(pid)
        attempt = 0
        if item is not None:
            outcome = outcome_of(item)
            if outcome["status"] in FINAL:
                if item.get("request_hash") and _differs(item, request):
                    return respond({"payment_id": pid, "status": CONFLICT, "reason_code": IDEMPOTENCY_KEY_REUSED})
                return respond(outcome, replayed=True)
            attempt = _next_attempt(item)
        return _start(request, pid, attempt)
    except (ClientError, BotoCoreError) as exc:
        log("ERROR", "payment not started", payment_id=pid, error=str(exc))
        return _failed(pid, "the payment could not be started; retry with the same idempotency key")


def _differs(item: dict[str, Any], request: dict[str, Any]) -> bool:
    """Whether ``request`` is another request than the stored one (amount or currency changed)."""
    stored = outcome_of(item)
    try:
        return (str(request.get("currency")), Decimal(str(request.get("amount")))) != (
            stored.get("currency"),
            Decimal(str(stored.get("amount"))),
        )
    except InvalidOperation:
        return True


def read(event: dict[str, Any]) -> dict[str, Any]:
    """``GET /payments/{payment_id}``."""
    pid = str((event.get("pathParameters") or {}).get("payment_id", ""))
    if not PAYMENT_ID.fullmatch(pid):
        return respond({"status": REJECTED, "reason_code": INVALID_REQUEST, "message": f"no payment id {pid!r}"})
    try:
        item = _item(pid)
    except (ClientError, BotoCoreError) as exc:
        log("ERROR", "payment not read", payment_id=pid, error=str(exc))
        return _failed(pid, "the payment could not be read; retry")
    if item is None:
        body = {"payment_id": pid, "status": NOT_FOUND, "reason_code": NOT_FOUND}
        return {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    outcome = outcome_of(item)
    if outcome["status"] == PENDING:
        outcome["reason_code"] = PAYMENT_IN_PROGRESS
    answer = respond(outcome)
    answer["statusCode"] = 200
    return answer


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Entry point for API Gateway proxy events of ``POST /payments`` and ``GET /payments/{id}``."""
    if not isinstance(event, dict):
        return respond({"status": REJECTED, "reason_code": INVALID_REQUEST, "message": "not an API request"})
    if event.get("httpMethod") == "GET":
        return read(event)
    return create(event)
