"""Firehose transformer against moto in-process: good, dropped, malformed and oversized records."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "transformer"
REGION = "ap-southeast-1"


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "METRIC_NAMESPACE": "PciPlatform/test",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield load_handler(FOLDER)


def encode(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def batch(*datas: str) -> dict[str, Any]:
    return {
        "invocationId": "inv-1",
        "records": [{"recordId": f"r{i}", "approximateArrivalTimestamp": 0, "data": d} for i, d in enumerate(datas)],
    }


def test_good_records_are_compact_lines_without_tokens_or_card_numbers(handler: ModuleType) -> None:
    record = {"payment_id": "pay_1", "amount": "12.50", "card_token": "tok_abc", "note": "4111111111111111"}
    (out,) = handler.handler(batch(encode(json.dumps(record))), None)["records"]
    assert (out["recordId"], out["result"]) == ("r0", "Ok")
    line = base64.b64decode(out["data"]).decode()
    assert line == '{"amount":"12.50","note":"411111******1111","payment_id":"pay_1"}\n'


def test_heartbeats_and_empty_records_are_dropped(handler: ModuleType) -> None:
    results = handler.handler(batch(encode('{"type": "heartbeat"}'), encode("  ")), None)["records"]
    assert [r["result"] for r in results] == ["Dropped", "Dropped"]


@pytest.mark.parametrize(
    "data",
    [
        "not-base64!!",
        encode("not json"),
        encode(b"\xff\xfe"),
        encode("[1]"),
        encode('{"amount": 1}'),
        encode('{"payment_id": ""}'),
    ],
)
def test_malformed_records_fail_and_keep_their_data(handler: ModuleType, data: str) -> None:
    (out,) = handler.handler(batch(data), None)["records"]
    assert out == {"recordId": "r0", "result": "ProcessingFailed", "data": data}


def test_oversized_records_fail(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_RECORD_BYTES", "64")
    big = encode(json.dumps({"payment_id": "pay_1", "pad": "x" * 100}))
    small = encode(json.dumps({"payment_id": "pay_2"}))
    results = handler.handler(batch(big, small), None)["records"]
    assert [r["result"] for r in results] == ["ProcessingFailed", "Ok"]


def test_every_record_gets_one_result_and_metrics_are_published(handler: ModuleType) -> None:
    datas = [encode(json.dumps({"payment_id": f"p{i}"})) for i in range(3)] + ["bad"]
    results = handler.handler(batch(*datas), None)["records"]
    assert [r["recordId"] for r in results] == ["r0", "r1", "r2", "r3"]
    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(Namespace="PciPlatform/test")["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == [
        "TransformRecordsDropped",
        "TransformRecordsOk",
        "TransformRecordsProcessingFailed",
    ]


def test_a_metrics_failure_does_not_fail_the_batch(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def put_metric_data(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutMetricData")

    monkeypatch.setattr(handler.boto3, "client", lambda *a, **k: Broken())
    (out,) = handler.handler(batch(encode('{"payment_id": "p"}')), None)["records"]
    assert out["result"] == "Ok"


@pytest.mark.parametrize("event", [{}, None, {"records": "x"}])
def test_bad_events_give_no_records(handler: ModuleType, event: Any) -> None:
    assert handler.handler(event, None) == {"records": []}


def test_records_without_an_id_are_skipped(handler: ModuleType) -> None:
    assert handler.handler({"records": [{"data": encode("{}")}, "junk"]}, None) == {"records": []}
