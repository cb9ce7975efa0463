"""The same (merchant, key) accepted in two regions inside the replication window.

Both regions run the real path (API front, workflow, table) against their own table, as they do
while the global table has not replicated yet; then each region's CDC consumer is fed the stream
records its replica produces once replication resolves the conflict (last writer wins): its own
writes (the images its table held before and after each of them), and in the region whose write
lost, the winner's writes applied on top of it.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from platform_tooling.testing.handlers import load_handler

from .conftest import BUCKET, LAMBDAS, TABLE, create_table
from .workbench import Workbench, workbench

PAYMENT = {"merchant_id": "m-42", "idempotency_key": "order-0001", "amount": "125.50", "currency": "EUR"}
SECOND = "eu-west-1"
SECOND_BUCKET = "payments-receipts-euw1-test"
SECOND_BUS = "payments-events-euw1-test"


def stream_of(transaction: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The stream records (NEW_AND_OLD_IMAGES) the table produces for ``transaction``'s writes:
    the item read back after every successful put or update (moto serves no DynamoDB Streams API)."""
    records: list[dict[str, Any]] = []
    client = transaction._dynamodb

    def recording(real: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            key = kwargs.get("Key") or {"idempotency_key": kwargs["Item"]["idempotency_key"]}
            before = client.get_item(TableName=TABLE, Key=key).get("Item")
            answer = real(**kwargs)
            after = client.get_item(TableName=TABLE, Key=key)["Item"]
            body = {"SequenceNumber": str(len(records) + 1), "NewImage": after}
            if before is not None:
                body["OldImage"] = before
            records.append({"eventName": "MODIFY" if before else "INSERT", "dynamodb": body})
            return answer

        return call

    monkeypatch.setattr(client, "put_item", recording(client.put_item))
    monkeypatch.setattr(client, "update_item", recording(client.update_item))
    return records


def replicated(over: dict[str, Any], writes: list[dict[str, Any]], first_sequence: int) -> list[dict[str, Any]]:
    """The MODIFY records a replica whose item is ``over`` produces when ``writes`` (another
    region's stream records, each winning by a later timestamp) are applied to it in order."""
    records, old = [], over
    for number, write in enumerate(writes):
        new = write["dynamodb"]["NewImage"]
        body = {"SequenceNumber": str(first_sequence + number), "OldImage": old, "NewImage": new}
        records.append({"eventName": "MODIFY", "dynamodb": body})
        old = new
    return records


@pytest.fixture
def second_region(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """eu-west-1's table, bus, bucket and alert topic in the same mocked account."""
    create_table(SECOND)
    boto3.client("events", region_name=SECOND).create_event_bus(Name=SECOND_BUS)
    boto3.client("s3", region_name=SECOND).create_bucket(
        Bucket=SECOND_BUCKET, CreateBucketConfiguration={"LocationConstraint": SECOND}
    )
    topic = boto3.client("sns", region_name=SECOND).create_topic(Name="payments-alerts-euw1-test")["TopicArn"]
    return {
        "dynamodb": boto3.client("dynamodb", region_name=SECOND),
        "events": boto3.client("events", region_name=SECOND),
        "s3": boto3.client("s3", region_name=SECOND),
        "topic": topic,
    }


def in_region(monkeypatch: pytest.MonkeyPatch, region: str, **env: str) -> None:
    for name, value in {"AWS_REGION": region, "AWS_DEFAULT_REGION": region, **env}.items():
        monkeypatch.setenv(name, value)


def alerts_sent(cdc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    real = cdc._sns.publish
    monkeypatch.setattr(cdc._sns, "publish", lambda **kw: sent.append(kw) or real(**kw))
    return sent


@pytest.mark.requirement("PAY-1", "PAY-9")
def test_same_key_in_two_regions_keeps_one_authorization_and_one_receipt(
    aws: dict[str, Any],
    intake: ModuleType,
    transaction: ModuleType,
    second_region: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first: Workbench = workbench(aws, intake, transaction, monkeypatch, "EXPRESS")
    own_first = stream_of(transaction, monkeypatch)
    status, paid_first, _ = first.post(PAYMENT)
    assert status == 201

    in_region(monkeypatch, SECOND, EVENT_BUS_NAME=SECOND_BUS)
    steps_second = load_handler(LAMBDAS / "transaction")
    second = workbench(
        {**aws, "dynamodb": second_region["dynamodb"], "events": second_region["events"]},
        load_handler(LAMBDAS / "transaction", "intake"),
        steps_second,
        monkeypatch,
        "EXPRESS",
    )
    own_second = stream_of(steps_second, monkeypatch)
    status, paid_second, _ = second.post(PAYMENT)
    assert status == 201
    # Before replication both regions recorded the same payment id with their own authorization.
    assert paid_second["payment_id"] == paid_first["payment_id"]
    assert paid_second["authorization_id"] != paid_first["authorization_id"]
    assert (paid_first["origin_region"], paid_second["origin_region"]) == ("us-east-1", SECOND)

    assert [r["eventName"] for r in own_first] == ["INSERT", "MODIFY"]
    assert [r["eventName"] for r in own_second] == ["INSERT", "MODIFY"]

    # The second region's write is later: it wins everywhere. Its replica never sees the first's
    # writes (they lose on arrival); the first region's replica sees its own payment overwritten.
    in_region(monkeypatch, SECOND, RECEIPTS_BUCKET=SECOND_BUCKET, EVENT_BUS_NAME=SECOND_BUS)
    monkeypatch.setenv("ALERT_TOPIC_ARN", second_region["topic"])
    cdc_second = load_handler(LAMBDAS / "cdc")
    second_alerts = alerts_sent(cdc_second, monkeypatch)
    assert cdc_second.handler({"Records": own_second}, None) == {"batchItemFailures": []}
    assert second_alerts == []

    in_region(monkeypatch, "us-east-1", RECEIPTS_BUCKET=BUCKET, EVENT_BUS_NAME="payments-events-use1-test")
    monkeypatch.setenv("ALERT_TOPIC_ARN", aws["sns"].list_topics()["Topics"][0]["TopicArn"])
    cdc_first = load_handler(LAMBDAS / "cdc")
    first_alerts = alerts_sent(cdc_first, monkeypatch)
    records = own_first + replicated(own_first[-1]["dynamodb"]["NewImage"], own_second, 1000)
    assert cdc_first.handler({"Records": records}, None) == {"batchItemFailures": []}

    assert len(first_alerts) == 1
    alert = json.loads(first_alerts[0]["Message"])
    assert alert["voided_authorization_id"] == paid_first["authorization_id"]
    # Replication applies the winner write by write: its claim (still PENDING, no authorization
    # yet) is what overwrites the first region's payment, and that is when the duplicate is voided.
    assert (alert["kept_status"], alert["kept_origin_region"]) == ("PENDING", SECOND)
    assert alert["kept_authorization_id"] is None
    assert "amount" not in alert
    assert "merchant_id" not in alert

    receipt_key = f"receipts/{paid_first['payment_id']}.json"
    for client, bucket in ((aws["s3"], BUCKET), (second_region["s3"], SECOND_BUCKET)):
        receipt = json.loads(client.get_object(Bucket=bucket, Key=receipt_key)["Body"].read())
        assert receipt["authorization_id"] == paid_second["authorization_id"]
        assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == [receipt_key]
