"""The custom Config rule over the peering security groups: its function, permissions and triggers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.handlers import boto3_clients, declared_services_mismatches
from platform_tooling.testing.query import name_of, only, ref, resources, statement

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
ANALYTICS = "aws.use2analytics"
# side -> (provider, account, region code, the peer's peered subnets in config/dev.toml)
SIDES = {
    "trading": ("aws", "123456789012", "use1", "10.1.0.0/20"),
    "analytics": (ANALYTICS, "210987654321", "use2", "10.0.0.0/20,10.0.16.0/20"),
}
HANDLERS = {
    "network-peering-trading-sg-rule-use1-dev": "peering_sg_rule",
    "network-peering-analytics-sg-rule-use2-dev": "peering_sg_rule",
}


def test_every_function_declares_the_clients_its_handler_creates(stack: dict[str, Any]) -> None:
    functions = resources(stack, "aws_lambda_function").values()
    assert declared_services_mismatches(functions, {n: LAMBDAS / h for n, h in HANDLERS.items()}) == []
    assert boto3_clients(LAMBDAS / "peering_sg_rule") == ["config", "ec2"]


@pytest.mark.requirement("PEER-10")
@pytest.mark.parametrize("side", sorted(SIDES))
def test_the_rule_checks_the_side_peering_groups_on_change_and_daily(stack: dict[str, Any], side: str) -> None:
    provider, _, code, peer_cidrs = SIDES[side]
    rule = only(stack, "aws_config_config_rule", name=f"network-peering-{side}-sg-ports-{code}-dev")
    function = name_of(stack, "aws_lambda_function", function_name=f"network-peering-{side}-sg-rule-{code}-dev")
    assert rule["provider"] == provider
    assert rule["source"]["owner"] == "CUSTOM_LAMBDA"
    assert rule["source"]["source_identifier"] == ref("aws_lambda_function", function, "arn")
    assert rule["source"]["source_detail"] == [
        {"event_source": "aws.config", "message_type": "ConfigurationItemChangeNotification"},
        {"event_source": "aws.config", "message_type": "OversizedConfigurationItemChangeNotification"},
        {
            "event_source": "aws.config",
            "message_type": "ScheduledNotification",
            "maximum_execution_frequency": "TwentyFour_Hours",
        },
    ]
    assert rule["scope"] == {"compliance_resource_types": ["AWS::EC2::SecurityGroup"]}
    assert json.loads(rule["input_parameters"]) == {
        "peerCidrs": peer_cidrs,
        "allowedPorts": "443,5432",
        "peeringTagKey": "PeeringSecurityGroup",
        "peeringTagValue": side,
    }
    # The rule is created only once AWS Config may invoke the function.
    permission = name_of(
        stack, "aws_lambda_permission", function_name=ref("aws_lambda_function", function, "function_name")
    )
    assert rule["depends_on"] == [f"aws_lambda_permission.{permission}"]


@pytest.mark.parametrize("side", sorted(SIDES))
def test_only_config_of_the_side_account_may_invoke_the_function(stack: dict[str, Any], side: str) -> None:
    provider, account, code, _ = SIDES[side]
    function = name_of(stack, "aws_lambda_function", function_name=f"network-peering-{side}-sg-rule-{code}-dev")
    permission = only(
        stack, "aws_lambda_permission", function_name=ref("aws_lambda_function", function, "function_name")
    )
    assert (permission["principal"], permission["action"]) == ("config.amazonaws.com", "lambda:InvokeFunction")
    assert permission["provider"] == provider
    assert permission["source_account"] == account  # each side's configured account


@pytest.mark.parametrize("side", sorted(SIDES))
def test_the_function_reports_evaluations_and_reads_groups_only(stack: dict[str, Any], side: str) -> None:
    _, _, code, _ = SIDES[side]
    function = only(stack, "aws_lambda_function", function_name=f"network-peering-{side}-sg-rule-{code}-dev")
    assert function["reserved_concurrent_executions"] == 1
    queue = name_of(stack, "aws_sqs_queue", name=f"network-peering-{side}-sg-rule-dlq-{code}-dev")
    assert function["dead_letter_config"] == {"target_arn": ref("aws_sqs_queue", queue, "arn")}
    policy = only(stack, "aws_iam_policy", name=f"network-peering-{side}-sg-rule-fn-{code}-dev")
    assert statement(policy, "PutEvaluations") == {
        "Sid": "PutEvaluations",
        "Effect": "Allow",
        "Action": "config:PutEvaluations",
        "Resource": "*",
    }
    assert statement(policy, "DescribeSecurityGroups")["Action"] == "ec2:DescribeSecurityGroups"
    assert statement(policy, "DescribeSecurityGroups")["Resource"] == "*"


@pytest.mark.parametrize("side", sorted(SIDES))
def test_the_peering_group_carries_the_tag_the_rule_looks_for(stack: dict[str, Any], side: str) -> None:
    _, _, code, _ = SIDES[side]
    group = only(stack, "aws_security_group", name=f"network-peering-{side}-peering-{code}-dev")
    assert group["tags"]["PeeringSecurityGroup"] == side
