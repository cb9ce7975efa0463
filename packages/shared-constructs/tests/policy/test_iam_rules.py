"""Policy documents AWS accepts: each rule fires on the shape the product had before it, passes today's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shared_constructs.iam import Statement, assume_role_policy, policy_document
from shared_constructs.network import flow_log_delivery_statements
from shared_constructs.policy import BASELINE, Context, Outcome, Resource, StackView, rules_iam
from shared_constructs.policy.arns import UncheckableArnError, fits
from shared_constructs.policy.iam_reference import action, condition_key_known, service_principal_known

CTX = Context(suffix="dev")
RULES = {rule.id: rule for rule in BASELINE}
LOG_GROUP = "${aws_cloudwatch_log_group.flow.arn}"
BUCKET = "${aws_s3_bucket.b.arn}"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OLD_TRUST = doc(
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}
)
"""What ``Statement.to_json`` rendered for every role before: an empty resource list became ``*``."""
OLD_FLOW_LOG_ROLE = doc(
    {
        "Sid": "DeliverFlowLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "Resource": [LOG_GROUP, f"{LOG_GROUP}:*"],
    }
)
"""The flow-log delivery roles of PrivateVpc and network-peering before: DescribeLogGroups on an ARN."""
GRANTS = [Statement(actions=["s3:GetObject"], resources=[f"arn:aws:s3:::bucket-{i:03d}-dev/*"]) for i in range(90)]

# rule id -> (type, bad config, good config)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "IAM_TRUST_POLICY": (
        "aws_iam_role",
        {"assume_role_policy": OLD_TRUST},
        {"assume_role_policy": assume_role_policy(services=["lambda.amazonaws.com"])},
    ),
    "IAM_IDENTITY_POLICY": (
        "aws_iam_policy",
        {"policy": OLD_FLOW_LOG_ROLE},
        {"policy": policy_document(flow_log_delivery_statements(LOG_GROUP))},
    ),
    "IAM_RESOURCE_POLICY": (
        "aws_s3_bucket_policy",
        # A statement added through SecureBucket.add_to_policy without principals (the builder accepts it).
        {"policy": policy_document([Statement(actions=["s3:GetObject"], resources=[f"{BUCKET}/*"])])},
        {
            "policy": policy_document(
                [
                    Statement(
                        actions=["s3:PutObject"],
                        resources=[f"{BUCKET}/*"],
                        principals={"Service": "logging.s3.amazonaws.com"},
                        conditions={"ArnLike": {"aws:SourceArn": BUCKET}},
                    )
                ]
            )
        },
    ),
    "POLICY_SIZE": (
        "aws_iam_policy",
        # A role's managed policy grown one grant_* at a time, past IAM's 6,144 characters.
        {"policy": policy_document(GRANTS)},
        {"policy": policy_document(GRANTS[:40])},
    ),
}


def verdict(rule_id: str, type_: str, config: dict[str, Any]) -> tuple[Outcome, str]:
    stack = StackView("s", {"resource": {type_: {"r": config}}})
    result = RULES[rule_id].check(Resource(type_, "r", config, stack), CTX)
    return result.outcome, result.detail


def test_every_rule_of_the_module_has_cases():
    rules = {r.id for r in BASELINE if r.check.__module__ == rules_iam.__name__}
    assert rules
    assert set(CASES) == rules


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_the_shape_built_before(rule_id):
    type_, bad, _ = CASES[rule_id]
    assert verdict(rule_id, type_, bad)[0] is Outcome.NON_COMPLIANT


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes_what_the_library_builds_now(rule_id):
    type_, _, good = CASES[rule_id]
    assert verdict(rule_id, type_, good) == (Outcome.COMPLIANT, "")


def test_findings_say_what_is_wrong():
    assert (
        "prohibited field Resource" in verdict("IAM_TRUST_POLICY", "aws_iam_role", {"assume_role_policy": OLD_TRUST})[1]
    )
    detail = verdict("IAM_IDENTITY_POLICY", "aws_iam_policy", {"policy": OLD_FLOW_LOG_ROLE})[1]
    assert "logs:DescribeLogGroups supports only '*'" in detail
    assert "managed policy of" in verdict("POLICY_SIZE", "aws_iam_policy", {"policy": policy_document(GRANTS)})[1]


TRUST_STATEMENT = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Principal": None}, "no Principal"),
        ({"Action": "s3:GetObject"}, "cannot appear in a trust policy"),
        ({"Principal": {"Service": "lamda.amazonaws.com"}}, "not an AWS service principal"),
        ({"Condition": {"StringEquals": {"sts:ExternalIdd": "x"}}}, "condition key"),
        ({"Condition": {"StringEqual": {"sts:ExternalId": "x"}}}, "unknown condition operator"),
        ({"Effect": "allow"}, "Effect"),
    ],
)
def test_fails_trust_policies_aws_refuses(change, message):
    statement = {k: v for k, v in {**TRUST_STATEMENT, **change}.items() if v is not None}
    outcome, detail = verdict("IAM_TRUST_POLICY", "aws_iam_role", {"assume_role_policy": doc(statement)})
    assert outcome is Outcome.NON_COMPLIANT
    assert message in detail


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Action": "sqs:SendMessage"}, "no Resource"),
        ({"Action": "sqs:SendMesage", "Resource": "${aws_sqs_queue.q.arn}"}, "is not an IAM action"),
        ({"Action": "sqs:SendMessage", "Resource": "${aws_sns_topic.t.arn}"}, "fits a resource type"),
        ({"Action": "sqs:SendMessage", "Resource": "*"}, "name its queue instead"),
        ({"Action": "s3:ListBucket", "Resource": f"{BUCKET}/*"}, "fits a resource type"),
        ({"Action": "sqs:SendMessage", "Resource": "${aws_glue_job.j.arn}"}, "cannot check"),
        ({"Action": "sqs:SendMessage", "Resource": "*", "Principal": "*"}, "prohibited field Principal"),
        (
            {"Action": "cloudwatch:PutMetricData", "Resource": "*", "Condition": {"StringEquals": {"s3:prefix": "x"}}},
            "condition key 's3:prefix'",
        ),
        ({"Action": "s3:Gett*", "Resource": "*"}, "matches no IAM action"),
    ],
)
def test_fails_identity_statements_aws_refuses_or_that_grant_nothing(statement, message):
    outcome, detail = verdict(
        "IAM_IDENTITY_POLICY", "aws_iam_policy", {"policy": doc({"Effect": "Allow", **statement})}
    )
    assert outcome is Outcome.NON_COMPLIANT
    assert message in detail


@pytest.mark.parametrize(
    "statement",
    [
        # One statement may name a bucket and its objects: each action needs one resource that fits.
        {"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [BUCKET, f"{BUCKET}/*"]},
        {"Action": "logs:PutLogEvents", "Resource": f"{LOG_GROUP}:*"},
        {"Action": "xray:PutTraceSegments", "Resource": "*"},
        {"Action": "ec2:CreateNetworkInterface", "Resource": "*"},  # listed: Lambda checks it on "*"
        {
            "Action": "kms:Decrypt",
            "Resource": "arn:aws:kms:us-east-1:${data.aws_caller_identity.c.account_id}:key/*",
            "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}},
        },
        {
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "X", "aws:RequestedRegion": "us-east-1"}},
        },
    ],
)
def test_identity_statements_aws_accepts(statement):
    assert verdict("IAM_IDENTITY_POLICY", "aws_iam_policy", {"policy": doc({"Effect": "Allow", **statement})}) == (
        Outcome.COMPLIANT,
        "",
    )


def test_deny_statements_may_use_wildcards_on_any_resource():
    deny = {"Effect": "Deny", "Action": ["iam:*", "*"], "Resource": "*"}
    assert verdict("IAM_IDENTITY_POLICY", "aws_iam_policy", {"policy": doc(deny)})[0] is Outcome.COMPLIANT


@pytest.mark.parametrize(
    ("principal", "condition", "outcome"),
    [
        ({"AWS": "*"}, None, Outcome.NON_COMPLIANT),
        ("*", {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}, Outcome.NON_COMPLIANT),
        ({"AWS": "*"}, {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}, Outcome.COMPLIANT),
        ({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, Outcome.COMPLIANT),
        ({"Service": "sns.amazonaws.com"}, None, Outcome.COMPLIANT),
    ],
)
@pytest.mark.parametrize("holder", ["aws_sqs_queue_policy", "aws_sqs_queue"])  # a queue's own policy too
def test_anyone_only_under_a_limiting_condition(principal, condition, outcome, holder):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    assert verdict("IAM_RESOURCE_POLICY", holder, {"policy": doc(statement)})[0] is outcome


@pytest.mark.parametrize(
    ("resource", "pattern", "expected"),
    [
        (
            f"{LOG_GROUP}:*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}",
            True,
        ),
        (
            LOG_GROUP,
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}",
            False,
        ),
        (f"{BUCKET}/*", "arn:${Partition}:s3:::${BucketName}", False),
        ("${aws_sqs_queue.q.arn}", "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}", True),
        ("${aws_sns_topic.t.arn}", "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}", False),
        ("${aws_sns_topic.t.arn}", "arn:${Partition}:s3:::${BucketName}", False),
        ("arn:aws:s3:::logs-*/AWSLogs/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
    ],
)
def test_arn_fit_with_references_and_wildcards(resource, pattern, expected):
    assert fits(resource, pattern) is expected


def test_arn_of_an_unknown_resource_type_cannot_be_checked():
    with pytest.raises(UncheckableArnError, match=r"aws_glue_job\.arn"):
        fits("${aws_glue_job.j.arn}", "arn:${Partition}:glue:${Region}:${Account}:job/${JobName}")


def test_reference_data_answers_case_insensitively_with_placeholders():
    found = action("LOGS:describeloggroups")
    assert found is not None
    assert found.wildcard_only
    assert action("sqs:NoSuchThing") is None
    assert condition_key_known("kms:EncryptionContext:aws:logs:arn", {"kms"})
    assert condition_key_known("aws:ResourceTag/Owner", set())
    assert not condition_key_known("aws:SourceAcount", {"kms"})
    assert service_principal_known("logs.ap-southeast-1.amazonaws.com")
    assert service_principal_known("vpc-flow-logs.amazonaws.com")
    assert not service_principal_known("logs.mars-east-1.amazonaws.com")
    assert not service_principal_known("lamda.amazonaws.com")
