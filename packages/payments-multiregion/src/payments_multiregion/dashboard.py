"""The operations dashboard: one row of widgets per region, all on one CloudWatch dashboard."""

from __future__ import annotations

import json
from typing import Any

from payments_multiregion.alarms import API_NAMESPACE, PAYMENT_FAILURE_RATE
from payments_multiregion.names import HEALTH_NAMESPACE, TRANSACTION, Names
from payments_multiregion.settings import Settings

WIDTH = 8
HEIGHT = 6


def _widget(title: str, region: str, metrics: list[list[Any]], x: int, y: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "metrics": metrics,
            "period": 60,
            "stat": "Sum",
            "view": "timeSeries",
            **extra,
        },
    }


def failure_rate_metrics(machine: str, region: str) -> list[list[Any]]:
    """Failed payments over payments as a percentage (the ``payment-failure-rate`` alarm's expression)."""
    hidden = {"visible": False, "region": region}
    states = [
        ["AWS/States", name, "StateMachineArn", machine, {"id": id, **hidden}]
        for id, name in (
            ("failed", "ExecutionsFailed"),
            ("timedout", "ExecutionsTimedOut"),
            ("aborted", "ExecutionsAborted"),
            ("sfnthrottled", "ExecutionThrottled"),
        )
    ]
    return [
        [{"expression": PAYMENT_FAILURE_RATE, "label": "failure %", "id": "rate"}],
        *states,
        [API_NAMESPACE, "ThrottledRequests", {"id": "apithrottled", **hidden}],
        [API_NAMESPACE, "PaymentRequests", {"id": "payments", **hidden}],
    ]


def dashboard_body(settings: Settings, names: Names) -> str:
    """The dashboard JSON: per region transactions, failure rate, workflow, API, table and health."""
    widgets: list[dict[str, Any]] = []
    for row, region in enumerate(settings.regions):
        widgets.extend(_region_widgets(settings, names, region, row * HEIGHT * 2))
    replication = [
        [
            "AWS/DynamoDB",
            "ReplicationLatency",
            "TableName",
            names.table,
            "ReceivingRegion",
            region,
            {"region": settings.primary_region},
        ]
        for region in settings.secondary_regions
    ]
    if replication:
        widgets.append(
            _widget(
                "Global table replication latency (ms)",
                settings.primary_region,
                replication,
                0,
                len(settings.regions) * HEIGHT * 2,
                stat="Average",
            )
        )
    return json.dumps({"widgets": widgets}, sort_keys=True)


def _region_widgets(settings: Settings, names: Names, region: str, y: int) -> list[dict[str, Any]]:
    """Two rows of three widgets for one region, starting at row ``y``."""
    function, machine, api, table = (
        names.function(TRANSACTION, region),
        names.state_machine_arn(region),
        names.api(region),
        names.table,
    )
    return [
        _widget(
            f"{region}: transactions",
            region,
            [
                ["AWS/Lambda", "Invocations", "FunctionName", function],
                ["AWS/Lambda", "Errors", "FunctionName", function],
                ["AWS/Lambda", "Throttles", "FunctionName", function],
            ],
            0,
            y,
        ),
        _widget(
            f"{region}: failure rate (%)",
            region,
            failure_rate_metrics(machine, region),
            WIDTH,
            y,
            annotations={"horizontal": [{"label": "alarm", "value": settings.alarms.failure_rate_percent}]},
        ),
        _widget(
            f"{region}: API",
            region,
            [
                ["AWS/ApiGateway", "Count", "ApiName", api],
                ["AWS/ApiGateway", "4XXError", "ApiName", api],
                ["AWS/ApiGateway", "5XXError", "ApiName", api],
            ],
            2 * WIDTH,
            y,
        ),
        _widget(
            f"{region}: workflow",
            region,
            [
                ["AWS/States", "ExecutionsStarted", "StateMachineArn", machine],
                ["AWS/States", "ExecutionsFailed", "StateMachineArn", machine],
            ],
            0,
            y + HEIGHT,
        ),
        _widget(
            f"{region}: table",
            region,
            [
                [
                    "AWS/DynamoDB",
                    "SuccessfulRequestLatency",
                    "TableName",
                    table,
                    "Operation",
                    "PutItem",
                    {"stat": "p99"},
                ],
                ["AWS/DynamoDB", "ThrottledRequests", "TableName", table, "Operation", "PutItem"],
            ],
            WIDTH,
            y + HEIGHT,
        ),
        _widget(
            f"{region}: health",
            region,
            [
                [HEALTH_NAMESPACE, "RegionHealthy", "Region", region, {"stat": "Minimum"}],
                [HEALTH_NAMESPACE, "CheckLatencyMs", "Region", region, {"stat": "Average", "yAxis": "right"}],
            ],
            2 * WIDTH,
            y + HEIGHT,
        ),
    ]
