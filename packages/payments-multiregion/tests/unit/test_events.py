"""Event buses with customer-managed keys and the failover rule to the other regions' buses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref, resources, where

from ..conftest import REGIONS, SHORT, data_key

ACCOUNT = "${data.aws_caller_identity.caller_identity.account_id}"


@pytest.mark.parametrize("region", REGIONS)
def test_bus_is_encrypted_with_the_regional_key(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    bus = only(stack, "aws_cloudwatch_event_bus", name=f"payments-events-{SHORT[region]}-dev")
    assert bus["kms_key_identifier"] == ref("aws_kms_key", data_key(stack), "arn")
    key = stack["resource"]["aws_kms_key"][data_key(stack)]
    statement = next(s for s in json.loads(key["policy"])["Statement"] if s["Sid"] == "EventBusEncryption")
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:events:event-bus:arn"] == (
        f"arn:aws:events:{region}:{ACCOUNT}:event-bus/payments-events-{SHORT[region]}-dev"
    )


@pytest.mark.requirement("PAY-4")
@pytest.mark.parametrize("region", REGIONS)
def test_failover_rule_forwards_local_payment_events_to_every_other_bus(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    rule = only(stack, "aws_cloudwatch_event_rule", name=f"payments-failover-{SHORT[region]}-dev")
    assert json.loads(rule["event_pattern"]) == {
        "source": ["payments.transactions"],
        "detail-type": ["PaymentAccepted", "PaymentRecorded"],
        "detail": {"origin_region": [region]},
    }
    targets = [t for t in resources(stack, "aws_cloudwatch_event_target").values() if t["target_id"].startswith("bus-")]
    others = [r for r in REGIONS if r != region]
    assert sorted(t["arn"] for t in targets) == sorted(
        f"arn:aws:events:{o}:{ACCOUNT}:event-bus/payments-events-{SHORT[o]}-dev" for o in others
    )
    for target in targets:
        assert target["role_arn"].startswith("${aws_iam_role.events_forwarder_role")
        assert target["dead_letter_config"]["arn"].startswith("${aws_sqs_queue.events_dead_letters_queue")
        assert target["retry_policy"] == {"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185}
    policy = only(stack, "aws_iam_policy", name=f"payments-event-forwarder-{SHORT[region]}-dev")
    statement = json.loads(policy["policy"])["Statement"][0]
    assert statement["Action"] == "events:PutEvents"
    assert sorted(statement["Resource"]) == sorted(t["arn"] for t in targets)


def queue_senders(stack: dict[str, Any], queue: str) -> list[Any]:
    """The SourceArn conditions of EventBridge's statements in ``queue``'s policy (the queue's
    own ``policy``: no separate queue policy resource, see shared_constructs.messaging)."""
    assert "aws_sqs_queue_policy" not in stack.get("resource", {})
    policy = json.loads(only(stack, "aws_sqs_queue", name=queue)["policy"])
    sends = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert all(
        s["Resource"].startswith("arn:aws:sqs:") and s["Resource"].endswith(f":{ACCOUNT}:{queue}") for s in sends
    )
    return [s["Condition"]["ArnLike"]["aws:SourceArn"] for s in sends]


def test_dead_letter_queue_accepts_only_the_two_rules(stacks: dict[str, Any]) -> None:
    stack = stacks["payments-us-east-1"]
    failover = ref(
        "aws_cloudwatch_event_rule",
        name_of(stack, "aws_cloudwatch_event_rule", name="payments-failover-use1-dev"),
        "arn",
    )
    landing = ref(
        "aws_cloudwatch_event_rule",
        name_of(stack, "aws_cloudwatch_event_rule", name="payments-forwarded-use1-dev"),
        "arn",
    )
    assert queue_senders(stack, "payments-events-dlq-use1-dev") == [[failover, landing]]
    assert queue_senders(stack, "payments-forwarded-events-use1-dev") == [landing]


@pytest.mark.requirement("PAY-4")
@pytest.mark.parametrize("region", REGIONS)
def test_forwarded_events_land_in_the_destination_regions_queue(stacks: dict[str, Any], region: str) -> None:
    stack, short = stacks[f"payments-{region}"], SHORT[region]
    rule = only(stack, "aws_cloudwatch_event_rule", name=f"payments-forwarded-{short}-dev")
    assert rule["event_bus_name"].startswith("${aws_cloudwatch_event_bus.")
    assert json.loads(rule["event_pattern"]) == {
        "source": ["payments.transactions"],
        "detail-type": ["PaymentAccepted", "PaymentRecorded"],
        "detail": {"origin_region": [{"anything-but": region}]},
    }
    queue_name = name_of(stack, "aws_sqs_queue", name=f"payments-forwarded-events-{short}-dev")
    queue = only(stack, "aws_sqs_queue", name=f"payments-forwarded-events-{short}-dev")
    assert queue["message_retention_seconds"] == 1209600
    assert queue["kms_master_key_id"] == ref("aws_kms_key", data_key(stack), "arn")
    targets = where(stack, "aws_cloudwatch_event_target", target_id="forwarded-events")
    assert len(targets) == 1
    assert targets[0]["arn"] == ref("aws_sqs_queue", queue_name, "arn")
    assert targets[0]["dead_letter_config"]["arn"].startswith("${aws_sqs_queue.events_dead_letters")


@pytest.mark.requirement("PAY-6")
def test_primary_inbox_accepts_every_regions_alert_topic(stacks: dict[str, Any]) -> None:
    stack = stacks["payments-us-east-1"]
    policies = [json.loads(q["policy"]) for q in resources(stack, "aws_sqs_queue").values() if "policy" in q]
    sends = [s for p in policies for s in p["Statement"] if s["Principal"] == {"Service": "sns.amazonaws.com"}]
    assert len(sends) == 1
    assert sorted(sends[0]["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(
        f"arn:aws:sns:{r}:{ACCOUNT}:payments-alerts-{SHORT[r]}-dev" for r in REGIONS
    )
    secondary = [
        q["policy"] for q in stacks["payments-eu-west-1"]["resource"]["aws_sqs_queue"].values() if "policy" in q
    ]
    assert secondary  # the secondary region's own queue policies (events dead letters)
    assert all("sns.amazonaws.com" not in p for p in secondary)
