"""The client contract end to end in-process: API front -> synthesized workflow -> table (moto).

Every outcome a client can see, the retry with the same key, the per-merchant scope of keys, the
compensation when recording fails after authorization, and Notify's failure after Record.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from platform_tooling.testing.handlers import load_handler

from .conftest import LAMBDAS
from .workbench import Workbench, workbench

PAYMENT = {"merchant_id": "m-42", "idempotency_key": "order-0001", "amount": "125.50", "currency": "EUR"}


@pytest.fixture
def bench(
    aws: dict[str, Any], intake: ModuleType, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Workbench:
    return workbench(aws, intake, transaction, monkeypatch, "EXPRESS")


@pytest.fixture
def contract() -> ModuleType:
    return load_handler(LAMBDAS / "transaction", "payments_contract")


def refuse_update(monkeypatch: pytest.MonkeyPatch, transaction: ModuleType, when: str, code: str) -> None:
    """Make the transaction handler's UpdateItem fail with ``code`` when its expression contains ``when``."""
    real = transaction._dynamodb.update_item

    def update_item(**kwargs: Any) -> Any:
        if when in kwargs["UpdateExpression"]:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "UpdateItem")
        return real(**kwargs)

    monkeypatch.setattr(transaction._dynamodb, "update_item", update_item)


@pytest.mark.requirement("PAY-3")
def test_approved_payment_is_recorded_and_answered_with_its_outcome(bench: Workbench) -> None:
    status, body, _ = bench.post(PAYMENT)
    assert status == 201
    assert body["status"] == "SUCCEEDED"
    assert body["reason_code"] == "APPROVED"
    assert body["payment_id"].startswith("pay_")
    assert body["idempotency_key"] == "order-0001"
    assert body["notification"] == "SENT"
    assert len(bench.authorizations) == 1
    assert body["authorization_id"] == bench.authorizations[0]["authorization_id"]
    item = bench.item(body["payment_id"])
    assert item["status"] == {"S": "SUCCEEDED"}
    assert item["authorization_id"] == {"S": body["authorization_id"]}
    assert item["amount"] == {"N": "125.50"}
    assert "expires_at" not in item
    assert [e["DetailType"] for e in bench.events] == ["PaymentAccepted"]
    assert bench.executions[0].path[-3:] == ["Notify", "Notified", "Finish"]


def test_execution_name_is_derived_from_merchant_and_key(bench: Workbench, contract: ModuleType) -> None:
    _, body, _ = bench.post(PAYMENT)
    assert bench.names == [f"{body['payment_id']}-0"]
    assert body["payment_id"] == contract.payment_id("m-42", "order-0001")
    longest = contract.execution_name(contract.payment_id("m" * 64, "k" * 64), 999)
    assert len(longest) <= 80
    assert set(longest) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-")


@pytest.mark.requirement("PAY-3")
def test_retry_with_the_same_key_replays_the_outcome_without_charging_again(bench: Workbench) -> None:
    first_status, first, _ = bench.post(PAYMENT)
    again_status, again, headers = bench.post({**PAYMENT, "amount": 125.5})
    assert (first_status, again_status) == (201, 200)
    assert headers["Idempotent-Replayed"] == "true"
    assert again["payment_id"] == first["payment_id"]
    assert again["authorization_id"] == first["authorization_id"]
    assert len(bench.authorizations) == 1
    assert len(bench.executions) == 1


def test_fails_reused_key_for_another_request_with_409(bench: Workbench) -> None:
    bench.post(PAYMENT)
    status, body, _ = bench.post({**PAYMENT, "amount": "99.00"})
    assert status == 409
    assert (body["status"], body["reason_code"]) == ("CONFLICT", "IDEMPOTENCY_KEY_REUSED")
    assert len(bench.authorizations) == 1


def test_keys_are_scoped_per_merchant(bench: Workbench) -> None:
    _, first, _ = bench.post(PAYMENT)
    status, other, _ = bench.post({**PAYMENT, "merchant_id": "m-43"})
    assert status == 201
    assert other["payment_id"] != first["payment_id"]
    assert len(bench.authorizations) == 2


