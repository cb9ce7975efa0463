"""Settlement worker of the batch hosts: payment queue in, settlement bucket out, then acknowledge.

The hosts run ``python3 worker.py`` (a systemd service). The worker long-polls the payment queue
(the payment function's ``payment.succeeded`` messages) and, for each message:

1. validates it: a JSON object with ``payment_id``, ``merchant_id``, ``amount``, ``currency``, and
   no card number anywhere (a card number must never reach the settlement bucket);
2. writes the settlement record to ``OUTPUT_BUCKET`` under
   ``<OUTPUT_PREFIX><merchant_id>/<payment_id>.json``, encrypted with ``OUTPUT_KEY_ARN`` (SSE-KMS).
   The key depends only on the payment, so a redelivered message rewrites the same object;
3. deletes the message, only after the write succeeded.

A message that fails is never deleted. A malformed one (it can never succeed) is made visible again
at once; a failed write waits ``RETRY_DELAY`` seconds times its receive count. Either way SQS
delivers it again, and after ``MAX_RECEIVES`` receives (the queue's ``maxReceiveCount``) the
queue's redrive policy moves it to the dead-letter queue, where the platform's alarm sees it. The
worker logs the last failed receive as a ``poison message`` at ``ERROR``. It needs no permission
beyond consuming the queue and writing the bucket.

Health: ``GET /health`` over HTTPS on ``HEALTH_PORT`` (the target group's port and check) answers
200 while the last successful poll is at most ``HEALTH_MAX_AGE`` seconds old, else 503, so the load
balancer replaces a host whose worker is stuck. The load balancer does not verify target
certificates: a certificate generated on the host at boot serves (``HEALTH_CERT``, ``HEALTH_KEY``).

Environment: QUEUE_URL, OUTPUT_BUCKET, OUTPUT_KEY_ARN, OUTPUT_PREFIX (default ``settlement/``),
MAX_RECEIVES (default 5), WAIT_SECONDS (default 20), RETRY_DELAY (default 30), HEALTH_PORT (default
8443), HEALTH_CERT, HEALTH_KEY, HEALTH_MAX_AGE (default 90), AWS_REGION (or AWS_DEFAULT_REGION).
"""

# No "from __future__ import annotations": dataclasses resolve string annotations through
# sys.modules, and a module loaded from its path (as the tests load it) is not there.
import json
import logging
import os
import re
import signal
import ssl
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger("settlement")
PAN_LIKE = re.compile(r"\d{13,19}")
SAFE_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_VISIBILITY = 43200


class PoisonMessage(ValueError):
    """The message can never be settled; the message says why."""


@dataclass(frozen=True)
class Settings:
    """The worker's settings (module docstring, "Environment")."""

    queue_url: str
    output_bucket: str
    output_key_arn: str
    output_prefix: str = "settlement/"
    max_receives: int = 5
    wait_seconds: int = 20
    retry_delay: int = 30
    health_port: int = 8443
    health_cert: str = ""
    health_key: str = ""
    health_max_age: float = 90.0

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Read the settings; raise ``ValueError`` naming the first missing or bad variable."""
        env = dict(os.environ if environ is None else environ)
        missing = [name for name in ("QUEUE_URL", "OUTPUT_BUCKET", "OUTPUT_KEY_ARN") if not env.get(name)]
        if missing:
            raise ValueError(f"environment variable {missing[0]} is not set: the worker needs it")
        numbers: dict[str, Any] = {}
        for name, kind in (
            ("MAX_RECEIVES", int),
            ("WAIT_SECONDS", int),
            ("RETRY_DELAY", int),
            ("HEALTH_PORT", int),
            ("HEALTH_MAX_AGE", float),
        ):
            if env.get(name):
                try:
                    numbers[name.lower()] = kind(env[name])
                except ValueError:
                    raise ValueError(f"environment variable {name}={env[name]!r} is not a number") from None
        return cls(
            queue_url=env["QUEUE_URL"],
            output_bucket=env["OUTPUT_BUCKET"],
            output_key_arn=env["OUTPUT_KEY_ARN"],
            output_prefix=env.get("OUTPUT_PREFIX", "settlement/"),
            health_cert=env.get("HEALTH_CERT", ""),
            health_key=env.get("HEALTH_KEY", ""),
            **numbers,
        )


def parse(body: str) -> dict[str, Any]:
    """The settlement record of a queue message; raises :class:`PoisonMessage`."""
    if PAN_LIKE.search(body):
        raise PoisonMessage("message contains a card number")
    try:
        payment = json.loads(body)
    except ValueError:
        raise PoisonMessage("message is not JSON") from None
    if not isinstance(payment, dict):
        raise PoisonMessage("message is not a JSON object")
    bad = [
        k
        for k in ("payment_id", "merchant_id")
        if not isinstance(payment.get(k), str) or not SAFE_PART.match(payment[k])
    ]
    if not isinstance(payment.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", payment["currency"]):
        bad.append("currency")
    try:
        if Decimal(str(payment.get("amount"))) <= 0:
            bad.append("amount")
    except InvalidOperation:
        bad.append("amount")
    if bad:
        raise PoisonMessage(f"invalid fields: {', '.join(bad)}")
    return payment


def settlement_key(payment: dict[str, Any], prefix: str) -> str:
    """Where a payment's settlement record goes: one object per payment, so rewrites are idempotent."""
    return f"{prefix}{payment['merchant_id']}/{payment['payment_id']}.json"


