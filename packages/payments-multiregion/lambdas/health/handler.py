"""Regional canary: can this region still take a payment's data-plane steps?

Every minute (EventBridge schedule) it writes this region's canary item to the payments table,
reads it back with a consistent read and compares the nonce, and puts a canary event on the
regional bus. It publishes ``Payments/Health`` metrics (dimension ``Region``): ``TableWrite``,
``TableRead``, ``EventBusPut``, ``RegionHealthy`` (1 or 0) and ``CheckLatencyMs``. The
``region-healthy`` alarm on ``RegionHealthy`` is what the region's Route 53 health check watches;
no endpoint serves this function.

The canary item's key (``health#canary.<region>``) is outside the client key space and filtered
out of the stream consumer; the canary event's source (``payments.health``) matches no payment
rule. Results carry outcome codes only, never exception text.

Environment: ``TABLE_NAME``, ``EVENT_BUS_NAME``, ``METRIC_NAMESPACE`` (default Payments/Health),
``CANARY_KEY``, ``AWS_REGION`` (set by Lambda).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

CANARY_SOURCE = "payments.health"
CANARY_DETAIL_TYPE = "HealthCanary"
# Short timeouts and one retry (two attempts): a run must end well inside its one-minute period (function timeout 20 s).
_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 2, "mode": "standard"})
_dynamodb = boto3.client("dynamodb", config=_CONFIG)
_events = boto3.client("events", config=_CONFIG)
_cloudwatch = boto3.client("cloudwatch", config=_CONFIG)

OK, TIMEOUT, FAILED, MISMATCH = "ok", "timeout", "failed", "mismatch"


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True))


def _region() -> str:
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _outcome(step: str, exc: Exception) -> str:
    """The outcome code of a failed call; the error code (never its message) goes to the log."""
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
    log("ERROR", "canary step failed", step=step, error_code=code)
    return TIMEOUT if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)) else FAILED


def _canary_key() -> str:
    return os.environ.get("CANARY_KEY") or f"health#canary.{_region()}"


def check_table(nonce: str) -> tuple[str, str]:
    """(write outcome, read outcome) of the canary item: written with ``nonce``, read back consistently."""
    key = {"idempotency_key": {"S": _canary_key()}}
    try:
        _dynamodb.put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={**key, "nonce": {"S": nonce}, "checked_at": {"S": datetime.now(UTC).isoformat()}},
        )
    except (ClientError, BotoCoreError) as exc:
        return _outcome("table_write", exc), "skipped"
    try:
        item = _dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=key, ConsistentRead=True).get("Item")
    except (ClientError, BotoCoreError) as exc:
        return OK, _outcome("table_read", exc)
    if not item or item.get("nonce", {}).get("S") != nonce:
        log("ERROR", "canary read back another value", step="table_read")
        return OK, MISMATCH
    return OK, OK


def check_bus(nonce: str) -> str:
    """The outcome of putting the canary event on the regional bus."""
    try:
        answer = _events.put_events(
            Entries=[
                {
                    "Source": CANARY_SOURCE,
                    "DetailType": CANARY_DETAIL_TYPE,
                    "EventBusName": os.environ["EVENT_BUS_NAME"],
                    "Detail": json.dumps({"nonce": nonce, "region": _region()}),
                }
            ]
        )
    except (ClientError, BotoCoreError) as exc:
        return _outcome("bus_put", exc)
    if answer.get("FailedEntryCount", 0):
        codes = [e.get("ErrorCode") for e in answer.get("Entries", []) if e.get("ErrorCode")]
        log("ERROR", "canary step failed", step="bus_put", error_code=",".join(codes))
        return FAILED
    return OK


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
        _outcome("publish_metrics", exc)
        return False
    return True


def handler(event: object, context: object) -> dict[str, Any]:
    """Run the canary once; publish and return its outcome codes."""
    started = time.monotonic()
    nonce = uuid.uuid4().hex
    write, read = check_table(nonce)
    bus = check_bus(nonce)
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    healthy = write == read == bus == OK
    results = {"TableWrite": write == OK, "TableRead": read == OK, "EventBusPut": bus == OK, "RegionHealthy": healthy}
    summary = {
        "region": _region(),
        "healthy": healthy,
        "table_write": write,
        "table_read": read,
        "event_bus_put": bus,
        "latency_ms": latency_ms,
        "metrics_published": publish(results, latency_ms),
    }
    log("INFO" if healthy else "ERROR", "health check", **summary)
    return summary