def test_decline_is_a_402_business_outcome_and_is_replayed(bench: Workbench) -> None:
    status, body, _ = bench.post({**PAYMENT, "amount": "10000.01"})
    assert status == 402
    assert (body["status"], body["reason_code"]) == ("DECLINED", "AMOUNT_OVER_LIMIT")
    assert bench.executions[0].status == "SUCCEEDED"
    assert bench.item(body["payment_id"])["status"] == {"S": "DECLINED"}
    again, replay, _ = bench.post({**PAYMENT, "amount": "10000.01"})
    assert (again, replay["reason_code"]) == (402, "AMOUNT_OVER_LIMIT")
    assert len(bench.authorizations) == 1
    assert bench.events == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("not json", "request body must be a JSON object"),
        ([1, 2], "payment must be a JSON object"),
        ({**PAYMENT, "merchant_id": ""}, "merchant_id must be 1-64 characters"),
        ({**PAYMENT, "idempotency_key": "short"}, "idempotency_key must be 8-64 characters"),
    ],
)
def test_fails_malformed_request_with_400_before_any_workflow(bench: Workbench, body: Any, fragment: str) -> None:
    status, answer, _ = bench.post(body)
    assert status == 400
    assert (answer["status"], answer["reason_code"]) == ("REJECTED", "INVALID_REQUEST")
    assert fragment in answer["message"]
    assert bench.executions == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"amount": -5}, "amount must be greater than 0"),
        ({"amount": "12.345"}, "amount allows 2 decimal places for EUR"),
        ({"amount": "10.5", "currency": "JPY"}, "amount allows 0 decimal places for JPY"),
        ({"amount": "ten"}, "amount must be a positive decimal number"),
        ({"amount": True}, "amount must be a positive decimal number"),
        ({"currency": "GBP"}, "currency must be one of EUR, JPY, USD"),
    ],
)
def test_fails_invalid_payment_in_the_workflow_with_400(
    bench: Workbench, aws: dict[str, Any], change: dict[str, Any], fragment: str
) -> None:
    status, answer, _ = bench.post({**PAYMENT, **change})
    assert status == 400
    assert (answer["status"], answer["reason_code"]) == ("REJECTED", "INVALID_REQUEST")
    assert fragment in answer["message"]
    assert aws["dynamodb"].scan(TableName="payments-transactions-test")["Count"] == 0
    assert bench.authorizations == []


