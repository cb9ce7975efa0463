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
def test_steps_validate_claim_authorize_record_notify(machine: dict[str, Any]) -> None:
    definition = json.loads(machine["definition"])
    states = definition["States"]
    assert definition["StartAt"] == "Validate"
    chain = ["Validate", "Claim", "Claimed", "Authorize", "Approved", "Record", "Notify", "Notified", "Finish"]
    following = [states[s].get("Next") or states[s].get("Default") for s in chain[:-1]]
    assert following == ["Claim", "Claimed", "Authorize", "Approved", "Decline", "Notify", "Notified", "Finish"]
    assert states["Approved"]["Choices"] == [
        {"Variable": "$.authorization.approved", "BooleanEquals": True, "Next": "Record"}
    ]
    assert states["Claimed"]["Choices"] == [{"Variable": "$.outcome", "IsPresent": True, "Next": "Finish"}]
    tasks = ("Validate", "Claim", "Authorize", "Record", "Decline", "Void", "Release")
    assert [states[s]["Parameters"]["Payload"] for s in tasks] == [{"action": s.lower(), "state.$": "$"} for s in tasks]
    assert states["Notify"]["Resource"] == "arn:aws:states:::events:putEvents"
    assert states["Notify"]["Parameters"]["Entries"][0]["DetailType"] == "PaymentAccepted"
    assert states["Finish"] == {"Type": "Succeed", "OutputPath": "$.outcome"}


@pytest.mark.requirement("PAY-3")
def test_only_technical_failures_fail_and_recorded_payments_are_never_failed(machine: dict[str, Any]) -> None:
    states = json.loads(machine["definition"])["States"]
    catches = {name: [(c["ErrorEquals"], c["Next"]) for c in s.get("Catch", [])] for name, s in states.items()}
    assert catches["Validate"] == [(["PaymentValidationError"], "Rejected"), (["States.ALL"], "Failed")]
    assert catches["Claim"] == [(["IdempotencyConflictError"], "Conflict"), (["States.ALL"], "Failed")]
    assert catches["Authorize"] == [(["States.ALL"], "Release")]
    # Authorized but not recorded: compensate; a void that fails pages someone.
    assert catches["Record"] == [(["States.ALL"], "Void")]
    assert catches["Void"] == [(["States.ALL"], "VoidFailed")]
    assert catches["Notify"] == [(["States.ALL"], "NotificationDeferred")]
    assert states["NotificationDeferred"]["Next"] == "Finish"
    for name in ("Claim", "Authorize", "Record", "Void"):
        assert "TransientError" in states[name]["Retry"][0]["ErrorEquals"]
        assert states[name]["Retry"][0]["MaxAttempts"] == 3
    assert "TransientError" not in states["Validate"]["Retry"][0]["ErrorEquals"]
    assert states["VoidFailed"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states["VoidFailed"]["Parameters"]["TopicArn"].startswith("${aws_sns_topic.alerts_topic")
    assert set(states["VoidFailed"]["Parameters"]["Message"]) == {
        "payment_id.$",
        "authorization_id.$",
        "error.$",
        "execution.$",
    }
    assert states["Failed"]["Error"] == "PaymentTechnicalFailure"
    assert [n for n, s in states.items() if s["Type"] == "Fail"] == ["Failed"]


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
def test_payment_routes_are_iam_authorized_and_served_by_the_api_front(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    short = SHORT[region]
    post = only(stack, "aws_api_gateway_method", http_method="POST")
    assert post["authorization"] == "AWS_IAM"
    assert post["request_validator_id"].startswith("${aws_api_gateway_request_validator.")
    status = only(stack, "aws_api_gateway_resource", path_part="{payment_id}")
    assert status["parent_id"].startswith("${aws_api_gateway_resource.api_payments_")
    get = only(stack, "aws_api_gateway_method", http_method="GET", authorization="AWS_IAM")
    assert get["request_parameters"] == {"method.request.path.payment_id": True}
    front = next(
        name
        for name, f in resources(stack, "aws_lambda_function").items()
        if f["function_name"] == f"payments-intake-{short}-dev"
    )
    proxies = [i for i in resources(stack, "aws_api_gateway_integration").values() if i["type"] == "AWS_PROXY"]
    to_front = [i for i in proxies if i["uri"] == ref("aws_lambda_function", front, "invoke_arn")]
    assert len(to_front) == 2
    methods = sorted(i["http_method"].split(".")[1].rsplit("_", 1)[0] for i in to_front)
    assert methods == ["api_get_payment", "api_post"]
    stage = only(stack, "aws_api_gateway_stage", stage_name="v1")
    assert stage["xray_tracing_enabled"] is True
    assert stage["access_log_settings"]["destination_arn"].startswith("${aws_cloudwatch_log_group.api_access_logs")
    rest = only(stack, "aws_api_gateway_rest_api", name=f"payments-api-{short}-dev")
    assert rest["endpoint_configuration"] == {"types": ["REGIONAL"]}
