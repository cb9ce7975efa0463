"""Every function declares the AWS services its handler calls; the hosts declare theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platform_tooling.testing.handlers import boto3_clients, declared_services_mismatches
from platform_tooling.testing.query import only, resources

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
WORKER = Path(__file__).resolve().parents[2] / "batch"
HANDLERS = {
    "pci-platform-database-schema-apse1-dev": "rotation",
    "pci-platform-payment-apse1-dev": "payment",
    "pci-platform-processor-apse1-dev": "processor",
    "pci-platform-secret-rotation-apse1-dev": "rotation",
    "pci-platform-transformer-apse1-dev": "transformer",
}


def test_every_function_declares_the_clients_its_handler_creates(stack: dict[str, Any]) -> None:
    functions = resources(stack, "aws_lambda_function").values()
    assert declared_services_mismatches(functions, {n: LAMBDAS / h for n, h in HANDLERS.items()}) == []


def test_payment_function_declares_its_queue_bus_and_stream(stack: dict[str, Any]) -> None:
    # The RDS client only signs the proxy's IAM token locally: no RDS API is called.
    function = only(stack, "aws_lambda_function", function_name="pci-platform-payment-apse1-dev")
    assert function["//"]["services"] == ["events", "firehose", "sqs"]


def test_batch_hosts_declare_what_the_agent_and_the_worker_call(stack: dict[str, Any]) -> None:
    (group,) = resources(stack, "aws_autoscaling_group").values()
    worker = boto3_clients(WORKER)
    assert worker == ["s3", "sqs"]
    # The CloudWatch agent: its metrics, and DescribeTags for the group-name dimension.
    assert group["//"]["services"] == sorted({"cloudwatch", "ec2", *worker})