@pytest.mark.requirement("PAY-3")
def test_record_failure_after_authorization_voids_it_and_the_retry_succeeds(
    bench: Workbench, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    working = transaction._dynamodb.update_item
    refuse_update(monkeypatch, transaction, ":succeeded", "AccessDeniedException")
    status, body, headers = bench.post(PAYMENT)
    assert status == 503
    assert (body["status"], body["reason_code"], body["retryable"]) == ("FAILED", "TECHNICAL_FAILURE", True)
    assert headers["Retry-After"] == "2"
    assert [v["authorization_id"] for v in bench.voids] == [bench.authorizations[0]["authorization_id"]]
    assert bench.executions[0].path[-3:] == ["Record", "Void", "Failed"]
    assert bench.executions[0].error == "PaymentTechnicalFailure"
    assert bench.item(body["payment_id"])["status"] == {"S": "FAILED"}
    assert bench.events == []

    monkeypatch.setattr(transaction._dynamodb, "update_item", working)
    status, retried, _ = bench.post(PAYMENT)
    assert status == 201
    assert retried["payment_id"] == body["payment_id"]
    assert bench.names == [f"{body['payment_id']}-0", f"{body['payment_id']}-1"]
    assert len(bench.authorizations) == 2
    assert len(bench.voids) == 1


def test_transient_record_errors_are_retried_before_compensating(
    bench: Workbench, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_update(monkeypatch, transaction, ":succeeded", "ThrottlingException")
    status, _, _ = bench.post(PAYMENT)
    assert status == 503
    assert bench.executions[0].path.count("Record") == 1
    assert len(bench.voids) == 1


def test_void_that_fails_alerts_with_ids_only(
    bench: Workbench, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_update(monkeypatch, transaction, ":succeeded", "AccessDeniedException")

    def broken(*args: Any) -> None:
        raise RuntimeError("acquirer unreachable")

    monkeypatch.setattr(transaction.acquirer, "void", broken)
    status, body, _ = bench.post(PAYMENT)
    assert status == 503
    assert bench.executions[0].path[-2:] == ["VoidFailed", "Failed"]
    message = bench.alerts[0]["Message"]
    assert message["payment_id"] == body["payment_id"]
    assert message["authorization_id"] == bench.authorizations[0]["authorization_id"]
    assert "amount" not in message
    assert "merchant_id" not in message


@pytest.mark.requirement("PAY-3")
def test_notify_failure_after_record_still_reports_the_payment_succeeded(bench: Workbench) -> None:
    bench.notify_fails = True
    status, body, _ = bench.post(PAYMENT)
    assert status == 201
    assert (body["status"], body["notification"]) == ("SUCCEEDED", "DEFERRED")
    assert bench.item(body["payment_id"])["status"] == {"S": "SUCCEEDED"}
    assert bench.voids == []
    again, replay, _ = bench.post(PAYMENT)
    assert (again, replay["status"]) == (200, "SUCCEEDED")


def test_fails_claim_store_outage_as_retryable_503_without_authorizing(
    bench: Workbench, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "PutItem")

    monkeypatch.setattr(transaction._dynamodb, "put_item", refuse)
    status, body, _ = bench.post(PAYMENT)
    assert (status, body["reason_code"]) == (503, "TECHNICAL_FAILURE")
    assert bench.authorizations == []


def test_fails_front_store_outage_as_retryable_503(
    bench: Workbench, intake: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "GetItem")

    monkeypatch.setattr(intake._dynamodb, "get_item", refuse)
    status, body, headers = bench.post(PAYMENT)
    assert (status, body["status"], body["retryable"]) == (503, "FAILED", True)
    assert "Retry-After" in headers
    assert bench.executions == []


@pytest.mark.requirement("PAY-3")
def test_standard_workflow_answers_202_with_a_status_resource(
    aws: dict[str, Any], intake: ModuleType, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = workbench(aws, intake, transaction, monkeypatch, "STANDARD")
    status, body, _ = bench.post(PAYMENT)
    assert status == 202
    assert (body["status"], body["reason_code"]) == ("PENDING", "PAYMENT_IN_PROGRESS")
    assert body["status_url"] == f"/payments/{body['payment_id']}"
    found, resource = bench.get(body["payment_id"])
    assert found == 200
    assert (resource["status"], resource["reason_code"]) == ("SUCCEEDED", "APPROVED")
    assert resource["authorization_id"] == bench.authorizations[0]["authorization_id"]
    assert bench.names == [f"{body['payment_id']}-0"]


def test_standard_retry_of_a_running_attempt_starts_nothing_new(
    aws: dict[str, Any],
    intake: ModuleType,
    transaction: ModuleType,
    contract: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = workbench(aws, intake, transaction, monkeypatch, "STANDARD")
    pid = contract.payment_id("m-42", "order-0001")
    monkeypatch.setattr(intake, "_item", lambda _pid: None)  # the first attempt has not claimed yet
    first, _, _ = bench.post(PAYMENT)
    second, body, _ = bench.post(PAYMENT)
    assert (first, second) == (202, 202)
    assert body["payment_id"] == pid
    assert len(bench.executions) == 1


def test_status_resource_of_unknown_and_malformed_ids(bench: Workbench) -> None:
    missing = "pay_" + "0" * 40
    assert bench.get(missing) == (404, {"payment_id": missing, "status": "NOT_FOUND", "reason_code": "NOT_FOUND"})
    status, body = bench.get("../etc")
    assert (status, body["reason_code"]) == (400, "INVALID_REQUEST")
