"""Settlement worker of the batch hosts (``batch/worker.py``) against moto in-process."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "batch"
REGION = "ap-southeast-1"
BUCKET = "settlement-data"
MAX_RECEIVES = 3
PAYMENT = {
    "payment_id": "pay_0001abcd",
    "merchant_id": "m-42",
    "amount": "12.50",
    "currency": "SGD",
    "card_token": "tok_abcdef123456",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, aws_credentials: str) -> Iterator[dict[str, Any]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="payments-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="payments",
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
                "VisibilityTimeout": "30",
            },
        )["QueueUrl"]
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        yield {"sqs": sqs, "s3": s3, "queue_url": queue_url, "dlq_url": dlq_url, "key_arn": key_arn}


@pytest.fixture
def worker(aws: dict[str, Any]) -> ModuleType:
    return load_handler(FOLDER, "worker")


@pytest.fixture
def settings(worker: ModuleType, aws: dict[str, Any]) -> Any:
    return worker.Settings(
        queue_url=aws["queue_url"],
        output_bucket=BUCKET,
        output_key_arn=aws["key_arn"],
        max_receives=MAX_RECEIVES,
        wait_seconds=0,
        retry_delay=0,
    )


def poll(worker: ModuleType, aws: dict[str, Any], settings: Any) -> dict[str, int]:
    return worker.poll_once(aws["sqs"], aws["s3"], settings, worker.Health(60))  # type: ignore[no-any-return]


def queued(aws: dict[str, Any], url: str) -> int:
    attributes = aws["sqs"].get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_settles_each_message_into_the_bucket_then_deletes_it(
    worker: ModuleType, aws: dict[str, Any], settings: Any
) -> None:
    second = {**PAYMENT, "payment_id": "pay_0002abcd", "merchant_id": "m-7"}
    for payment in (PAYMENT, second):
        aws["sqs"].send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(payment))
    assert poll(worker, aws, settings) == {"settled": 2, "retry": 0, "poison": 0}
    for payment in (PAYMENT, second):
        key = f"settlement/{payment['merchant_id']}/{payment['payment_id']}.json"
        written = aws["s3"].get_object(Bucket=BUCKET, Key=key)
        assert json.loads(written["Body"].read()) == payment
        assert written["ServerSideEncryption"] == "aws:kms"
        assert written["SSEKMSKeyId"] == aws["key_arn"]
    assert queued(aws, aws["queue_url"]) == 0


def test_a_redelivered_message_rewrites_the_same_object(worker: ModuleType, aws: dict[str, Any], settings: Any) -> None:
    for _ in range(2):
        aws["sqs"].send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(PAYMENT))
    assert poll(worker, aws, settings)["settled"] == 2
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1


def test_keeps_the_message_when_the_write_fails_and_settles_it_on_redelivery(
    worker: ModuleType, aws: dict[str, Any], settings: Any
) -> None:
    aws["sqs"].send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(PAYMENT))
    failing = settings.__class__(**{**settings.__dict__, "output_bucket": "no-such-bucket"})
    assert poll(worker, aws, failing) == {"settled": 0, "retry": 1, "poison": 0}
    assert queued(aws, aws["queue_url"]) == 1  # not deleted: the write did not happen
    assert poll(worker, aws, settings) == {"settled": 1, "retry": 0, "poison": 0}
    assert queued(aws, aws["queue_url"]) == 0
    assert queued(aws, aws["dlq_url"]) == 0


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps(["a"]),
        json.dumps({**PAYMENT, "amount": "-1"}),
        json.dumps({**PAYMENT, "merchant_id": "../../etc"}),
        json.dumps({**PAYMENT, "note": "card 4111111111111111"}),
    ],
)
def test_a_poison_message_goes_to_the_dead_letter_queue_after_max_receives(
    worker: ModuleType, aws: dict[str, Any], settings: Any, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    aws["sqs"].send_message(QueueUrl=aws["queue_url"], MessageBody=body)
    outcomes = [poll(worker, aws, settings) for _ in range(MAX_RECEIVES)]
    assert outcomes == [{"settled": 0, "retry": 1, "poison": 0}] * (MAX_RECEIVES - 1) + [
        {"settled": 0, "retry": 0, "poison": 1}
    ]
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("poison message")] == ["ERROR"]
    # The next receive is where SQS applies the redrive policy.
    assert poll(worker, aws, settings) == {"settled": 0, "retry": 0, "poison": 0}
    assert queued(aws, aws["queue_url"]) == 0
    (moved,) = aws["sqs"].receive_message(QueueUrl=aws["dlq_url"])["Messages"]
    assert moved["Body"] == body
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_reads_its_settings_from_the_environment(worker: ModuleType) -> None:
    settings = worker.Settings.from_environment(
        {"QUEUE_URL": "q", "OUTPUT_BUCKET": "b", "OUTPUT_KEY_ARN": "k", "MAX_RECEIVES": "7", "HEALTH_MAX_AGE": "12.5"}
    )
    assert (settings.max_receives, settings.health_max_age, settings.health_port) == (7, 12.5, 8443)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OUTPUT_BUCKET": "b", "OUTPUT_KEY_ARN": "k"}, "QUEUE_URL is not set"),
        ({"QUEUE_URL": "q", "OUTPUT_KEY_ARN": "k"}, "OUTPUT_BUCKET is not set"),
        ({"QUEUE_URL": "q", "OUTPUT_BUCKET": "b", "OUTPUT_KEY_ARN": "k", "WAIT_SECONDS": "x"}, "WAIT_SECONDS='x'"),
    ],
)
def test_fails_on_bad_settings(worker: ModuleType, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        worker.Settings.from_environment(environ)


def get(port: int, path: str, certificate: Path) -> tuple[int, dict[str, Any] | None]:
    context = ssl.create_default_context(cafile=str(certificate))
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if response.getheader("Content-Type") == "application/json" else None
    finally:
        connection.close()


def test_the_health_endpoint_answers_over_tls_while_polls_are_recent(
    worker: ModuleType, settings: Any, certificates: Any
) -> None:
    cert, key = certificates.loopback
    health = worker.Health(max_age=60)
    configured = settings.__class__(
        **{**settings.__dict__, "health_port": 0, "health_cert": str(cert), "health_key": str(key)}
    )
    server = worker.health_server(health, configured, host="127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert get(port, "/health", cert) == (503, {"status": "stale"})  # no poll yet
        health.polled()
        assert get(port, "/health", cert) == (200, {"status": "ok"})
        health.last_poll -= 61
        assert get(port, "/health", cert) == (503, {"status": "stale"})
        assert get(port, "/other", cert)[0] == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_health_endpoint_needs_a_certificate(worker: ModuleType, settings: Any) -> None:
    with pytest.raises(ValueError, match="HEALTH_CERT and HEALTH_KEY"):
        worker.health_server(worker.Health(60), settings)
