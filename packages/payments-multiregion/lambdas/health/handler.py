"""Regional health check: is the payments table and the event bus of this region usable?

Runs every 2 minutes from an EventBridge schedule and publishes custom metrics
(namespace ``Payments/Health``, dimension ``Region``): ``TableAvailable``, ``EventBusAvailable``,
``RegionHealthy`` (1 or 0) and ``CheckLatencyMs``. Behind ``GET /health`` of the regional API it
answers 200 when healthy and 503 otherwise, which is what the Route 53 health check probes: an
unhealthy region leaves the latency-routed DNS name.

Environment: ``TABLE_NAME``, ``EVENT_BUS_NAME``, ``METRIC_NAMESPACE`` (default Payments/Health),
``AWS_REGION`` (set by Lambda).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

_dynamodb = boto3.client("dynamodb")
_events = boto3.client("events")
_cloudwatch = boto3.client("cloudwatch")


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def _region() -> str:
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def check_table() -> tuple[bool, str]:
    try:
        status = _dynamodb.describe_table(TableName=os.environ["TABLE_NAME"])["Table"]["TableStatus"]
    except (ClientError, BotoCoreError) as exc:
        return False, str(exc)
    return status in ("ACTIVE", "UPDATING"), status


def check_bus() -> tuple[bool, str]:
    try:
        _events.describe_event_bus(Name=os.environ["EVENT_BUS_NAME"])
    except (ClientError, BotoCoreError) as exc:
        return False, str(exc)
    return True, "ACTIVE"


def publish(results: dict[str, bool], latency_ms: float) -> bool:
    """Put the metrics; False (and a log line) when CloudWatch refuses them."""
    dimensions = [{"Name": "Region", "Value": _region()}]
    data = [
        {"MetricName": name, "Dimensions": dimensions, "Value": 1.0 if ok else 0.0, "Unit": "Count"}
        for name, ok in results.items()
    ]
    data.append({"MetricName": "CheckLatencyMs", "Dimensions": dimensions, "Value": latency_ms, "Unit": "Milliseconds"})
    try:
        _cloudwatch.put_metric_data(Namespace=os.environ.get("METRIC_NAMESPACE", "Payments/Health"), MetricData=data)
    except (ClientError, BotoCoreError) as exc:
        log("ERROR", "could not publish health metrics", error=str(exc))
        return False
    return True


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Check the region; publish metrics; answer HTTP when called through the API."""
    started = time.monotonic()
    table_ok, table_detail = check_table()
    bus_ok, bus_detail = check_bus()
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    healthy = table_ok and bus_ok
    results = {"TableAvailable": table_ok, "EventBusAvailable": bus_ok, "RegionHealthy": healthy}
    published = publish(results, latency_ms)
    summary = {
        "region": _region(),
        "healthy": healthy,
        "table": table_detail,
        "event_bus": bus_detail,
        "latency_ms": latency_ms,
        "metrics_published": published,
    }
    log("INFO" if healthy else "ERROR", "health check", **summary)
    if isinstance(event, dict) and ("httpMethod" in event or "requestContext" in event):
        return {
            "statusCode": 200 if healthy else 503,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(summary),
        }
    return summary
