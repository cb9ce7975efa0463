"""One way to grant key use: IAM and, where the key does not delegate to IAM, the key policy."""

from __future__ import annotations

import pytest
from platform_tooling.testing.query import name_of, only, statement, statements
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, assume_role_policy
from shared_constructs.kms import DECRYPT, ENCRYPT_DECRYPT, Key, KeyPolicy, KeyProps


def role(stack, name="r"):
    return LeastPrivilegeRole(
        stack,
        name,
        RoleProps(
            context=stack.context,
            name=name,
            description="d",
            trust_policy=assume_role_policy(services=["ec2.amazonaws.com"]),
            regional_name=False,
        ),
    )


def key(stack, *, delegates: bool):
    return Key(
        stack,
        "k",
        KeyProps(
            context=stack.context,
            name="k",
            description="k",
            policy=KeyPolicy(
                "123456789012", root_can_use=delegates, deployer_role_arn=stack.context.settings.deployer_role_arn
            ),
        ),
    )


def test_key_that_does_not_delegate_names_each_granted_role_once_with_every_action(stack, synthesized):
    k, reader = key(stack, delegates=False), role(stack)
    k.grant(reader, DECRYPT)
    k.grant(reader, ("kms:GenerateDataKey",))
    document = synthesized(stack)
    named = statement(only(document, "aws_kms_key"), "UseTR")
    assert named["Principal"] == {"AWS": f"${{aws_iam_role.{name_of(document, 'aws_iam_role')}.arn}}"}
    assert named["Action"] == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    key_arn = f"${{aws_kms_key.{name_of(document, 'aws_kms_key')}.arn}}"
    iam = [s for s in statements(only(document, "aws_iam_policy")) if s["Resource"] == key_arn]
    assert sorted(a for s in iam for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    ]


def test_via_service_conditions_the_key_policy_or_else_the_role(stack, synthesized):
    private = key(stack, delegates=False)
    private.grant(role(stack, "a"), DECRYPT, via_service="secretsmanager", label="rotation")
    document = synthesized(stack)
    assert statement(only(document, "aws_kms_key"), "UseRotation")["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }
    assert "Condition" not in statements(only(document, "aws_iam_policy"))[0]


def test_key_that_delegates_grants_in_iam_only(stack, synthesized):
    shared = key(stack, delegates=True)
    shared.grant(role(stack), ENCRYPT_DECRYPT, via_service="ssm")
    document = synthesized(stack)
    assert [s["Sid"] for s in statements(only(document, "aws_kms_key"))] == ["KeyAdministration"]
    (granted,) = statements(only(document, "aws_iam_policy"))
    assert granted["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}


def test_account_through_one_service_and_service_principals(stack, synthesized):
    k = key(stack, delegates=False)
    k.grant_account_via_service("ParameterStoreWrite", "ssm", ("kms:Encrypt", "kms:GenerateDataKey"))
    k.grant_service("LogsUse", "logs.us-east-1.amazonaws.com", ("kms:Decrypt",))
    document = synthesized(stack)
    account = statement(only(document, "aws_kms_key"), "ParameterStoreWrite")
    assert account["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert account["Condition"] == {
        "StringEquals": {"kms:CallerAccount": "123456789012", "kms:ViaService": "ssm.us-east-1.amazonaws.com"}
    }
    service = statement(only(document, "aws_kms_key"), "LogsUse")
    assert service["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_fails_when_one_sid_would_name_two_roles(stack):
    k = key(stack, delegates=False)
    k.grant(role(stack, "a"), DECRYPT, label="same")
    with pytest.raises(ValueError, match="'UseSame' exists for other principals"):
        k.grant(role(stack, "b"), DECRYPT, label="same")


def test_bucket_write_grant_can_be_limited_to_a_prefix(stack, synthesized):
    from shared_constructs.storage import BucketProps, SecureBucket

    bucket = SecureBucket(
        stack,
        "b",
        BucketProps(
            context=stack.context,
            name="b",
            key=key(stack, delegates=False),
            access_log_exemption="a reason that is long",
            regional_name=False,
        ),
    )
    writer = role(stack)
    bucket.grant_write(writer, prefix="settlement/")
    document = synthesized(stack)
    bucket_arn = f"${{aws_s3_bucket.{name_of(document, 'aws_s3_bucket')}.arn}}"
    writes = [s for s in statements(only(document, "aws_iam_policy")) if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in writes] == [f"{bucket_arn}/settlement/*"]
    with pytest.raises(ValueError, match=r"bucket write prefix: got '/x/'; expected a key prefix"):
        bucket.grant_write(writer, prefix="/x/")


def test_the_same_service_grant_twice_is_one_statement(stack, synthesized):
    """Two queues on one key that EventBridge sends to ask for the same grant: one statement serves both."""
    k = key(stack, delegates=False)
    for _ in range(2):
        k.grant_service("SqsEvents", "events.amazonaws.com", ("kms:GenerateDataKey",))
    policy = only(synthesized(stack), "aws_kms_key")
    assert [s.get("Sid") for s in statements(policy)].count("SqsEvents") == 1


def test_fails_when_one_sid_would_carry_two_different_service_grants(stack, synthesized):
    k = key(stack, delegates=False)
    k.grant_service("SqsEvents", "events.amazonaws.com", ("kms:GenerateDataKey",))
    k.grant_service("SqsEvents", "events.amazonaws.com", ("kms:Decrypt",))
    with pytest.raises(RuntimeError, match="duplicate statement ids: SqsEvents"):
        synthesized(stack)
