"""The app context, the generic stack and the typed contracts between packages."""

from __future__ import annotations

import pytest
from platform_tooling.testing.synthesis import scratch_app
from shared_constructs.contracts import StackContract, list_output, security_baseline, string_output
from shared_constructs.naming import Kind
from shared_constructs.state import RemoteOutputs

TOPIC = string_output("topic_arn", "a topic")
SUBNETS = list_output("subnet_ids", "subnets")
PRODUCER = StackContract(package="producer", stack="producer-use1", outputs=(TOPIC, SUBNETS))


def test_stack_context_carries_settings_namer_region_and_the_default_provider(stack, settings):
    ctx = stack.context
    assert ctx.settings is settings
    assert stack.settings is settings
    assert (ctx.region, ctx.provider, ctx.namer) == ("us-east-1", None, stack.namer)
    assert ctx.name(Kind.SNS, "alerts") == "t-alerts-use1-dev"
    assert ctx.name(Kind.TRAIL, "account", regional=False) == "t-account-dev"
    other = stack.context_for(
        "eu-west-1", account="x", assume_role_arn="arn:aws:iam::111122223333:role/d", account_id="111122223333"
    )
    assert other.arn("sqs", "t-jobs-euw1-dev") == "arn:aws:sqs:eu-west-1:111122223333:t-jobs-euw1-dev"
    assert other.arn("iam", "role/r", regional=False) == "arn:aws:iam::111122223333:role/r"


def test_context_for_another_account_uses_its_provider_and_configured_id(stack, synthesized):
    assert stack.context_for("us-east-1") is stack.context
    other = stack.context_for(
        "us-east-2", account="analytics", assume_role_arn="arn:aws:iam::210987654321:role/d", account_id="210987654321"
    )
    assert other.provider is stack.provider_for("us-east-2", account="analytics")
    assert (other.region, other.account) == ("us-east-2", "210987654321")
    same_account = stack.context_for("eu-west-1")
    stack.output("where", same_account.account, description="d")
    document = synthesized(stack)
    assert {p.get("alias") for p in document["provider"]["aws"]} == {None, "use2analytics", "euw1"}
    assert document["output"]["where"]["value"] == "${data.aws_caller_identity.caller_identity.account_id}"
    assert list(document["data"]["aws_caller_identity"]) == ["caller_identity"]


def test_publish_writes_the_declared_output_with_its_description(settings, synthesized):
    from shared_constructs.stack import PlatformStack

    producer = PlatformStack(
        scratch_app(), "producer-use1", settings=settings, package="producer", region="us-east-1", publishes=PRODUCER
    )
    producer.publish(TOPIC, "arn:aws:sns:us-east-1:123456789012:t")
    assert synthesized(producer)["output"]["topic_arn"] == {
        "description": "a topic",
        "sensitive": False,
        "value": "arn:aws:sns:us-east-1:123456789012:t",
    }


@pytest.mark.parametrize(
    ("publishes", "output", "message"),
    [
        (None, TOPIC, "publishes no contract"),
        (PRODUCER, string_output("other", "x"), "does not publish 'other'; it publishes topic_arn, subnet_ids"),
    ],
)
def test_fails_to_publish_what_the_contract_does_not_declare(settings, publishes, output, message):
    from shared_constructs.stack import PlatformStack

    producer = PlatformStack(
        scratch_app(), "producer-use1", settings=settings, package="producer", region="us-east-1", publishes=publishes
    )
    with pytest.raises(ValueError, match=message):
        producer.publish(output, "x")


def test_fails_when_a_stack_publishes_another_stacks_contract(settings):
    from shared_constructs.stack import PlatformStack

    with pytest.raises(ValueError, match="cannot publish the contract of 'producer' stack 'producer-use1'"):
        PlatformStack(scratch_app(), "x", settings=settings, package="p", region="us-east-1", publishes=PRODUCER)


def test_fails_on_a_contract_that_declares_an_output_twice():
    with pytest.raises(ValueError, match="declares outputs more than once: topic_arn"):
        StackContract(package="p", stack="s", outputs=(TOPIC, TOPIC))


def test_remote_outputs_read_declared_outputs_with_their_types(stack, settings, synthesized):
    remote = RemoteOutputs(stack, "producer", settings=settings, stack=PRODUCER)
    stack.output("topic", remote.get(TOPIC), description="d")
    stack.output("subnets", remote.get(SUBNETS), description="d")
    with pytest.raises(ValueError, match="does not publish 'other'"):
        remote.get(string_output("other", "x"))
    outputs = synthesized(stack)["output"]
    (name,) = synthesized(stack)["data"]["terraform_remote_state"]
    assert outputs["topic"]["value"] == f"${{data.terraform_remote_state.{name}.outputs.topic_arn}}"
    assert outputs["subnets"]["value"] == f"${{data.terraform_remote_state.{name}.outputs.subnet_ids}}"


def test_security_baseline_contract_names_one_stack_per_account_and_region():
    contract = security_baseline.stack("eu-west-1", "210987654321")
    assert (contract.package, contract.stack) == ("security-baseline", "security-baseline-210987654321-eu-west-1")
    assert [o.name for o in contract.outputs] == ["security_topic_arn", "compliance_topic_arn", "security_key_arn"]
    assert all(o.kind == "string" for o in contract.outputs)
