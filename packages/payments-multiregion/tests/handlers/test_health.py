"""Health-check handler against moto: metrics, HTTP answers and failing dependencies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError


def metrics(aws: dict[str, Any]) -> set[str]:
    found = aws["cloudwatch"].list_metrics(Namespace="Payments/Health")["Metrics"]
    assert all(m["Dimensions"] == [{"Name": "Region", "Value": "us-east-1"}] for m in found)
    return {m["MetricName"] for m in found}


@pytest.mark.requirement("DR-C16")
def test_healthy_region_publishes_metrics(health: ModuleType, aws: dict[str, Any]) -> None:
    summary = health.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert summary["healthy"] is True
    assert summary["metrics_published"] is True
    assert metrics(aws) == {"TableAvailable", "EventBusAvailable", "RegionHealthy", "CheckLatencyMs"}


def test_api_answers_200_when_healthy(health: ModuleType) -> None:
    answer = health.handler({"httpMethod": "GET", "path": "/health"}, None)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["table"] == "ACTIVE"


@pytest.mark.parametrize(("variable", "failed"), [("TABLE_NAME", "table"), ("EVENT_BUS_NAME", "event_bus")])
def test_fails_api_with_503_when_dependency_missing(
    health: ModuleType, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, variable: str, failed: str
) -> None:
    monkeypatch.setenv(variable, "missing-resource")
    answer = health.handler({"httpMethod": "GET", "path": "/health"}, None)
    assert answer["statusCode"] == 503
    body = json.loads(answer["body"])
    assert body["healthy"] is False
    assert "ResourceNotFoundException" in body[failed]
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
    assert points["MetricDataResults"][0]["Values"] == [0.0]


def test_fails_metric_publication_is_reported(health: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "PutMetricData")

    monkeypatch.setattr(health._cloudwatch, "put_metric_data", refuse)
    summary = health.handler({}, None)
    assert summary["healthy"] is True
    assert summary["metrics_published"] is False
