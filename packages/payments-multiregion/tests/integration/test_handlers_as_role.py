"""Each handler's main path, run as its deployed function's role with IAM enforced (us-east-1:
the global table has no replicas on the emulator, so the table lives in the primary region only)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from platform_tooling.testing.emulator import Deployment

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
PRIMARY = "us-east-1"
TABLE = "payments-transactions-dev"


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def test_transaction_records_a_payment_as_its_role(deployment: Deployment, outputs: dict[str, Any]) -> None:
    key = f"it-{uuid.uuid4().hex[:12]}"
    body = {"idempotency_key": key, "amount": "12.50", "currency": "USD", "merchant_id": "m-1"}
    event = {"httpMethod": "POST", "path": "/payments", "body": json.dumps(body)}
    answer = deployment.run_handler(outputs["transaction_function_use1"], event, folder="transaction", region=PRIMARY)
    assert answer["statusCode"] == 201, answer["body"]
    item = deployment.client("dynamodb", PRIMARY).get_item(TableName=TABLE, Key={"idempotency_key": {"S": key}})
    assert item["Item"]["event_published"] == {"BOOL": True}


def test_canary_writes_reads_and_publishes_as_its_role(deployment: Deployment) -> None:
    summary = deployment.run_handler("payments-health-use1-dev", {}, folder="health", region=PRIMARY)
    assert summary["healthy"] is True, summary
    assert (summary["table_write"], summary["table_read"], summary["event_bus_put"]) == ("ok", "ok", "ok")
    assert summary["metrics_published"] is True
    item = deployment.client("dynamodb", PRIMARY).get_item(
        TableName=TABLE, Key={"idempotency_key": {"S": "health#canary.us-east-1"}}
    )
    assert len(item["Item"]["nonce"]["S"]) == 32
    metrics = deployment.client("cloudwatch", PRIMARY).list_metrics(Namespace="Payments/Health")["Metrics"]
    assert {"RegionHealthy", "TableWrite", "TableRead", "EventBusPut"} <= {m["MetricName"] for m in metrics}


def test_canary_role_cannot_delete_or_scan_payments(deployment: Deployment) -> None:
    """The canary's role may put and get (its own item); nothing else on the table."""
    role = "arn:aws:iam::123456789012:role/payments-health-fn-use1-dev"
    dynamodb = deployment.client("dynamodb", PRIMARY, as_role=role)
    with pytest.raises(ClientError) as refused:
        dynamodb.scan(TableName=TABLE, Limit=1)
    # AWS answers AccessDeniedException, moto a bare 403: both are the refusal.
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403")
    with pytest.raises(ClientError):
        dynamodb.delete_item(TableName=TABLE, Key={"idempotency_key": {"S": "health#canary.us-east-1"}})


def test_cdc_writes_the_receipt_and_event_as_its_role(deployment: Deployment, outputs: dict[str, Any]) -> None:
    payment_id = f"pay-{uuid.uuid4().hex[:12]}"
    image = {
        "payment_id": {"S": payment_id},
        "idempotency_key": {"S": f"idem-{payment_id}"},
        "amount": {"S": "10.00"},
        "currency": {"S": "USD"},
        "origin_region": {"S": PRIMARY},
        "created_at": {"S": "2026-01-02T03:04:05Z"},
    }
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": image}}
    answer = deployment.run_handler("payments-cdc-use1-dev", {"Records": [record]}, folder="cdc", region=PRIMARY)
    assert answer == {"batchItemFailures": []}
    receipt = deployment.client("s3", PRIMARY).get_object(
        Bucket=outputs["receipts_bucket_use1"], Key=f"receipts/2026/01/02/{payment_id}.json"
    )
    assert json.loads(receipt["Body"].read())["payment_id"] == payment_id
    assert receipt["SSEKMSKeyId"] == outputs["data_key_arn_use1"]
