"""The remediation function declares the AWS services its handler calls, in every region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platform_tooling.testing.handlers import boto3_clients
from platform_tooling.testing.query import resources

HANDLER = Path(__file__).resolve().parents[2] / "lambdas" / "remediation"


def test_declared_services_are_the_clients_the_handler_creates(stacks: dict[str, dict[str, Any]]) -> None:
    functions = [f for stack in stacks.values() for f in resources(stack, "aws_lambda_function").values()]
    assert len(functions) == len(stacks)  # one remediation function per region
    derived = boto3_clients(HANDLER)
    assert derived == ["ec2", "s3", "sns"]  # through its _client helper
    for function in functions:
        assert function["//"]["services"] == derived, function["function_name"]
