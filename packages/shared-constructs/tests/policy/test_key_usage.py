"""KEY_USAGE: every service, role and the deployer that must use a key may use it."""

from __future__ import annotations

from typing import Any

import pytest
from shared_constructs.iam import Statement, policy_document
from shared_constructs.kms import KEY_ADMIN_ACTIONS, KeyPolicy
from shared_constructs.policy import BASELINE, Context, evaluate, rules_keys

ACCOUNT = "123456789012"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/deployer"
CTX = Context(suffix="dev", deployer=DEPLOYER)
RULE = next(r for r in BASELINE if r.id == "KEY_USAGE")
KEY = "${aws_kms_key.k.arn}"
ROLE = "${aws_iam_role.worker.arn}"


def old_restricted_policy() -> str:
    """pci-platform's key policy before: the root administers, nobody else is named."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    return policy_document(
        [Statement(sid="KeyAdministration", actions=KEY_ADMIN_ACTIONS, principals={"AWS": [root]}, resources=["*"])]
    )


def restricted() -> KeyPolicy:
    return KeyPolicy(ACCOUNT, root_can_use=False, deployer_role_arn=DEPLOYER)


def role(*statements: Statement) -> dict[str, Any]:
    """A role (``aws_iam_role.worker``) whose managed policy holds ``statements``."""
    return {
        "aws_iam_role": {"worker": {"name": "worker-dev"}},
        "aws_iam_policy": {"worker": {"policy": policy_document(list(statements))}},
        "aws_iam_role_policy_attachment": {
            "worker": {"role": "${aws_iam_role.worker.name}", "policy_arn": "${aws_iam_policy.worker.arn}"}
        },
    }


def stack(policy: str, **resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": {"aws_kms_key": {"k": {"policy": policy}}, **resources},
    }


def findings(document: dict[str, Any], ctx: Context = CTX) -> list[str]:
    return [f.result.detail for f in evaluate({"s": document}, ctx, [RULE]).violations]


BATCH_HOSTS = {
    "aws_launch_template": {"t": {"block_device_mappings": [{"ebs": {"encrypted": "true", "kms_key_id": KEY}}]}},
    "aws_autoscaling_group": {"g": {"launch_template": {"id": "${aws_launch_template.t.id}"}}},
}
PARAMETER = {"aws_ssm_parameter": {"p": {"type": "SecureString", "key_id": KEY, "value": "x"}}}
QUEUE = {"aws_sqs_queue": {"q": {"kms_master_key_id": KEY}}}
LOG_GROUP = {"aws_cloudwatch_log_group": {"g": {"name": "/app/dev/audit", "kms_key_id": KEY}}}
SEND = Statement(actions=["sqs:SendMessage"], resources=["${aws_sqs_queue.q.arn}"])


def existing_secret(policy: str) -> dict[str, Any]:
    """A key that declares it encrypts an existing secret the stack reads a version of."""
    document = stack(policy)
    document["resource"]["aws_kms_key"]["k"]["//"] = {"encrypts": ["${data.aws_secretsmanager_secret.s.arn}"]}
    document["data"] = {
        "aws_secretsmanager_secret": {"s": {"name": "db"}},
        "aws_secretsmanager_secret_version": {"v": {"secret_id": "${data.aws_secretsmanager_secret.s.arn}"}},
    }
    return document


def with_logs(policy: KeyPolicy, log_group: str = "/app/dev/audit") -> str:
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{log_group}"
    conditions = {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}}
    return policy.allow_service(
        "Logs", "logs.us-east-1.amazonaws.com", source_account=False, conditions=conditions
    ).render()


def test_the_rule_belongs_to_its_module():
    assert RULE.check.__module__ == rules_keys.__name__


# name -> (stack as built before this issue, the same stack fixed)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "auto scaling volumes": (
        stack(old_restricted_policy(), **BATCH_HOSTS),
        stack(restricted().allow_autoscaling_volumes().render(), **BATCH_HOSTS),
    ),
    "deployer reads back a SecureString": (
        stack(old_restricted_policy(), **PARAMETER),
        stack(
            restricted()
            .add(
                Statement(
                    sid="ParameterStoreWrite",
                    actions=["kms:Encrypt"],
                    resources=["*"],
                    principals={"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    conditions={"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}},
                )
            )
            .render(),
            **PARAMETER,
        ),
    ),
    "a role that sends to the queue": (
        stack(old_restricted_policy(), **QUEUE, **role(SEND)),
        stack(
            restricted().allow_principals("Worker", [ROLE], ("kms:Decrypt", "kms:GenerateDataKey")).render(),
            **QUEUE,
            **role(SEND),
        ),
    ),
    "a role of an account that delegates to IAM": (
        stack(KeyPolicy(ACCOUNT).render(), **QUEUE, **role(SEND)),
        stack(
            KeyPolicy(ACCOUNT).render(),
            **QUEUE,
            **role(SEND, Statement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[KEY])),
        ),
    ),
    "deployer reads back an existing secret": (
        existing_secret(old_restricted_policy()),
        existing_secret(restricted().render()),
    ),
    "CloudWatch Logs for the log group": (
        stack(with_logs(KeyPolicy(ACCOUNT), "/app/dev/other"), **LOG_GROUP),
        stack(with_logs(KeyPolicy(ACCOUNT)), **LOG_GROUP),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fires_on_the_key_as_built_before(name):
    assert findings(CASES[name][0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_passes_the_key_that_names_who_must_use_it(name):
    assert findings(CASES[name][1]) == []


def test_findings_name_the_principal_the_use_and_the_missing_actions():
    (detail,) = findings(CASES["auto scaling volumes"][0])
    assert "AWSServiceRoleForAutoScaling" in detail
    assert "aws_launch_template.t" in detail
    assert "kms:CreateGrant" in detail
    (detail,) = findings(CASES["deployer reads back a SecureString"][0])
    assert DEPLOYER in detail
    assert "kms:Decrypt" in detail


def test_a_via_service_condition_must_name_the_service_used():
    wrong = restricted().allow_principals(
        "Worker",
        [ROLE],
        ("kms:Decrypt", "kms:GenerateDataKey"),
        conditions={"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
    )
    assert findings(stack(wrong.render(), **QUEUE, **role(SEND)))


def test_topic_publishers_and_queue_senders_need_the_key():
    topic = {
        "aws_sns_topic": {"t": {"kms_master_key_id": KEY}},
        "aws_sns_topic_policy": {
            "t": {
                "arn": "${aws_sns_topic.t.arn}",
                "policy": policy_document(
                    [
                        Statement(
                            actions=["sns:Publish"],
                            resources=["${aws_sns_topic.t.arn}"],
                            principals={"Service": "events.amazonaws.com"},
                        )
                    ]
                ),
            }
        },
    }
    (detail,) = findings(stack(KeyPolicy(ACCOUNT).render(), **topic))
    assert "events.amazonaws.com" in detail
    allowed = KeyPolicy(ACCOUNT).allow_service("Events", "events.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey"))
    assert findings(stack(allowed.render(), **topic)) == []


def test_without_a_configured_deployer_nothing_is_asked_of_it():
    assert findings(CASES["deployer reads back a SecureString"][0], Context(suffix="dev")) == []


def test_fails_a_restricted_key_without_its_deployer():
    with pytest.raises(ValueError, match="must name the deployer"):
        KeyPolicy(ACCOUNT, root_can_use=False)


def test_a_key_the_launch_template_only_hands_to_its_hosts_is_not_auto_scalings_to_use():
    handed = {
        "aws_launch_template": {"t": {"user_data": f"OUTPUT_KEY={KEY}", "block_device_mappings": [{"ebs": {}}]}},
        "aws_autoscaling_group": BATCH_HOSTS["aws_autoscaling_group"],
    }
    assert findings(stack(restricted().render(), **handed)) == []
    assert len(findings(stack(restricted().render(), **BATCH_HOSTS))) == 1  # on the volumes it is


def test_a_service_the_queues_own_policy_lets_send_needs_the_key():
    sender = Statement(
        actions=["sqs:SendMessage"],
        resources=["arn:aws:sqs:us-east-1:123456789012:q"],
        principals={"Service": "sns.amazonaws.com"},
    )
    queue = {"aws_sqs_queue": {"q": {"kms_master_key_id": KEY, "policy": policy_document([sender])}}}
    (detail,) = findings(stack(KeyPolicy(ACCOUNT).render(), **queue))
    assert "sns.amazonaws.com" in detail
    allowed = KeyPolicy(ACCOUNT).allow_service("Sns", "sns.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey"))
    assert findings(stack(allowed.render(), **queue)) == []
