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

from ..handlers import asl

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
PRIMARY = "us-east-1"
TABLE = "payments-transactions-dev"


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def test_payment_goes_from_the_api_front_through_the_workflow_to_the_table_as_their_roles(
    deployment: Deployment, outputs: dict[str, Any]
) -> None:
    """POST as the front's role starts the deployed workflow under the derived execution name;
    the deployed definition then runs (moto records executions but runs no Lambda tasks) with every
    step as the transaction function's role; GET as the front's role answers the outcome."""
    front, steps = outputs["intake_function_use1"], outputs["transaction_function_use1"]
    body = {
        "merchant_id": "m-1",
        "idempotency_key": f"it-{uuid.uuid4().hex[:12]}",
        "amount": "12.50",
        "currency": "USD",
    }
    post = {"httpMethod": "POST", "path": "/payments", "body": json.dumps(body)}
    started = deployment.run_handler(front, post, folder="transaction", region=PRIMARY)
    assert started["statusCode"] == 202, started["body"]
    payment_id = json.loads(started["body"])["payment_id"]

    states = deployment.client("stepfunctions", PRIMARY)
    machine = outputs["state_machine_arn_use1"]
    name = machine.replace(":stateMachine:", ":execution:") + f":{payment_id}-0"
    execution = states.describe_execution(executionArn=name)
    definition = json.loads(states.describe_state_machine(stateMachineArn=machine)["definition"])

    def as_transaction_role(arguments: dict[str, Any]) -> Any:
        try:
            return {
                "Payload": deployment.run_handler(steps, arguments["Payload"], folder="transaction", region=PRIMARY)
            }
        except Exception as exc:  # a step's error is the state machine's error, named by its class
            raise asl.StatesError(type(exc).__name__, str(exc)) from exc

    events = deployment.client("events", PRIMARY)
    run = asl.run(
        definition,
        json.loads(execution["input"]),
        {
            "arn:aws:states:::lambda:invoke": as_transaction_role,
            "arn:aws:states:::events:putEvents": lambda a: events.put_events(
                Entries=[{**e, "Detail": json.dumps(e["Detail"])} for e in a["Entries"]]
            ),
        },
    )
    assert run.status == "SUCCEEDED", run
    assert run.output["status"] == "SUCCEEDED"

    get = {"httpMethod": "GET", "path": f"/payments/{payment_id}", "pathParameters": {"payment_id": payment_id}}
    answer = deployment.run_handler(front, get, folder="transaction", region=PRIMARY)
    assert answer["statusCode"] == 200, answer["body"]
    resource = json.loads(answer["body"])
    assert (resource["status"], resource["reason_code"]) == ("SUCCEEDED", "APPROVED")
    item = deployment.client("dynamodb", PRIMARY).get_item(TableName=TABLE, Key={"idempotency_key": {"S": payment_id}})
    assert item["Item"]["authorization_id"] == {"S": resource["authorization_id"]}

    replay = deployment.run_handler(front, post, folder="transaction", region=PRIMARY)
    assert replay["statusCode"] == 200
    assert json.loads(replay["body"])["authorization_id"] == resource["authorization_id"]


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


def _image(payment_id: str, authorization_id: str) -> dict[str, Any]:
    return {
        "idempotency_key": {"S": payment_id},
        "payment_id": {"S": payment_id},
        "client_key": {"S": "order-1"},
        "amount": {"N": "10.00"},
        "currency": {"S": "USD"},
        "origin_region": {"S": PRIMARY},
        "status": {"S": "SUCCEEDED"},
        "authorization_id": {"S": authorization_id},
    }


def test_cdc_writes_the_receipt_and_event_as_its_role(deployment: Deployment, outputs: dict[str, Any]) -> None:
    payment_id = f"pay_{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": _image(payment_id, "auth_1")}}
    answer = deployment.run_handler("payments-cdc-use1-dev", {"Records": [record]}, folder="cdc", region=PRIMARY)
    assert answer == {"batchItemFailures": []}
    receipt = deployment.client("s3", PRIMARY).get_object(
        Bucket=outputs["receipts_bucket_use1"], Key=f"receipts/{payment_id}.json"
    )
    assert json.loads(receipt["Body"].read())["payment_id"] == payment_id
    assert receipt["SSEKMSKeyId"] == outputs["data_key_arn_use1"]


def test_cdc_voids_an_overwritten_duplicate_and_alerts_as_its_role(deployment: Deployment) -> None:
    payment_id = f"pay_{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    body = {"SequenceNumber": "2", "OldImage": _image(payment_id, "auth_a"), "NewImage": _image(payment_id, "auth_b")}
    batch = {"Records": [{"eventName": "MODIFY", "dynamodb": body}]}
    answer = deployment.run_handler("payments-cdc-use1-dev", batch, folder="cdc", region=PRIMARY)
    assert answer == {"batchItemFailures": []}