def _receive_count(message: dict[str, Any]) -> int:
    return int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))


def handle(message: dict[str, Any], sqs: Any, s3: Any, settings: Settings) -> str:
    """Settle one message: ``settled``, ``retry`` or ``poison`` (left for the dead-letter queue)."""
    receives = _receive_count(message)
    try:
        payment = parse(message["Body"])
        s3.put_object(
            Bucket=settings.output_bucket,
            Key=settlement_key(payment, settings.output_prefix),
            Body=json.dumps(payment, sort_keys=True).encode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=settings.output_key_arn,
        )
    except (PoisonMessage, ClientError, BotoCoreError) as exc:
        poison = isinstance(exc, PoisonMessage)
        delay = 0 if poison else min(settings.retry_delay * receives, MAX_VISIBILITY)
        last = receives >= settings.max_receives
        LOGGER.log(
            logging.ERROR if last else logging.WARNING,
            "poison message: the queue moves it to the dead-letter queue" if last else "message not settled",
            extra={"message_id": message["MessageId"], "receives": receives, "reason": str(exc)},
        )
        sqs.change_message_visibility(
            QueueUrl=settings.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay
        )
        return "poison" if last else "retry"
    sqs.delete_message(QueueUrl=settings.queue_url, ReceiptHandle=message["ReceiptHandle"])
    LOGGER.info("payment settled", extra={"payment_id": payment["payment_id"], "receives": receives})
    return "settled"


class Health:
    """When the worker last polled the queue successfully."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self.last_poll: float | None = None

    def polled(self) -> None:
        self.last_poll = time.monotonic()

    def healthy(self) -> bool:
        return self.last_poll is not None and time.monotonic() - self.last_poll <= self.max_age


def poll_once(sqs: Any, s3: Any, settings: Settings, health: Health) -> dict[str, int]:
    """Receive up to 10 messages and handle each; the count of each outcome."""
    response = sqs.receive_message(
        QueueUrl=settings.queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=settings.wait_seconds,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    health.polled()
    counts = {"settled": 0, "retry": 0, "poison": 0}
    for message in response.get("Messages", []):
        counts[handle(message, sqs, s3, settings)] += 1
    return counts


def health_server(health: Health, settings: Settings, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104 - the target group reaches the host's address
    """An HTTPS server answering ``GET /health`` (not started); requires ``HEALTH_CERT`` and ``HEALTH_KEY``."""
    if not settings.health_cert or not settings.health_key:
        raise ValueError(
            "environment variables HEALTH_CERT and HEALTH_KEY must name the health endpoint's certificate and key"
        )

    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self.send_error(404)
                return
            ok = health.healthy()
            body = json.dumps({"status": "ok" if ok else "stale"}).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            LOGGER.debug("health request", extra={"line": format % args})

    server = ThreadingHTTPServer((host, settings.health_port), HealthHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.health_cert, settings.health_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def run(settings: Settings, stop: threading.Event) -> None:
    """Serve health and poll until ``stop`` is set (SIGTERM); a failed poll is logged and retried."""
    health = Health(settings.health_max_age)
    server = health_server(health, settings)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    try:
        while not stop.is_set():
            try:
                poll_once(sqs, s3, settings, health)
            except (ClientError, BotoCoreError) as exc:
                LOGGER.error("queue poll failed", extra={"reason": str(exc)})
                stop.wait(5)
    finally:
        server.shutdown()


def main() -> None:
    """Entry point of the hosts' service."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    run(Settings.from_environment(), stop)


if __name__ == "__main__":
    main()
