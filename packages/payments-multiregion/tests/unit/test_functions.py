"""The functions: memory, timeout, runtime, computed reserved concurrency, stream mapping, schedule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import data_sources, name_of, only, ref, resources

from ..conftest import REGIONS, SHORT, data_key


@pytest.mark.requirement("PAY-2")
@pytest.mark.parametrize("region", REGIONS)
def test_transaction_function_is_3gb_15min_python312(stacks: dict[str, Any], region: str) -> None:
    fn = only(
        stacks[f"payments-{region}"], "aws_lambda_function", function_name=f"payments-transaction-{SHORT[region]}-dev"
    )
    assert fn["memory_size"] == 3072
    assert fn["timeout"] == 900
    assert fn["runtime"] == "python3.12"
    assert fn["tracing_config"] == {"mode": "Active"}
    assert fn["handler"] == "handler.handler"
    # dev.toml: 10 TPS globally over 3 regions, one may be lost -> 5 TPS x 0.15 s x 1.2 = 0.9 -> 1.
    assert fn["reserved_concurrent_executions"] == 1
    assert fn["environment"]["variables"]["TABLE_NAME"] == "payments-transactions-dev"
    # The workflow's timeout (STANDARD in dev.toml): a live claim blocks other attempts as long.
    assert fn["environment"]["variables"]["CLAIM_TTL_S"] == "3600"
    assert "EVENT_BUS_NAME" not in fn["environment"]["variables"]


@pytest.mark.requirement("PAY-C2")
@pytest.mark.parametrize("region", REGIONS)
def test_api_front_ships_the_transaction_bundle_and_starts_the_regional_workflow(
    stacks: dict[str, Any], region: str
) -> None:
    short = SHORT[region]
    stack = stacks[f"payments-{region}"]
    front = only(stack, "aws_lambda_function", function_name=f"payments-intake-{short}-dev")
    steps = only(stack, "aws_lambda_function", function_name=f"payments-transaction-{short}-dev")
    assert front["handler"] == "intake.handler"
    # The same bundle: the asset's content hash is the third part of its path.
    assert front["filename"].split("/")[2] == steps["filename"].split("/")[2]
    assert front["timeout"] == 30
    # dev.toml: 5 TPS per region x 0.05 s (STANDARD: the front does not wait) x 1.2 = 0.3 -> 1.
    assert front["reserved_concurrent_executions"] == 1
    variables = front["environment"]["variables"]
    assert variables["STATE_MACHINE_ARN"].endswith(f":stateMachine:payments-workflow-{short}-dev")
    assert variables["WORKFLOW_TYPE"] == "STANDARD"


@pytest.mark.requirement("PAY-9")
@pytest.mark.parametrize("region", REGIONS)
def test_cdc_mapping_bisects_reports_failures_and_has_a_destination(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    mappings = list(resources(stack, "aws_lambda_event_source_mapping").values())
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["bisect_batch_on_function_error"] is True
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["starting_position"] == "TRIM_HORIZON"
    assert mapping["maximum_retry_attempts"] == 5
    tables = data_sources(stack, "aws_dynamodb_table")
    assert [t["name"] for t in tables.values()] == ["payments-transactions-dev"]
    assert mapping["event_source_arn"] == f"${{data.aws_dynamodb_table.{next(iter(tables))}.stream_arn}}"
    queue = only(stack, "aws_sqs_queue", name=f"payments-cdc-failures-{SHORT[region]}-dev")
    assert queue["kms_master_key_id"] == ref("aws_kms_key", data_key(stack), "arn")
    queue_name = name_of(stack, "aws_sqs_queue", name=f"payments-cdc-failures-{SHORT[region]}-dev")
    assert mapping["destination_config"] == {"on_failure": {"destination_arn": ref("aws_sqs_queue", queue_name, "arn")}}
    cdc = only(stack, "aws_lambda_function", function_name=f"payments-cdc-{SHORT[region]}-dev")
    assert mapping["function_name"].endswith(".arn}")
    assert cdc["environment"]["variables"]["RECEIPTS_BUCKET"] == f"payments-receipts-{SHORT[region]}-dev"


@pytest.mark.requirement("DR-1", "DR-C13")
@pytest.mark.parametrize("region", REGIONS)
def test_canary_runs_every_minute_inside_its_period(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    rule = only(stack, "aws_cloudwatch_event_rule", name=f"payments-health-{SHORT[region]}-dev")
    assert rule["schedule_expression"] == "rate(1 minute)"
    target = list(
        t for t in resources(stack, "aws_cloudwatch_event_target").values() if t["target_id"] == "health-check"
    )
    assert len(target) == 1
    assert target[0]["arn"].startswith("${aws_lambda_function.compute_health_function")
    fn = only(stack, "aws_lambda_function", function_name=f"payments-health-{SHORT[region]}-dev")
    assert fn["environment"]["variables"]["METRIC_NAMESPACE"] == "Payments/Health"
    assert fn["environment"]["variables"]["CANARY_KEY"] == f"health#canary.{region}"
    # A hanging dependency ends the run inside its minute, so the next one starts on time.
    assert fn["timeout"] < 60


def test_canary_role_touches_only_its_item_and_event_source(stacks: dict[str, Any]) -> None:
    policy = only(stacks["payments-us-east-1"], "aws_iam_policy", name="payments-health-fn-use1-dev")
    statements = {s.get("Sid"): s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["PutHealthMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Payments/Health"}}
    assert statements["CanaryItem"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert statements["CanaryItem"]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "health#canary.us-east-1"}
    }
    assert statements["CanaryEvent"]["Condition"] == {"StringEquals": {"events:source": "payments.health"}}
    actions = json.dumps([s["Action"] for s in statements.values()])
    assert "dynamodb:DescribeTable" not in actions
    assert "events:DescribeEventBus" not in actions


@pytest.mark.parametrize("region", REGIONS)
def test_stream_consumer_never_sees_a_canary_item(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    mappings = list(resources(stack, "aws_lambda_event_source_mapping").values())
    assert len(mappings) == 1
    pattern = json.loads(mappings[0]["filter_criteria"]["filter"][0]["pattern"])
    assert pattern == {
        "dynamodb": {"Keys": {"idempotency_key": {"S": [{"anything-but": [f"health#canary.{r}" for r in REGIONS]}]}}}
    }
