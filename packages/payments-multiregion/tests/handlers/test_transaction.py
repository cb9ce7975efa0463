"""Transaction handler against moto: success, duplicate, malformed input, DynamoDB and EventBridge errors."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import TABLE

PAYMENT = {"idempotency_key": "order-0001", "amount": "125.50", "currency": "EUR", "merchant_id": "m-42"}


def api(body: Any) -> dict[str, Any]:
    return {"httpMethod": "POST", "path": "/payments", "body": body if isinstance(body, str) else json.dumps(body)}


def error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)


@pytest.fixture
def published(transaction: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every entry the handler sends to EventBridge (the real moto call still runs)."""
    sent: list[dict[str, Any]] = []
    real = transaction._events.put_events

    def spy(**kwargs: Any) -> dict[str, Any]:
        sent.extend(kwargs["Entries"])
        return real(**kwargs)

    monkeypatch.setattr(transaction._events, "put_events", spy)
    return sent


def test_records_payment_and_publishes_event(
    transaction: ModuleType, aws: dict[str, Any], published: list[dict[str, Any]]
) -> None:
    answer = transaction.handler(api(PAYMENT), None)
    assert answer["statusCode"] == 201
    body = json.loads(answer["body"])
    assert body["status"] == "RECORDED"
    assert body["origin_region"] == "us-east-1"
    item = aws["dynamodb"].get_item(TableName=TABLE, Key={"idempotency_key": {"S": "order-0001"}})["Item"]
    assert item["amount"] == {"N": "125.50"}
    assert item["currency"] == {"S": "EUR"}
    assert item["payment_id"] == {"S": body["payment_id"]}
    assert item["event_published"] == {"BOOL": True}
    assert len(published) == 1
    assert published[0]["Source"] == "payments.transactions"
    assert published[0]["DetailType"] == "PaymentAccepted"
    assert published[0]["EventBusName"] == "payments-events-use1-test"
    assert json.loads(published[0]["Detail"])["payment_id"] == body["payment_id"]


def test_duplicate_idempotency_key_is_rejected(transaction: ModuleType, published: list[dict[str, Any]]) -> None:
    first = transaction.handler(api(PAYMENT), None)
    second = transaction.handler(api({**PAYMENT, "amount": "99.00"}), None)
    replay = transaction.handler(api(PAYMENT), None)
    assert first["statusCode"] == 201
    for answer in (second, replay):
        assert answer["statusCode"] == 409
        err = json.loads(answer["body"])["error"]
        assert err["code"] == "DUPLICATE_IDEMPOTENCY_KEY"
        assert err["payment_id"] == json.loads(first["body"])["payment_id"]
    assert len(published) == 1


def test_step_functions_record_raises_duplicate(transaction: ModuleType) -> None:
    transaction.handler({"action": "record", "payment": transaction.validate(PAYMENT)}, None)
    with pytest.raises(transaction.DuplicatePaymentError):
        transaction.handler({"action": "record", "payment": transaction.validate(PAYMENT)}, None)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("not json", "request body must be a JSON object"),
        ([1, 2], "payment must be a JSON object"),
        ({**PAYMENT, "amount": -5}, "amount must be greater than 0"),
        ({**PAYMENT, "amount": "12.345"}, "amount allows 2 decimal places for EUR"),
        ({**PAYMENT, "amount": "10.5", "currency": "JPY"}, "amount allows 0 decimal places for JPY"),
        ({**PAYMENT, "amount": "ten"}, "amount must be a positive decimal number"),
        ({**PAYMENT, "amount": True}, "amount must be a positive decimal number"),
        ({**PAYMENT, "currency": "eur"}, "currency must be one of"),
        ({**PAYMENT, "currency": "XXX"}, "currency must be one of"),
        ({**PAYMENT, "idempotency_key": "short"}, "idempotency_key must be 8-64 characters"),
        ({k: v for k, v in PAYMENT.items() if k != "idempotency_key"}, "idempotency_key must be 8-64 characters"),
    ],
)
def test_fails_malformed_request_with_400(
    transaction: ModuleType, aws: dict[str, Any], body: Any, fragment: str
) -> None:
    answer = transaction.handler(api(body), None)
    assert answer["statusCode"] == 400
    err = json.loads(answer["body"])["error"]
    assert err["code"] == "INVALID_REQUEST"
    assert fragment in err["message"]
    assert aws["dynamodb"].scan(TableName=TABLE)["Count"] == 0


