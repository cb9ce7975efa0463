"""The names payments' stacks derive for each other match what each stack creates."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import only, resources

REGIONS = {"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}
ACCOUNT = "${data.aws_caller_identity.caller_identity.account_id}"


@pytest.mark.parametrize(("region", "short"), sorted(REGIONS.items()))
def test_every_cross_stack_name_is_the_name_the_regional_stack_creates(
    stacks: dict[str, dict[str, Any]], region: str, short: str
) -> None:
    regional = stacks[f"payments-{region}"]
    links = stacks["payments-links"]
    only(regional, "aws_sns_topic", name=f"payments-alerts-{short}-dev")
    only(regional, "aws_cloudwatch_event_bus", name=f"payments-events-{short}-dev")
    only(regional, "aws_s3_bucket", bucket=f"payments-receipts-{short}-dev")
    only(regional, "aws_kms_alias", name=f"alias/payments-data-{short}-dev")
    only(regional, "aws_sfn_state_machine", name=f"payments-workflow-{short}-dev")
    only(regional, "aws_api_gateway_rest_api", name=f"payments-api-{short}-dev")
    replication = [
        c for c in resources(links, "aws_s3_bucket_replication_configuration").values() if short in c["bucket"]
    ]
    assert [c["bucket"] for c in replication] == [f"payments-receipts-{short}-dev"]
    others = [r for r in REGIONS if r != region]
    forwarded = {
        t["arn"] for t in resources(regional, "aws_cloudwatch_event_target").values() if "event-bus" in t["arn"]
    }
    assert forwarded == {
        f"arn:aws:events:{other}:{ACCOUNT}:event-bus/payments-events-{REGIONS[other]}-dev" for other in others
    }


def test_the_primary_inbox_admits_every_regions_alert_topic(stacks: dict[str, dict[str, Any]]) -> None:
    primary = stacks["payments-us-east-1"]
    only(primary, "aws_sqs_queue", name="payments-alert-inbox-use1-dev")
    links = stacks["payments-links"]
    endpoints = {s["endpoint"] for s in resources(links, "aws_sns_topic_subscription").values()}
    assert endpoints == {f"arn:aws:sqs:us-east-1:{ACCOUNT}:payments-alert-inbox-use1-dev"}
    topics = {s["topic_arn"] for s in resources(links, "aws_sns_topic_subscription").values()}
    assert topics == {
        f"arn:aws:sns:{region}:{ACCOUNT}:payments-alerts-{short}-dev"
        for region, short in REGIONS.items()
        if region != "us-east-1"
    }


def test_the_global_table_and_its_keys_carry_the_names_regional_stacks_use(stacks: dict[str, dict[str, Any]]) -> None:
    global_stack = stacks["payments-global"]
    only(global_stack, "aws_dynamodb_table", name="payments-transactions-dev")
    aliases = sorted(a["name"] for a in resources(global_stack, "aws_kms_alias").values())
    assert aliases == [f"alias/payments-table-{short}-dev" for short in sorted(REGIONS.values())]
    for region in REGIONS:
        regional = stacks[f"payments-{region}"]
        function = only(regional, "aws_lambda_function", function_name=f"payments-transaction-{REGIONS[region]}-dev")
        assert function["environment"]["variables"]["TABLE_NAME"] == "payments-transactions-dev"
