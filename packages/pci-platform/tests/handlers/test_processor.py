"""Processor handler against moto in-process: truncation, bad lines, bad events, AWS errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
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


def test_reports_a_missing_target_bucket(handler: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGET_BUCKET", "no-such-bucket")
    s3.put_object(Bucket=SOURCE, Key="incoming/a.jsonl", Body=json.dumps({"pan": "4111111111111111"}).encode())
    result = handler.handler(notification("incoming/a.jsonl"), None)
    assert result["processed"] == []
    assert result["failed"][0]["error"] == "NoSuchBucket"


@pytest.mark.parametrize("bad_event", [{}, {"Records": "x"}, {"Records": [{"s3": {}}]}, None, []])
def test_fails_on_bad_events(handler: ModuleType, bad_event: Any) -> None:
    result = handler.handler(bad_event, None)
    assert result["processed"] == []
    assert result["failed"][0]["error"] == "invalid_event"
