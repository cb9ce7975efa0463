"""Payment handler against moto in-process, with pg8000's connection replaced by a fake database."""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pg8000.native
import pytest
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "payment"
GOOD = {
    "payment_id": "pay_0001abcd",
    "amount": "12.50",
    "currency": "SGD",
    "card_token": "tok_abcdef123456",
    "merchant_id": "m-42",
}


@pytest.fixture
def aws(payment_aws: dict[str, Any]) -> dict[str, Any]:
    """The payment function's queue, bus and stream in moto, its settings set (``conftest.payment_aws``)."""
    return payment_aws


@pytest.fixture
def handler(aws: dict[str, Any]) -> ModuleType:
    return load_handler(FOLDER)


def request(body: Any, *, encode: bool = False) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    if encode:
        return {
            "httpMethod": "POST",
            "path": "/api/payments",
            "isBase64Encoded": True,
            "body": base64.b64encode(text.encode()).decode(),
        }
    return {"httpMethod": "POST", "path": "/api/payments", "isBase64Encoded": False, "body": text}


@pytest.fixture
def use(handler: ModuleType, payments_database: Callable[..., Any]) -> Callable[..., Any]:
    """Install the payments table stand-in (``conftest.PaymentsFake``) for the handler's statements."""
    return lambda **kwargs: payments_database(handler, **kwargs)


def messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    return [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


class Killed(BaseException):
    """The function's timeout: the runtime stops the handler where it is, no except clause runs."""


@pytest.mark.parametrize("encode", [False, True])
def test_stores_queues_and_publishes_a_good_payment(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, encode: bool, use: Callable[..., Any]
) -> None:
    db = use()
    response = handler.handler(request(GOOD, encode=encode), None)
    assert response["statusCode"] == 201
    assert json.loads(response["body"]) == {"payment_id": "pay_0001abcd", "status": "accepted", "warnings": []}
    row = db.rows["pay_0001abcd"]
    assert (row["merchant_id"], row["amount"], row["currency"], row["card_token"]) == (
        "m-42",
        Decimal("12.50"),
        "SGD",
        "tok_abcdef123456",
    )
    assert (row["queue"], row["event"], row["stream"], row["status"], row["claimed_until"]) == (
        True,
        True,
        True,
        201,
        None,
    )
    login = db.logins[0]
    assert (login["user"], login["host"], login["database"]) == ("payments_app", "proxy.internal", "payments")
    assert login["password"]  # an IAM authentication token, not a stored password
    assert messages(aws["sqs"], aws["queue_url"]) == [GOOD]
    (event,) = messages(aws["sqs"], aws["capture_url"])
    assert event["detail-type"] == "payment.succeeded"
    assert "card_token" not in event["detail"]


def test_creates_no_schema_per_request(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    assert handler.handler(request(GOOD), None)["statusCode"] == 201
    assert db.statements
    assert not [sql for sql in db.statements if "CREATE" in sql.upper()]
    assert "CREATE" not in handler.__doc__.split("The table is created once")[0].upper()


def test_a_duplicate_gets_the_original_answer_without_queueing_or_publishing_again(
    handler: ModuleType,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    use: Callable[..., Any],
) -> None:
    use()
    first = handler.handler(request(GOOD), None)
    second = handler.handler(request(GOOD, encode=True), None)
    assert first["statusCode"] == 201
    assert (second["statusCode"], second["body"]) == (first["statusCode"], first["body"])
    assert messages(aws["sqs"], aws["queue_url"]) == [GOOD]
    assert [e["detail-type"] for e in messages(aws["sqs"], aws["capture_url"])] == ["payment.succeeded"]
    assert [getattr(r, "outcome", None) for r in caplog.records if hasattr(r, "outcome")] == ["succeeded", "duplicate"]


def test_a_duplicate_replays_an_answer_with_warnings_and_does_not_retry_the_follow_up(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    monkeypatch.setenv("QUEUE_URL", aws["queue_url"] + "-missing")
    first = handler.handler(request(GOOD), None)
    assert json.loads(first["body"])["warnings"] == ["queue"]
    monkeypatch.setenv("QUEUE_URL", aws["queue_url"])
    second = handler.handler(request(GOOD), None)
    assert (second["statusCode"], second["body"]) == (first["statusCode"], first["body"])
    assert messages(aws["sqs"], aws["queue_url"]) == []
    # The unqueued payment stays findable for reconciliation.
    assert db.rows["pay_0001abcd"]["queue"] is False


def test_a_reused_payment_id_with_another_payment_is_refused(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    assert handler.handler(request(GOOD), None)["statusCode"] == 201
    response = handler.handler(request({**GOOD, "amount": "99.00"}), None)
    assert response["statusCode"] == 409
    assert json.loads(response["body"]) == {"error": "payment_id_reused", "payment_id": "pay_0001abcd"}
    assert db.rows["pay_0001abcd"]["amount"] == Decimal("12.50")
    assert messages(aws["sqs"], aws["queue_url"]) == [GOOD]


def test_a_timeout_between_the_write_and_the_publish_is_resumed_once_the_lease_runs_out(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    publish = handler._publish

    def killed_on_success(detail_type: str, payment: dict[str, Any], **extra: Any) -> None:
        if detail_type == "payment.succeeded":
            raise Killed
        publish(detail_type, payment, **extra)

    monkeypatch.setattr(handler, "_publish", killed_on_success)
    with pytest.raises(Killed):
        handler.handler(request(GOOD), None)  # the client sees the load balancer's 502
    row = db.rows["pay_0001abcd"]
    assert (row["queue"], row["event"], row["status"]) == (True, False, None)

    monkeypatch.setattr(handler, "_publish", publish)
    retry = handler.handler(request(GOOD), None)  # within the lease: the first attempt may still run
    assert retry["statusCode"] == 409
    assert json.loads(retry["body"]) == {"error": "in_progress", "payment_id": "pay_0001abcd"}
    assert retry["headers"]["Retry-After"] == "60"

    db.expire_lease("pay_0001abcd")
    resumed = handler.handler(request(GOOD), None)
    assert resumed["statusCode"] == 201
    assert json.loads(resumed["body"]) == {"payment_id": "pay_0001abcd", "status": "accepted", "warnings": []}
    assert messages(aws["sqs"], aws["queue_url"]) == [GOOD]  # queued once: its mark was written
    assert [e["detail-type"] for e in messages(aws["sqs"], aws["capture_url"])] == ["payment.succeeded"]
    again = handler.handler(request(GOOD), None)
    assert (again["statusCode"], again["body"]) == (resumed["statusCode"], resumed["body"])


def test_a_timeout_after_a_send_before_its_mark_sends_it_again_on_resume(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    # The documented at-least-once window: consumers deduplicate on payment_id.
    db = use()
    run = db.run

    def killed_at_the_queue_mark(sql: str, **params: Any) -> list[Any]:
        if sql == handler.MARKS["queue"]:
            raise Killed
        return run(sql, **params)

    monkeypatch.setattr(db, "run", killed_at_the_queue_mark)
    with pytest.raises(Killed):
        handler.handler(request(GOOD), None)
    monkeypatch.setattr(db, "run", run)
    db.expire_lease("pay_0001abcd")
    assert handler.handler(request(GOOD), None)["statusCode"] == 201
    queued = messages(aws["sqs"], aws["queue_url"]) + messages(aws["sqs"], aws["queue_url"])
    assert [m["payment_id"] for m in queued] == ["pay_0001abcd", "pay_0001abcd"]


def test_a_database_error_after_the_write_fails_without_payment_failed_and_the_retry_resumes(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use(fail_on=(handler.RECORD,))
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 502
    assert json.loads(response["body"]) == {"error": "database_unavailable", "payment_id": "pay_0001abcd"}
    assert [e["detail-type"] for e in messages(aws["sqs"], aws["capture_url"])] == ["payment.succeeded"]
    assert db.rows["pay_0001abcd"]["claimed_until"] is None  # released: the retry need not wait
    db.fail_on.clear()
    retry = handler.handler(request(GOOD), None)
    assert retry["statusCode"] == 201
    assert messages(aws["sqs"], aws["queue_url"]) == [GOOD]
    assert messages(aws["sqs"], aws["capture_url"]) == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("not json", "body is not JSON"),
        ([1, 2], "body is not a JSON object"),
        ({**GOOD, "amount": "-1"}, "invalid fields: amount"),
        ({**GOOD, "amount": "1.001"}, "invalid fields: amount"),
        ({**GOOD, "currency": "sgd", "payment_id": "x"}, "invalid fields: payment_id, currency"),
        ({**GOOD, "card_token": "4111111111111111"}, "body contains a card number; send a card token"),
    ],
)
def test_rejects_malformed_payments(
    handler: ModuleType,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    body: Any,
    detail: str,
    use: Callable[..., Any],
) -> None:
    db = use()
    response = handler.handler(request(body), None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "invalid_request", "detail": detail}
    assert db.logins == []


@pytest.mark.parametrize("event", [{}, None, {"body": None}, "text"])
def test_rejects_events_without_a_body(handler: ModuleType, event: Any) -> None:
    assert handler.handler(event, None)["statusCode"] == 400


def test_rejects_oversized_bodies_before_parsing(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    response = handler.handler(request({**GOOD, "note": "x" * 600}), None)
    assert response["statusCode"] == 413
    assert json.loads(response["body"])["error"] == "payload_too_large"
    assert db.logins == []


def test_after_a_rotation_logs_in_as_the_other_user_and_keeps_to_it(
    handler: ModuleType, use: Callable[..., Any]
) -> None:
    """The secret's current user became ``payments_app_clone``: the proxy refuses ``payments_app``."""
    db = use(proxy_users=("payments_app_clone",))
    assert handler.handler(request(GOOD), None)["statusCode"] == 201
    assert [login["user"] for login in db.logins] == ["payments_app", "payments_app_clone"]
    assert handler.handler(request({**GOOD, "payment_id": "pay_0002abcd"}), None)["statusCode"] == 201
    assert [login["user"] for login in db.logins[2:]] == ["payments_app_clone"]
    db.proxy_users = {"payments_app"}  # the next rotation moves back
    assert handler.handler(request({**GOOD, "payment_id": "pay_0003abcd"}), None)["statusCode"] == 201
    assert [login["user"] for login in db.logins[3:]] == ["payments_app_clone", "payments_app"]


def test_a_login_refused_for_both_users_fails_the_payment(handler: ModuleType, use: Callable[..., Any]) -> None:
    db = use(proxy_users=())
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 502
    assert [login["user"] for login in db.logins] == ["payments_app", "payments_app_clone"]
    assert db.rows == {}


def test_a_connection_failure_does_not_try_the_other_user(handler: ModuleType, use: Callable[..., Any]) -> None:
    db = use(fail_connect=True)
    assert handler.handler(request(GOOD), None)["statusCode"] == 502
    assert [login["user"] for login in db.logins] == ["payments_app"]


@pytest.mark.parametrize("failure", ["connect", "insert"])
def test_database_errors_before_the_write_fail_the_payment_and_publish_it(
    handler: ModuleType,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
    caplog: pytest.LogCaptureFixture,
    use: Callable[..., Any],
) -> None:
    db = use(fail_connect=True) if failure == "connect" else use(fail_on=(handler.CLAIM,))
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 502
    assert json.loads(response["body"]) == {"error": "database_unavailable", "payment_id": "pay_0001abcd"}
    assert db.rows == {}
    assert messages(aws["sqs"], aws["queue_url"]) == []
    (event,) = messages(aws["sqs"], aws["capture_url"])
    assert event["detail-type"] == "payment.failed"
    assert any(getattr(r, "outcome", None) == "failed" for r in caplog.records)


def test_downstream_errors_after_storing_are_reported_not_failed(
    handler: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    monkeypatch.setenv("QUEUE_URL", aws["queue_url"] + "-missing")
    monkeypatch.setenv("STREAM_NAME", "missing-stream")
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["warnings"] == ["queue", "stream"]
    row = db.rows["pay_0001abcd"]
    assert (row["queue"], row["event"], row["stream"]) == (False, True, False)


def test_the_tls_context_verifies_certificate_and_host_name(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch, use: Callable[..., Any]
) -> None:
    db = use()
    handler.handler(request(GOOD), None)
    context = db.logins[0]["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_fails_when_the_configured_ca_bundle_is_missing(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DB_CA_BUNDLE", str(tmp_path / "absent.pem"))
    with pytest.raises(RuntimeError, match=r"DB_CA_BUNDLE: no CA bundle file at .*absent.pem"):
        handler.handler(request(GOOD), None)


def test_refuses_a_self_signed_server_certificate(
    handler: ModuleType, point_db_at: Callable[..., None], tls_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    point_db_at(tls_server, None)
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        handler._connect()
    response = handler.handler(request(GOOD), None)
    assert response["statusCode"] == 502
    assert tls_server.handshakes == []
    assert any(getattr(r, "reason", None) == "SSLCertVerificationError" for r in caplog.records)


def test_refuses_a_trusted_certificate_for_another_host_name(
    handler: ModuleType, point_db_at: Callable[..., None], tls_server_other_host: Any, certificates: Any
) -> None:
    point_db_at(tls_server_other_host, certificates.other_host[0])
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handler._connect()
    assert tls_server_other_host.handshakes == []


def test_completes_the_handshake_with_a_trusted_certificate_for_the_host(
    handler: ModuleType, point_db_at: Callable[..., None], tls_server: Any, certificates: Any
) -> None:
    # The control: the same server is accepted once its certificate is the configured bundle, so the
    # refusals above come from verification, not from the stand-in.
    point_db_at(tls_server, certificates.loopback[0])
    with pytest.raises(pg8000.native.InterfaceError):  # the stand-in hangs up after the handshake
        handler._connect()
    assert len(tls_server.handshakes) == 1


@pytest.mark.parametrize("name", ["DB_HOST", "DB_USER", "QUEUE_URL", "BUS_NAME", "STREAM_NAME"])
def test_fails_before_storing_when_a_setting_is_missing(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch, name: str, use: Callable[..., Any]
) -> None:
    db = use()
    monkeypatch.delenv(name)
    with pytest.raises(RuntimeError, match=f"environment variable {name} is not set"):
        handler.handler(request(GOOD), None)
    assert db.logins == []
