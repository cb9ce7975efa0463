"""Kinesis Data Firehose transformation of transaction-log records.

For each record (base64 ``data``) the result is:

- ``Ok``: a JSON object with a ``payment_id``; written back as one compact JSON line, with any
  ``card_token`` removed and any card-number-like digit run masked (defence in depth).
- ``Dropped``: a heartbeat (``{"type": "heartbeat"}``) or an empty record.
- ``ProcessingFailed``: not base64, not UTF-8 JSON, not an object, no ``payment_id``, or over
  ``MAX_RECORD_BYTES`` (default 1,000,000); Firehose writes these under the error prefix.

Counts per result are published as CloudWatch metrics (``METRIC_NAMESPACE``); a metrics failure is
logged and never fails the batch.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger("transformer")
LOGGER.setLevel(logging.INFO)

OK, DROPPED, FAILED = "Ok", "Dropped", "ProcessingFailed"
PAN_LIKE = re.compile(r"\b\d{13,19}\b")
DEFAULT_MAX_RECORD_BYTES = 1_000_000


def _mask(text: str) -> str:
    return PAN_LIKE.sub(lambda m: m.group()[:6] + "*" * (len(m.group()) - 10) + m.group()[-4:], text)


def transform(data: str, max_bytes: int) -> tuple[str, str | None]:
    """The result and new base64 data of one record (``None`` data keeps the original)."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return FAILED, None
    if len(raw) > max_bytes:
        return FAILED, None
    if not raw.strip():
        return DROPPED, None
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return FAILED, None
    if not isinstance(record, dict):
        return FAILED, None
    if record.get("type") == "heartbeat":
        return DROPPED, None
    if not isinstance(record.get("payment_id"), str) or not record["payment_id"]:
        return FAILED, None
    record.pop("card_token", None)
    line = _mask(json.dumps(record, sort_keys=True, separators=(",", ":"))) + "\n"
    return OK, base64.b64encode(line.encode()).decode()


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Transform a Firehose batch; every input record gets exactly one result."""
    max_bytes = int(os.environ.get("MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES))
    records = event.get("records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        LOGGER.error("invalid event", extra={"reason": "no records list"})
        return {"records": []}
    output = []
    counts = {OK: 0, DROPPED: 0, FAILED: 0}
    for record in records:
        record_id = record.get("recordId") if isinstance(record, dict) else None
        if not isinstance(record_id, str):
            LOGGER.error("record without recordId skipped")
            continue
        data = record.get("data")
        result, new_data = transform(data, max_bytes) if isinstance(data, str) else (FAILED, None)
        counts[result] += 1
        output.append({"recordId": record_id, "result": result, "data": new_data if new_data is not None else data})
    LOGGER.info("batch transformed", extra={"ok": counts[OK], "dropped": counts[DROPPED], "failed": counts[FAILED]})
    _metrics(counts)
    return {"records": output}


def _metrics(counts: dict[str, int]) -> None:
    namespace = os.environ.get("METRIC_NAMESPACE")
    if not namespace:
        return
    try:
        boto3.client("cloudwatch").put_metric_data(
            Namespace=namespace,
            MetricData=[
                {"MetricName": f"TransformRecords{result}", "Value": count, "Unit": "Count"}
                for result, count in counts.items()
            ],
        )
    except (ClientError, BotoCoreError) as exc:
        LOGGER.warning("could not publish record metrics", extra={"reason": type(exc).__name__})
