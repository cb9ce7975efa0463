"""Every function of every region declares the AWS services its handler calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.handlers import boto3_clients
from platform_tooling.testing.query import resources

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
HANDLERS = {"cdc": "cdc", "health": "health", "transaction": "transaction", "intake": "transaction"}
"""Function -> its handler folder (the API front ships in the transaction bundle, which holds the
payment contract both use)."""
REGIONS = {"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_declared_services_are_the_clients_each_handler_creates(stacks: dict[str, Any], region: str) -> None:
    functions = {f["function_name"]: f for f in resources(stacks[f"payments-{region}"], "aws_lambda_function").values()}
    expected = {f"payments-{f}-{REGIONS[region]}-dev": folder for f, folder in HANDLERS.items()}
    assert sorted(functions) == sorted(expected)
    for name, handler in expected.items():
        assert functions[name]["//"]["services"] == boto3_clients(LAMBDAS / handler), name
