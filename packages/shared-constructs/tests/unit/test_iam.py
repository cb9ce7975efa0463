from __future__ import annotations

import json
import re

import pytest
from platform_tooling.testing.query import resources, statements
from shared_constructs.iam import Statement, WildcardActionError, assume_role_policy, policy_document


@pytest.mark.parametrize("action", ["*", "s3:*", "s3:Get*", "kms:*Key"])
def test_fails_on_wildcard_actions_in_allow_statements(action):
    with pytest.raises(WildcardActionError, match=re.escape(f"wildcard action {action!r} is not allowed")):
        Statement(actions=[action], resources=["arn:aws:s3:::b"])


@pytest.mark.parametrize(("actions", "message"), [([], "at least one action"), (["GetObject"], "not 'service:Action'")])
def test_fails_on_malformed_actions(actions, message):
    with pytest.raises(ValueError, match=message):
        Statement(actions=actions)


def test_deny_statements_may_use_wildcards():
    assert Statement(effect="Deny", actions=["s3:*"], resources=["*"]).to_json()["Action"] == "s3:*"


def test_policy_document_merges_identical_grants_and_refuses_duplicate_ids():
    grant = Statement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])
    document = json.loads(policy_document([grant, grant]))
    assert document == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
    }
    with pytest.raises(ValueError, match="duplicate statement ids: A"):
        policy_document([Statement(sid="A", actions=["s3:GetObject"]), Statement(sid="A", actions=["s3:PutObject"])])


def test_trust_policy_names_the_service():
    trust = json.loads(assume_role_policy(services=["lambda.amazonaws.com"]))
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_trust_policy_has_no_resource_element():
    # IAM's CreateRole answers "MalformedPolicyDocument: Has prohibited field Resource" otherwise.
    for trust in (
        assume_role_policy(services=["lambda.amazonaws.com"]),
        assume_role_policy(
            accounts=["arn:aws:iam::111122223333:root"], conditions={"StringEquals": {"sts:ExternalId": "x"}}
        ),
    ):
        assert all("Resource" not in s and "NotResource" not in s for s in json.loads(trust)["Statement"])


def test_roles_get_customer_managed_policies_only(reference):
    assert resources(reference, "aws_iam_role_policy") == {}
    roles = resources(reference, "aws_iam_role").values()
    assert len(roles) >= 2  # the function's role and the flow-log delivery role at least
    assert all("inline_policy" not in role for role in roles)
    attachments = resources(reference, "aws_iam_role_policy_attachment")
    assert len(attachments) == len(resources(reference, "aws_iam_policy"))


def test_function_role_policy_holds_exactly_its_grants(reference):
    policy = next(p for p in resources(reference, "aws_iam_policy").values() if p["name"] == "ref-echo-fn-use1-dev")
    actions = sorted(
        a for s in statements(policy) for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    )
    assert actions == sorted(
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
            "kms:Decrypt",
            "kms:DescribeKey",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:ListBucket",
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
            "kms:Decrypt",
        ]
    )
