"""Least privilege: no wildcard actions in any Allow statement, and "*" resources only where AWS forces them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shared_constructs.policy.rules_general import POLICY_ATTRIBUTES

# Statement ids allowed a "*" resource, each because the action has no resource-level permissions
# (listed with the reason in the README), or because it is a key policy (the key itself).
STAR_RESOURCE_SIDS = {
    "Tracing",
    "ListTableStreams",
    "PutHealthMetrics",
    "LogDelivery",
    "VpcNetworkInterfaces",
    "FindLogGroups",
}


def documents(stacks: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for stack_name, stack in stacks.items():
        for type_, attribute in POLICY_ATTRIBUTES.items():
            for name, resource in stack.get("resource", {}).get(type_, {}).items():
                if attribute in resource:
                    found.append((f"{stack_name}/{type_}.{name}", type_, json.loads(resource[attribute])))
    return found


def test_policies_exist_to_check(stacks: dict[str, Any]) -> None:
    types = {t for _, t, _ in documents(stacks)}
    assert {
        "aws_iam_policy",
        "aws_iam_role",
        "aws_kms_key",
        "aws_s3_bucket_policy",
        "aws_sns_topic_policy",
        "aws_sqs_queue",
    } <= types


@pytest.mark.requirement("PAY-12", "DR-C20")
def test_no_wildcard_actions_anywhere(stacks: dict[str, Any]) -> None:
    offenders = []
    for address, _, document in documents(stacks):
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        for statement in statements:
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            offenders += [f"{address}: {a}" for a in actions if "*" in a]
            assert "NotAction" not in statement, address
    assert offenders == []


def test_star_resources_only_where_aws_requires_them(stacks: dict[str, Any]) -> None:
    offenders = []
    for address, type_, document in documents(stacks):
        if type_ != "aws_iam_policy":
            continue
        for statement in document["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in resources and statement.get("Sid") not in STAR_RESOURCE_SIDS:
                offenders.append(f"{address}: {statement.get('Sid')}")
    assert offenders == []


@pytest.mark.requirement("DR-C20")
def test_transaction_role_writes_only_its_regional_table(stacks: dict[str, Any]) -> None:
    policies = {p["name"]: p for p in stacks["payments-eu-west-1"]["resource"]["aws_iam_policy"].values()}
    statements = {
        s.get("Sid"): s for s in json.loads(policies["payments-transaction-fn-euw1-dev"]["policy"])["Statement"]
    }
    account = "${data.aws_caller_identity.caller_identity.account_id}"
    assert statements["WritePayments"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert (
        statements["WritePayments"]["Resource"]
        == f"arn:aws:dynamodb:eu-west-1:{account}:table/payments-transactions-dev"
    )
    assert "PublishPaymentEvents" not in statements
    assert statements["TableKeyViaDynamoDb"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/payments-table-euw1-dev"},
        "StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"},
    }


@pytest.mark.requirement("DR-C20")
def test_api_front_role_reads_payments_and_starts_only_its_regional_workflow(stacks: dict[str, Any]) -> None:
    policies = {p["name"]: p for p in stacks["payments-eu-west-1"]["resource"]["aws_iam_policy"].values()}
    statements = {s.get("Sid"): s for s in json.loads(policies["payments-intake-fn-euw1-dev"]["policy"])["Statement"]}
    account = "${data.aws_caller_identity.caller_identity.account_id}"
    assert statements["ReadPayments"]["Action"] == "dynamodb:GetItem"
    assert (
        statements["ReadPayments"]["Resource"]
        == f"arn:aws:dynamodb:eu-west-1:{account}:table/payments-transactions-dev"
    )
    assert statements["StartWorkflow"]["Action"] == "states:StartExecution"
    assert statements["StartWorkflow"]["Resource"] == (
        f"arn:aws:states:eu-west-1:{account}:stateMachine:payments-workflow-euw1-dev"
    )
    assert statements["WorkflowData"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert not [s for s in statements.values() if "dynamodb:PutItem" in str(s.get("Action"))]
