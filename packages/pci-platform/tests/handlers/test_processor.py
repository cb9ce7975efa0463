"""Processor handler against moto in-process: truncation, bad lines, bad events, AWS errors and their retry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "processor"
REGION = "ap-southeast-1"
SOURCE, TARGET = "cardholder-data", "processed-data"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        for bucket in (SOURCE, TARGET):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        monkeypatch.setenv("TARGET_BUCKET", TARGET)
        monkeypatch.setenv("TARGET_KEY_ARN", key_arn)
        monkeypatch.setenv("INCOMING_PREFIX", "incoming/")
        yield client


@pytest.fixture
def handler(s3: Any) -> ModuleType:
    return load_handler(FOLDER)


def notification(*keys: str, bucket: str = SOURCE) -> dict[str, Any]:
    return {
        "Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": bucket}, "object": {"key": k}}} for k in keys]
    }


def test_truncates_card_numbers_and_encrypts_with_the_key(handler: ModuleType, s3: Any) -> None:
    body = "\n".join(
        [
            json.dumps({"pan": "4111111111111111", "amount": 12.5}),
            json.dumps({"pan": "5500005555555559", "merchant": "m-1"}),
        ]
    )
    s3.put_object(Bucket=SOURCE, Key="incoming/batch-1.jsonl", Body=body.encode())
    result = handler.handler(notification("incoming/batch-1.jsonl"), None)
    assert result == {"processed": [{"key": "batch-1.jsonl", "records": 2, "rejected": 0}], "failed": []}
    written = s3.get_object(Bucket=TARGET, Key="batch-1.jsonl")
    lines = [json.loads(line) for line in written["Body"].read().decode().splitlines()]
    assert lines == [{"amount": 12.5, "pan": "411111******1111"}, {"merchant": "m-1", "pan": "550000******5559"}]
    assert written["ServerSideEncryption"] == "aws:kms"


@pytest.mark.parametrize("pan", ["4111111111111", "4111111111111111111"])
def test_truncate_keeps_first_six_and_last_four(handler: ModuleType, pan: str) -> None:
    masked = handler.truncate(pan)
    assert masked[:6] == pan[:6]
    assert masked[-4:] == pan[-4:]
    assert set(masked[6:-4]) == {"*"}
    assert len(masked) == len(pan)


def test_rejects_malformed_lines_but_keeps_good_ones(handler: ModuleType, s3: Any) -> None:
    body = "\n".join(
        [
            "not json",
            json.dumps(["list"]),
            json.dumps({"pan": "12ab"}),
            json.dumps({"amount": 1}),
            "",
            json.dumps({"pan": "4111111111111111"}),
        ]
    )
    s3.put_object(Bucket=SOURCE, Key="incoming/mixed.jsonl", Body=body.encode())
    result = handler.handler(notification("incoming/mixed.jsonl"), None)
    assert result["processed"] == [{"key": "mixed.jsonl", "records": 1, "rejected": 4}]
    assert "4111111111111111" not in s3.get_object(Bucket=TARGET, Key="mixed.jsonl")["Body"].read().decode()


def test_reports_oversized_objects_without_reading_them(
    handler: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler, "MAX_OBJECT_BYTES", 10)
    s3.put_object(Bucket=SOURCE, Key="incoming/big.jsonl", Body=b"x" * 11)
    result = handler.handler(notification("incoming/big.jsonl"), None)
    assert result == {
        "processed": [],
        "failed": [{"key": "incoming/big.jsonl", "error": "too_large", "detail": "11 bytes"}],
    }


def test_reports_non_text_objects(handler: ModuleType, s3: Any) -> None:
    s3.put_object(Bucket=SOURCE, Key="incoming/binary", Body=b"\xff\xfe\x00")
    assert handler.handler(notification("incoming/binary"), None)["failed"] == [
        {"key": "incoming/binary", "error": "not_utf8"}
    ]


def test_one_missing_object_does_not_stop_the_others(handler: ModuleType, s3: Any) -> None:
    s3.put_object(Bucket=SOURCE, Key="incoming/ok.jsonl", Body=json.dumps({"pan": "4111111111111111"}).encode())
    result = handler.handler(notification("incoming/gone.jsonl", "incoming/ok.jsonl"), None)
    assert [p["key"] for p in result["processed"]] == ["ok.jsonl"]
    assert [(f["key"], f["error"]) for f in result["failed"]] == [("incoming/gone.jsonl", "404")]


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "X")


def fail_calls(
    monkeypatch: pytest.MonkeyPatch, handler: ModuleType, operation: str, error: Exception, times: int
) -> list[str]:
    """Make the handler's S3 client raise ``error`` on its first ``times`` calls of ``operation``."""
    failures: list[str] = []
    real_client = boto3.client

    def failing(*args: Any, **kwargs: Any) -> Any:
        client = real_client(*args, **kwargs)

        def hook(**_: Any) -> None:
            if len(failures) < times:
                failures.append(operation)
                raise error

        client.meta.events.register(f"before-call.s3.{operation}", hook)
        return client

    monkeypatch.setattr(handler.boto3, "client", failing)
    return failures


def error_id(error: Exception) -> str:
    return str(((getattr(error, "response", None) or {}).get("Error") or {}).get("Code") or type(error).__name__)