def test_fails_amount_over_limit_with_402(transaction: ModuleType) -> None:
    answer = transaction.handler(api({**PAYMENT, "amount": "10000.01"}), None)
    assert answer["statusCode"] == 402
    assert json.loads(answer["body"])["error"]["code"] == "DECLINED"


def test_fails_unknown_step_action(transaction: ModuleType) -> None:
    with pytest.raises(transaction.PaymentValidationError, match="action must be one of"):
        transaction.handler({"action": "refund", "payment": PAYMENT}, None)


@pytest.mark.parametrize(
    ("code", "status", "result"),
    [
        ("ProvisionedThroughputExceededException", 503, "RETRY"),
        ("AccessDeniedException", 500, "STORE_ERROR"),
    ],
)
def test_fails_dynamodb_error(
    transaction: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    published: list[dict[str, Any]],
    code: str,
    status: int,
    result: str,
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise error(code, "PutItem")

    monkeypatch.setattr(transaction._dynamodb, "put_item", refuse)
    answer = transaction.handler(api(PAYMENT), None)
    assert answer["statusCode"] == status
    err = json.loads(answer["body"])["error"]
    assert (err["code"], err["aws_error"]) == (result, code)
    assert published == []


def test_fails_missing_table_as_store_error(transaction: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    answer = transaction.handler(api(PAYMENT), None)
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"])["error"]["aws_error"] == "ResourceNotFoundException"


def test_eventbridge_error_then_retry_publishes_once(
    transaction: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = transaction._events.put_events

    def refuse(**kwargs: Any) -> None:
        raise error("ThrottlingException", "PutEvents")

    monkeypatch.setattr(transaction._events, "put_events", refuse)
    failed = transaction.handler(api(PAYMENT), None)
    assert failed["statusCode"] == 503
    assert json.loads(failed["body"])["error"]["aws_error"] == "ThrottlingException"
    item = aws["dynamodb"].get_item(TableName=TABLE, Key={"idempotency_key": {"S": "order-0001"}})["Item"]
    assert item["event_published"] == {"BOOL": False}

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(transaction._events, "put_events", lambda **kw: sent.extend(kw["Entries"]) or real(**kw))
    retried = transaction.handler(api(PAYMENT), None)
    assert retried["statusCode"] == 201
    assert json.loads(retried["body"])["payment_id"] == item["payment_id"]["S"]
    assert len(sent) == 1


def test_fails_eventbridge_partial_failure(transaction: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        transaction._events,
        "put_events",
        lambda **kw: {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]},
    )
    answer = transaction.handler(api(PAYMENT), None)
    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["error"]["aws_error"] == "InternalFailure"


def test_fails_missing_bus(transaction: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    answer = transaction.handler(api(PAYMENT), None)
    assert answer["statusCode"] in (500, 503)
    assert json.loads(answer["body"])["error"]["code"] in ("STORE_ERROR", "RETRY")


def test_step_chain_validate_authorize_record(transaction: ModuleType) -> None:
    valid = transaction.handler({"action": "validate", "payment": {**PAYMENT, "amount": 20}}, None)
    assert valid == {"idempotency_key": "order-0001", "amount": "20", "currency": "EUR", "merchant_id": "m-42"}
    authorized = transaction.handler({"action": "authorize", "payment": valid}, None)
    assert authorized["authorized"] is True
    recorded = transaction.handler({"action": "record", "payment": authorized}, None)
    assert recorded["status"] == "RECORDED"
