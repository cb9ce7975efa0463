"""Flow logs (interval, destinations, encryption) and the IAM roles, in the right accounts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import resources, statement, statements

ANALYTICS = "aws.use2analytics"
ACCOUNTS = {
    "trading": ("aws", "123456789012", "us-east-1", "use1"),
    "analytics": (ANALYTICS, "210987654321", "us-east-2", "use2"),
}


@pytest.mark.requirement("PEER-4", "PEER-C5")
def test_flow_logs_capture_all_traffic_every_60_seconds_to_s3_and_cloudwatch(stack: dict[str, Any]) -> None:
    logs = resources(stack, "aws_flow_log").values()
    got = sorted(
        (f["provider"], f["log_destination_type"], f["traffic_type"], f["max_aggregation_interval"]) for f in logs
    )
    assert got == [
        ("aws", "cloud-watch-logs", "ALL", 60),
        ("aws", "s3", "ALL", 60),
        (ANALYTICS, "cloud-watch-logs", "ALL", 60),
        (ANALYTICS, "s3", "ALL", 60),
    ]
    vpcs = {f["vpc_id"] for f in logs}
    assert vpcs == {f"${{aws_vpc.{n}.id}}" for n in resources(stack, "aws_vpc")}


@pytest.mark.parametrize("label", sorted(ACCOUNTS))
def test_flow_log_destinations_are_kms_encrypted_in_their_own_account(stack: dict[str, Any], label: str) -> None:
    provider, account, region, short = ACCOUNTS[label]
    group = next(
        g
        for g in resources(stack, "aws_cloudwatch_log_group").values()
        if g["name"] == f"/network-peering/dev/{label}/flow-logs"
    )
    assert group["provider"] == provider
    assert group["retention_in_days"] == 365
    key_name = group["kms_key_id"].split(".")[1]
    key = resources(stack, "aws_kms_key")[key_name]
    assert key["provider"] == provider
    assert key["enable_key_rotation"] is True
    logs_grant = next(s for s in statements(key) if s["Principal"] == {"Service": f"logs.{region}.amazonaws.com"})
    assert logs_grant["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:log-group:{group['name']}"
        }
    }
    assert statement(key, "KeyAdministration")["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    bucket_name = f"network-peering-{label}-flow-logs-{short}-dev"
    bucket = next(n for n, b in resources(stack, "aws_s3_bucket").items() if b["bucket"] == bucket_name)
    sse = next(
        c
        for c in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
        if c["bucket"] == f"${{aws_s3_bucket.{bucket}.id}}"
    )
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {
        "kms_master_key_id": f"${{aws_kms_key.{key_name}.arn}}",
        "sse_algorithm": "aws:kms",
    }
    policy = next(
        p for p in resources(stack, "aws_s3_bucket_policy").values() if p["bucket"] == f"${{aws_s3_bucket.{bucket}.id}}"
    )
    write = statement(policy, "LogDeliveryWrite")
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"] == f"${{aws_s3_bucket.{bucket}.arn}}/AWSLogs/{account}/*"
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == account


def _role(stack: dict[str, Any], name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    roles = resources(stack, "aws_iam_role")
    role_id, role = next((n, r) for n, r in roles.items() if r["name"] == name)
    attachment = next(
        a
        for a in resources(stack, "aws_iam_role_policy_attachment").values()
        if a["role"] == f"${{aws_iam_role.{role_id}.name}}"
    )
    policy = resources(stack, "aws_iam_policy")[attachment["policy_arn"].split(".")[1]]
    assert attachment["provider"] == policy["provider"] == role["provider"]
    return role, statements(policy)


@pytest.mark.requirement("PEER-7")
def test_accepter_role_trusts_only_the_trading_account_with_the_external_id(stack: dict[str, Any]) -> None:
    role, _ = _role(stack, "network-peering-peering-accepter-use2-dev")
    assert role["provider"] == ANALYTICS
    assert json.loads(role["assume_role_policy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/network-peering-operator"},
                "StringEquals": {"sts:ExternalId": "${var.analytics_external_id}"},
            },
        }
    ]


@pytest.mark.requirement("PEER-7")
def test_external_id_is_a_sensitive_variable_without_a_value(stack: dict[str, Any]) -> None:
    variable = stack["variable"]["analytics_external_id"]
    assert variable["sensitive"] is True
    assert variable["nullable"] is False
    assert "default" not in variable
    (validation,) = variable["validation"]
    assert validation["condition"] == (
        "${length(var.analytics_external_id) >= 2 && length(var.analytics_external_id) <= 1224"
        ' && can(regex("^[A-Za-z0-9_+=,.@:/-]+$", var.analytics_external_id))}'
    )
    # No value of it anywhere: the stack refers to the variable and to nothing else.
    text = json.dumps(stack)
    assert text.count("${var.analytics_external_id}") == 2  # the deployment provider and the accepter trust
    assert "network-peering-dev" not in text


@pytest.mark.requirement("PEER-7")
def test_accepter_role_may_only_accept_and_configure_this_peering(stack: dict[str, Any]) -> None:
    _, found = _role(stack, "network-peering-peering-accepter-use2-dev")
    accepter = next(iter(resources(stack, "aws_vpc_peering_connection_accepter")))
    vpc = next(n for n, v in resources(stack, "aws_vpc").items() if v["cidr_block"] == "10.1.0.0/16")
    table = next(
        n
        for n, t in resources(stack, "aws_route_table").items()
        if t["tags"]["Name"] == "network-peering-analytics-private-1-rt-use2-dev"
    )
    prefix = "arn:aws:ec2:us-east-2:210987654321"
    assert [(s["Sid"], s["Action"], s["Resource"]) for s in found] == [
        (
            "ThisPeeringOnly",
            ["ec2:AcceptVpcPeeringConnection", "ec2:CreateTags", "ec2:ModifyVpcPeeringConnectionOptions"],
            [
                f"{prefix}:vpc-peering-connection/${{aws_vpc_peering_connection_accepter.{accepter}.vpc_peering_connection_id}}",
                f"{prefix}:vpc/${{aws_vpc.{vpc}.id}}",
            ],
        ),
        (
            "PeeredRouteTablesOnly",
            ["ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute"],
            f"{prefix}:route-table/${{aws_route_table.{table}.id}}",
        ),
        ("DescribePeering", ["ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections"], "*"),
    ]
    assert all(s["Effect"] == "Allow" for s in found)


@pytest.mark.parametrize("label", sorted(ACCOUNTS))
def test_flow_log_delivery_roles_live_in_their_side_account(stack: dict[str, Any], label: str) -> None:
    provider, account, _, short = ACCOUNTS[label]
    role, found = _role(stack, f"network-peering-{label}-flow-logs-{short}-dev")
    assert role["provider"] == provider
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    group = next(
        n for n, g in resources(stack, "aws_cloudwatch_log_group").items() if g["name"].endswith(f"/{label}/flow-logs")
    )
    arn = f"${{aws_cloudwatch_log_group.{group}.arn}}"
    assert found == [
        {
            "Sid": "DeliverFlowLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [arn, f"{arn}:*"],
        },
        # DescribeLogGroups acts on no resource: on the log group's ARN it would allow nothing.
        {"Sid": "FindLogGroups", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
    ]
