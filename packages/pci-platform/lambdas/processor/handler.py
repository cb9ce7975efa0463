"""Truncate card numbers of incoming objects and write the result to the processed bucket.

Triggered by S3 ``ObjectCreated`` notifications of the cardholder bucket (incoming prefix). Each
object holds JSON lines, one card record per line. The primary account number (``pan``) of each
record is truncated to its first six and last four digits (PCI DSS 3.4.1), every other field is
kept, and the object is written under the same key (without the incoming prefix) to the processed
bucket, encrypted with the cardholder key (SSE-KMS).

Returns ``{"processed": [...], "failed": [...]}``; one bad object or line never stops the others.
A line that is not a JSON object with a 13-19 digit ``pan`` is counted as rejected, not copied.

Environment:
    TARGET_BUCKET    the processed bucket.
    TARGET_KEY_ARN   the cardholder key for SSE-KMS.
    INCOMING_PREFIX  prefix removed from keys. Default ``incoming/``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger("processor")
LOGGER.setLevel(logging.INFO)

PAN = re.compile(r"^\d{13,19}$")
MAX_OBJECT_BYTES = 50 * 1024 * 1024


def truncate(pan: str) -> str:
    """The first six and last four digits of ``pan``; the middle digits become ``*``."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def transform(body: str) -> tuple[list[str], int]:
    """Truncated JSON lines of ``body`` and the number of rejected lines."""
    out: list[str] = []
    rejected = 0
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            rejected += 1
            continue
        pan = record.get("pan") if isinstance(record, dict) else None
        if not isinstance(pan, str) or not PAN.fullmatch(pan):
            rejected += 1
            continue
        out.append(json.dumps({**record, "pan": truncate(pan)}, sort_keys=True))
    return out, rejected


def _records(event: Any) -> list[tuple[str, str]]:
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise ValueError("event is not an S3 notification (no Records list)")
    found = []
    for record in event["Records"]:
        try:
            found.append((record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])))
        except (KeyError, TypeError):
            raise ValueError("an S3 record lacks s3.bucket.name or s3.object.key") from None
    return found


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Process every object of an S3 notification."""
    try:
        objects = _records(event)
    except ValueError as exc:
        LOGGER.error("invalid event", extra={"reason": str(exc)})
        return {"processed": [], "failed": [{"error": "invalid_event", "detail": str(exc)}]}
    s3 = boto3.client("s3")
    target = os.environ["TARGET_BUCKET"]
    key_arn = os.environ["TARGET_KEY_ARN"]
    prefix = os.environ.get("INCOMING_PREFIX", "incoming/")
    processed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for bucket, key in objects:
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
            if head["ContentLength"] > MAX_OBJECT_BYTES:
                failed.append({"key": key, "error": "too_large", "detail": f"{head['ContentLength']} bytes"})
                LOGGER.warning("object too large", extra={"key": key, "bytes": head["ContentLength"]})
                continue
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
            lines, rejected = transform(body)
            out_key = key.removeprefix(prefix)
            s3.put_object(
                Bucket=target,
                Key=out_key,
                Body=("\n".join(lines) + "\n").encode() if lines else b"",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=key_arn,
            )
            processed.append({"key": out_key, "records": len(lines), "rejected": rejected})
            LOGGER.info("object processed", extra={"key": out_key, "records": len(lines), "rejected": rejected})
        except UnicodeDecodeError:
            failed.append({"key": key, "error": "not_utf8"})
            LOGGER.warning("object is not UTF-8 text", extra={"key": key})
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else "BotoCoreError"
            failed.append({"key": key, "error": code or "aws_error", "detail": str(exc)})
            LOGGER.error("AWS error", extra={"key": key, "error_code": code})
    return {"processed": processed, "failed": failed}
