"""Truncate card numbers of incoming objects and write the result to the processed bucket.

Triggered by S3 ``ObjectCreated`` notifications of the cardholder bucket (incoming prefix). Each
object holds JSON lines, one card record per line. The primary account number (``pan``) of each
record is truncated to its first six and last four digits (PCI DSS 3.4.1), every other field is
kept, and the object is written under the same key (without the incoming prefix) to the processed
bucket, encrypted with the cardholder key (SSE-KMS).

Failures are sorted, because S3 invokes the function asynchronously and only a raised error makes
Lambda retry the event (twice) and then hand it to the function's on-failure destination (its
dead-letter queue until that is configured), and only a raised error counts in the ``Errors``
metric the platform alarms on:

- transient (throttling, 5xx, 429, timeouts, dropped connections: :func:`classify`): the other
  objects of the event are still processed, then :class:`ObjectsNotProcessed` is raised so that
  the event is retried. Processing is idempotent (the same object gives the same output key and
  bytes), so a retry rewrites what already succeeded and loses nothing.
- of the object itself (gone, archived, over ``MAX_OBJECT_BYTES``, not UTF-8): reported in
  ``failed`` and logged; a retry could not succeed, so it is not retried.
- anything else (access denied, a missing target bucket, a disabled key: a configuration fault):
  raised as well, so the event waits in the destination until the fault is fixed and it is
  redriven, instead of being dropped.

An event without ``Records`` is reported as ``invalid_event``; S3's ``s3:TestEvent`` (sent when
the notification is configured) is ignored. Returns ``{"processed": [...], "failed": [...]}``. A
line that is not a JSON object with a 13-19 digit ``pan`` is counted as rejected, not copied.

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
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

LOGGER = logging.getLogger("processor")
LOGGER.setLevel(logging.INFO)

PAN = re.compile(r"^\d{13,19}$")
MAX_OBJECT_BYTES = 50 * 1024 * 1024

TRANSIENT = "transient"
OBJECT = "object"
CONFIGURATION = "configuration"
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "KMSInternalException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)
"""Error codes that mean "try again later", whatever their HTTP status."""
OBJECT_CODES = frozenset({"404", "InvalidObjectState", "NoSuchKey", "NotFound"})
"""Error codes about the notified object itself (deleted or archived since): a retry cannot help."""


class ObjectsNotProcessed(RuntimeError):
    """Some objects of the event failed in a way a later attempt may fix; raised so Lambda retries."""


def classify(exc: ClientError | BotoCoreError) -> str:
    """``transient``, ``object`` or ``configuration`` (see the module docstring)."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return TRANSIENT  # connect/read timeouts, refused or dropped connections
    if not isinstance(exc, ClientError):
        return CONFIGURATION  # credentials, parameter validation: retrying the same call fails again
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in TRANSIENT_CODES or status >= 500 or status == 429:
        return TRANSIENT
    if code in OBJECT_CODES:
        return OBJECT
    return CONFIGURATION


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


def _is_test_event(event: Any) -> bool:
    return isinstance(event, dict) and event.get("Event") == "s3:TestEvent"


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set: the processor cannot write its output")
    return value


def _process(s3: Any, bucket: str, key: str, target: str, key_arn: str, prefix: str) -> dict[str, Any]:
    """Process one object: the ``processed`` entry, or the ``failed`` entry (key ``error``) of a bad object."""
    head = s3.head_object(Bucket=bucket, Key=key)
    if head["ContentLength"] > MAX_OBJECT_BYTES:
        LOGGER.warning("object too large", extra={"key": key, "bytes": head["ContentLength"]})
        return {"key": key, "error": "too_large", "detail": f"{head['ContentLength']} bytes"}
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except UnicodeDecodeError:
        LOGGER.warning("object is not UTF-8 text", extra={"key": key})
        return {"key": key, "error": "not_utf8"}
    lines, rejected = transform(body)
    out_key = key.removeprefix(prefix)
    s3.put_object(
        Bucket=target,
        Key=out_key,
        Body=("\n".join(lines) + "\n").encode() if lines else b"",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
    )
    LOGGER.info("object processed", extra={"key": out_key, "records": len(lines), "rejected": rejected})
    return {"key": out_key, "records": len(lines), "rejected": rejected}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Process every object of an S3 notification; raise :class:`ObjectsNotProcessed` for a retry."""
    if _is_test_event(event):
        LOGGER.info("S3 test event ignored")
        return {"processed": [], "failed": []}
    try:
        objects = _records(event)
    except ValueError as exc:
        LOGGER.error("invalid event", extra={"reason": str(exc)})
        return {"processed": [], "failed": [{"error": "invalid_event", "detail": str(exc)}]}
    target, key_arn = _setting("TARGET_BUCKET"), _setting("TARGET_KEY_ARN")
    prefix = os.environ.get("INCOMING_PREFIX", "incoming/")
    s3 = boto3.client("s3")
    processed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    retry: list[str] = []
    for bucket, key in objects:
        try:
            outcome = _process(s3, bucket, key, target, key_arn, prefix)
        except (ClientError, BotoCoreError) as exc:
            kind = classify(exc)
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
            if kind == OBJECT:
                failed.append({"key": key, "error": code, "detail": str(exc)})
                LOGGER.warning("object cannot be processed", extra={"key": key, "error_code": code})
            else:
                retry.append(f"{key} ({kind}: {code})")
                LOGGER.error("AWS error, event left for retry", extra={"key": key, "error_code": code, "kind": kind})
            continue
        (failed if "error" in outcome else processed).append(outcome)
    if retry:
        raise ObjectsNotProcessed(f"{len(retry)} of {len(objects)} objects not processed: {', '.join(retry)}")
    return {"processed": processed, "failed": failed}
