"""The payment workflow: steps, retries, catches, the failure path, logging and tracing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import only, ref, resources, statement

from ..conftest import REGIONS, SHORT, data_key


@pytest.fixture(scope="module")
def machine(stacks: dict[str, Any]) -> dict[str, Any]:
    return only(stacks["payments-us-east-1"], "aws_sfn_state_machine", name="payments-workflow-use1-dev")


@pytest.mark.requirement("PAY-3")
def test_steps_validate_authorize_record_notify(machine: dict[str, Any]) -> None:
    definition = json.loads(machine["definition"])
    states = definition["States"]
    assert definition["StartAt"] == "Validate"
    assert [states[s]["Next"] for s in ("Validate", "Authorize", "Record")] == ["Authorize", "Record", "Notify"]
    assert [states[s]["Parameters"]["Payload"]["action"] for s in ("Validate", "Authorize", "Record")] == [
        "validate",
        "authorize",
        "record",
    ]
    assert states["Notify"]["Resource"] == "arn:aws:states:::events:putEvents"
    assert states["Notify"]["End"] is True


@pytest.mark.requirement("PAY-3")
def test_every_task_retries_and_catches_into_the_failure_path(machine: dict[str, Any]) -> None:
    states = json.loads(machine["definition"])["States"]
    for name in ("Validate", "Authorize", "Record", "Notify"):
        assert states[name]["Retry"][0]["MaxAttempts"] == 3
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}
        ]
    assert "TransientError" in states["Record"]["Retry"][0]["ErrorEquals"]
    assert "TransientError" not in states["Validate"]["Retry"][0]["ErrorEquals"]
    failure = states["NotifyFailure"]
    assert failure["Resource"] == "arn:aws:states:::sns:publish"
    assert failure["Parameters"]["TopicArn"].startswith("${aws_sns_topic.alerts_topic")
    assert failure["Next"] == "PaymentFailed"
    assert states["PaymentFailed"]["Type"] == "Fail"


@pytest.mark.requirement("DR-C15", "DR-C21")
def test_logs_to_kms_group_without_execution_data_and_traces(stacks: dict[str, Any], machine: dict[str, Any]) -> None:
    logging = machine["logging_configuration"]
    assert logging["level"] == "ALL"
    assert logging["include_execution_data"] is False
    group = only(
        stacks["payments-us-east-1"],
        "aws_cloudwatch_log_group",
        name="/aws/vendedlogs/states/payments-workflow-use1-dev",
    )
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    assert logging["log_destination"].endswith(".arn}:*")
    assert machine["tracing_configuration"] == {"enabled": True}
    assert machine["type"] == "STANDARD"


@pytest.mark.parametrize("region", REGIONS)
def test_definition_and_history_are_encrypted_with_the_regional_key(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    key = data_key(stack)
    machine = only(stack, "aws_sfn_state_machine", name=f"payments-workflow-{SHORT[region]}-dev")
    assert machine["encryption_configuration"] == {
        "type": "CUSTOMER_MANAGED_KMS_KEY",
        "kms_key_id": ref("aws_kms_key", key, "arn"),
        "kms_data_key_reuse_period_seconds": 300,
    }
    role = only(stack, "aws_iam_policy", name=f"payments-workflow-{SHORT[region]}-dev")
    assert statement(role, "StateEncryption") == {
        "Sid": "StateEncryption",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": ref("aws_kms_key", key, "arn"),
    }
    delivery = statement(resources(stack, "aws_kms_key")[key], "StatesLogDelivery")
    assert (delivery["Principal"], delivery["Action"]) == ({"Service": "delivery.logs.amazonaws.com"}, "kms:Decrypt")


@pytest.mark.requirement("DR-C21")
@pytest.mark.parametrize("region", REGIONS)
def test_api_starts_the_workflow_with_validation_and_throttling(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    short = SHORT[region]
    post = only(stack, "aws_api_gateway_method", http_method="POST")
    assert post["authorization"] == "AWS_IAM"
    assert post["request_validator_id"].startswith("${aws_api_gateway_request_validator.")
    integration = only(stack, "aws_api_gateway_integration", type="AWS")
    assert integration["uri"] == f"arn:aws:apigateway:{region}:states:action/StartExecution"
    assert integration["passthrough_behavior"] == "NEVER"
    machine_name = next(n for n, m in stack["resource"]["aws_sfn_state_machine"].items())
    assert ref("aws_sfn_state_machine", machine_name, "arn") in integration["request_templates"]["application/json"]
    stage = only(stack, "aws_api_gateway_stage", stage_name="v1")
    assert stage["xray_tracing_enabled"] is True
    assert stage["access_log_settings"]["destination_arn"].startswith("${aws_cloudwatch_log_group.api_access_logs")
    rest = only(stack, "aws_api_gateway_rest_api", name=f"payments-api-{short}-dev")
    assert rest["endpoint_configuration"] == {"types": ["REGIONAL"]}
