"""The canary against moto: a healthy run, and each failure mode (table write, read mismatch, bus
put, timeout, metrics) ending unhealthy with outcome codes and no exception text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

CANARY = {"idempotency_key": {"S": "health#canary.us-east-1"}}
SECRET = "injected detail that must not leave the function"


def metrics(aws: dict[str, Any]) -> set[str]:
    found = aws["cloudwatch"].list_metrics(Namespace="Payments/Health")["Metrics"]
    assert all(m["Dimensions"] == [{"Name": "Region", "Value": "us-east-1"}] for m in found)
    return {m["MetricName"] for m in found}


def region_healthy(aws: dict[str, Any]) -> list[float]:
    now = datetime.now(UTC)
    points = aws["cloudwatch"].get_metric_data(
        MetricDataQueries=[
            {
                "Id": "h",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Payments/Health",
                        "MetricName": "RegionHealthy",
                        "Dimensions": [{"Name": "Region", "Value": "us-east-1"}],
                    },
                    "Period": 60,
                    "Stat": "Minimum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
    )
    values: list[float] = points["MetricDataResults"][0]["Values"]
    return values


def refuse(operation: str, code: str = "AccessDeniedException") -> Any:
    def call(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": SECRET}}, operation)

    return call


def assert_unhealthy_without_detail(summary: dict[str, Any], aws: dict[str, Any]) -> None:
    assert summary["healthy"] is False
    assert SECRET not in json.dumps(summary)
    assert "Exception" not in json.dumps(summary)
    assert region_healthy(aws) == [0.0]


@pytest.mark.requirement("DR-C16")
def test_healthy_region_writes_reads_and_publishes(health: ModuleType, aws: dict[str, Any]) -> None:
    summary = health.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert summary["healthy"] is True, summary
    assert (summary["table_write"], summary["table_read"], summary["event_bus_put"]) == ("ok", "ok", "ok")
    assert summary["metrics_published"] is True
    assert metrics(aws) == {"TableWrite", "TableRead", "EventBusPut", "RegionHealthy", "CheckLatencyMs"}
    assert region_healthy(aws) == [1.0]
    item = aws["dynamodb"].get_item(TableName="payments-transactions-test", Key=CANARY)["Item"]
    assert len(item["nonce"]["S"]) == 32


def test_each_run_writes_a_new_nonce(health: ModuleType, aws: dict[str, Any]) -> None:
    nonces = set()
    for _ in range(2):
        assert health.handler({}, None)["healthy"] is True
        nonces.add(aws["dynamodb"].get_item(TableName="payments-transactions-test", Key=CANARY)["Item"]["nonce"]["S"])
    assert len(nonces) == 2


def test_fails_when_the_table_write_fails(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health._dynamodb, "put_item", refuse("PutItem"))
    summary = health.handler({}, None)
    assert (summary["table_write"], summary["table_read"]) == ("failed", "skipped")
    assert summary["event_bus_put"] == "ok"
    assert_unhealthy_without_detail(summary, aws)


def test_fails_when_the_table_is_missing(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "missing-table")
    summary = health.handler({}, None)
    assert summary["table_write"] == "failed"
    assert_unhealthy_without_detail(summary, aws)


@pytest.mark.parametrize("stored", [None, {"S": "another-run"}], ids=["item-gone", "other-nonce"])
def test_fails_when_the_read_does_not_return_the_written_nonce(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, stored: dict[str, str] | None
) -> None:
    item = None if stored is None else {**CANARY, "nonce": stored}
    monkeypatch.setattr(health._dynamodb, "get_item", lambda **kwargs: {"Item": item} if item else {})
    summary = health.handler({}, None)
    assert (summary["table_write"], summary["table_read"]) == ("ok", "mismatch")
    assert_unhealthy_without_detail(summary, aws)


def test_fails_when_the_read_is_refused(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health._dynamodb, "get_item", refuse("GetItem", "ProvisionedThroughputExceededException"))
    summary = health.handler({}, None)
    assert summary["table_read"] == "failed"
    assert_unhealthy_without_detail(summary, aws)


def test_fails_when_the_bus_refuses_the_event(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": SECRET}]}
    monkeypatch.setattr(health._events, "put_events", lambda **kwargs: answer)
    summary = health.handler({}, None)
    assert summary["event_bus_put"] == "failed"
    assert summary["table_read"] == "ok"
    assert_unhealthy_without_detail(summary, aws)


def test_fails_when_the_bus_put_raises(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health._events, "put_events", refuse("PutEvents"))
    summary = health.handler({}, None)
    assert summary["event_bus_put"] == "failed"
    assert_unhealthy_without_detail(summary, aws)


@pytest.mark.parametrize(
    ("client", "operation", "error"),
    [
        ("_dynamodb", "put_item", ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")),
        ("_events", "put_events", ConnectTimeoutError(endpoint_url="https://events.us-east-1.amazonaws.com")),
    ],
)
def test_fails_with_timeout_when_a_call_times_out(
    health: ModuleType,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    client: str,
    operation: str,
    error: Exception,
) -> None:
    def hang(**kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(getattr(health, client), operation, hang)
    summary = health.handler({}, None)
    assert "timeout" in (summary["table_write"], summary["event_bus_put"])
    assert_unhealthy_without_detail(summary, aws)


def test_clients_give_up_inside_the_canary_period(health: ModuleType) -> None:
    config = health._dynamodb.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (2, 3, 2)
    # At most 2 x (2 s + 3 s) per call; a run that still outlasts the function's timeout publishes
    # nothing, which the region-unhealthy alarm treats as breaching.


def test_fails_metric_publication_is_reported(health: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health._cloudwatch, "put_metric_data", refuse("PutMetricData", "Throttling"))
    summary = health.handler({}, None)
    assert summary["healthy"] is True
    assert summary["metrics_published"] is False