TRANSIENT_ERRORS = [
    client_error("SlowDown", 503),
    client_error("ThrottlingException", 400),
    client_error("InternalError", 500),
    client_error("TooManyRequestsException", 429),
    client_error("SomethingNew", 502),
    ReadTimeoutError(endpoint_url="https://s3.ap-southeast-1.amazonaws.com"),
    EndpointConnectionError(endpoint_url="https://s3.ap-southeast-1.amazonaws.com"),
]


@pytest.mark.parametrize("error", TRANSIENT_ERRORS, ids=error_id)
def test_classifies_transient_errors(handler: ModuleType, error: Exception) -> None:
    assert handler.classify(error) == "transient"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("NoSuchKey", 404), "object"),
        (client_error("404", 404), "object"),
        (client_error("InvalidObjectState", 403), "object"),
        (client_error("AccessDenied", 403), "configuration"),
        (client_error("NoSuchBucket", 404), "configuration"),
        (client_error("KMS.DisabledException", 400), "configuration"),
    ],
)
def test_classifies_permanent_errors(handler: ModuleType, error: Exception, kind: str) -> None:
    assert handler.classify(error) == kind


@pytest.mark.parametrize(
    "error",
    TRANSIENT_ERRORS[:1] + TRANSIENT_ERRORS[-2:],
    ids=error_id,
)
def test_raises_on_a_transient_error_after_processing_the_other_objects(
    handler: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    for name in ("first", "second"):
        s3.put_object(
            Bucket=SOURCE, Key=f"incoming/{name}.jsonl", Body=json.dumps({"pan": "4111111111111111"}).encode()
        )
    failures = fail_calls(monkeypatch, handler, "PutObject", error, times=1)
    with pytest.raises(
        handler.ObjectsNotProcessed, match=r"1 of 2 objects not processed: incoming/first.jsonl \(transient"
    ):
        handler.handler(notification("incoming/first.jsonl", "incoming/second.jsonl"), None)
    assert failures == ["PutObject"]
    assert s3.list_objects_v2(Bucket=TARGET)["KeyCount"] == 1
    s3.head_object(Bucket=TARGET, Key="second.jsonl")


def test_the_retry_of_a_failed_event_completes_it(
    handler: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lambda's asynchronous retry sends the same event again: the object already written is
    # rewritten with the same bytes, the one that failed is written now.
    for name in ("first", "second"):
        s3.put_object(
            Bucket=SOURCE, Key=f"incoming/{name}.jsonl", Body=json.dumps({"pan": "4111111111111111"}).encode()
        )
    event = notification("incoming/first.jsonl", "incoming/second.jsonl")
    fail_calls(monkeypatch, handler, "GetObject", client_error("SlowDown", 503), times=1)
    with pytest.raises(handler.ObjectsNotProcessed):
        handler.handler(event, None)
    written = s3.get_object(Bucket=TARGET, Key="second.jsonl")["Body"].read()
    result = handler.handler(event, None)
    assert result == {
        "processed": [
            {"key": "first.jsonl", "records": 1, "rejected": 0},
            {"key": "second.jsonl", "records": 1, "rejected": 0},
        ],
        "failed": [],
    }
    assert s3.get_object(Bucket=TARGET, Key="second.jsonl")["Body"].read() == written
    assert s3.list_objects_v2(Bucket=TARGET)["KeyCount"] == 2


def test_raises_on_a_missing_target_bucket(handler: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A configuration fault: the event must wait in the on-failure destination, not be dropped.
    monkeypatch.setenv("TARGET_BUCKET", "no-such-bucket")
    s3.put_object(Bucket=SOURCE, Key="incoming/a.jsonl", Body=json.dumps({"pan": "4111111111111111"}).encode())
    with pytest.raises(handler.ObjectsNotProcessed, match=r"incoming/a.jsonl \(configuration: NoSuchBucket\)"):
        handler.handler(notification("incoming/a.jsonl"), None)


def test_raises_on_access_denied(handler: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s3.put_object(Bucket=SOURCE, Key="incoming/a.jsonl", Body=json.dumps({"pan": "4111111111111111"}).encode())
    fail_calls(monkeypatch, handler, "PutObject", client_error("AccessDenied", 403), times=1)
    with pytest.raises(handler.ObjectsNotProcessed, match=r"configuration: AccessDenied"):
        handler.handler(notification("incoming/a.jsonl"), None)


@pytest.mark.parametrize("name", ["TARGET_BUCKET", "TARGET_KEY_ARN"])
def test_fails_without_its_settings(handler: ModuleType, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(RuntimeError, match=f"environment variable {name} is not set"):
        handler.handler(notification("incoming/a.jsonl"), None)


def test_ignores_the_s3_test_event(handler: ModuleType, s3: Any) -> None:
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": SOURCE, "RequestId": "r", "HostId": "h"}
    assert handler.handler(event, None) == {"processed": [], "failed": []}
    assert s3.list_objects_v2(Bucket=TARGET)["KeyCount"] == 0


@pytest.mark.parametrize("bad_event", [{}, {"Records": "x"}, {"Records": [{"s3": {}}]}, None, []])
def test_fails_on_bad_events(handler: ModuleType, bad_event: Any) -> None:
    result = handler.handler(bad_event, None)
    assert result["processed"] == []
    assert result["failed"][0]["error"] == "invalid_event"
