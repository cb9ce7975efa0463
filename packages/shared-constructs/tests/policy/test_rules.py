"""Each rule of the baseline pack fires on a bad resource and passes on a good one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shared_constructs.policy import BASELINE, Context, Outcome, Resource, StackView, evaluate
from shared_constructs.tagging import REQUIRED_TAGS

CTX = Context(suffix="dev", protect_stateful=False, required_tags=REQUIRED_TAGS)
RULES = {rule.id: rule for rule in BASELINE}
CONFORMANCE_MODULES = ("rules_iam", "rules_keys", "rules_reach")
"""Rules over whole stacks, each module with its own test file (test_iam_rules, test_key_usage, test_reachability)."""
ALL_TAGS = {key: "x" for key in REQUIRED_TAGS}
CMK = "${aws_kms_key.k.arn}"


def doc(effect: str, action: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]})


def bucket_stack(**companions: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {"aws_s3_bucket": {"b": {"bucket": "b-dev"}}}
    for type_, config in companions.items():
        resource[type_] = {"c": {"bucket": "${aws_s3_bucket.b.id}", **config}}
    return {"resource": resource}


SSE_KMS = {
    "rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": CMK}}]
}
SSE_S3 = {"rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]}
PAB = {k: True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")}

# rule id -> (type, bad config, good config); bucket rules use whole stacks instead.
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "REQUIRED_TAGS": (
        "provider.aws",
        {"default_tags": [{"tags": {**ALL_TAGS, "Owner": ""}}]},
        {"default_tags": [{"tags": ALL_TAGS}]},
    ),
    "NAME_SUFFIX": ("aws_lambda_function", {"function_name": "payments-fn-prod"}, {"function_name": "payments-fn-dev"}),
    "IAM_NO_WILDCARD_ACTIONS": (
        "aws_iam_policy",
        {"policy": doc("Allow", ["s3:Get*"])},
        {"policy": doc("Allow", ["s3:GetObject"])},
    ),
    "IAM_NO_INLINE_POLICIES": ("aws_iam_role", {"inline_policy": [{"name": "x"}]}, {"name": "r-dev"}),
    "NO_OPEN_INGRESS": (
        "aws_security_group",
        {"ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 443}]},
        {"ingress": [{"cidr_blocks": ["10.1.0.0/24"], "from_port": 443}]},
    ),
    "KMS_ROTATION": ("aws_kms_key", {"enable_key_rotation": False}, {"enable_key_rotation": True}),
    "DYNAMODB_PITR_CMK": (
        "aws_dynamodb_table",
        {
            "name": "t-dev",
            "point_in_time_recovery": {"enabled": True},
            "server_side_encryption": {"enabled": True, "kms_key_arn": CMK},
            "replica": [{"region_name": "eu-west-1", "point_in_time_recovery": True}],
        },
        {
            "name": "t-dev",
            "point_in_time_recovery": {"enabled": True},
            "server_side_encryption": {"enabled": True, "kms_key_arn": CMK},
            "replica": [{"region_name": "eu-west-1", "point_in_time_recovery": True, "kms_key_arn": CMK}],
        },
    ),
    "LOG_GROUP_KMS_RETENTION": (
        "aws_cloudwatch_log_group",
        {"kms_key_id": CMK},
        {"kms_key_id": CMK, "retention_in_days": 365},
    ),
    "MESSAGING_CMK": ("aws_sns_topic", {"kms_master_key_id": "alias/aws/sns"}, {"kms_master_key_id": CMK}),
    "LAMBDA_TRACING": (
        "aws_lambda_function",
        {"tracing_config": {"mode": "PassThrough"}},
        {"tracing_config": {"mode": "Active"}},
    ),
    "LAMBDA_CONCURRENCY": ("aws_lambda_function", {}, {"reserved_concurrent_executions": 5}),
    "SFN_CMK": (
        "aws_sfn_state_machine",
        {"name": "m-dev"},  # the payments workflow before this rule: Step Functions' own key
        {"name": "m-dev", "encryption_configuration": {"type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": CMK}},
    ),
    "LAMBDA_ENV_CMK": (
        "aws_lambda_function",
        {"environment": {"variables": {"TABLE": "t"}}},
        {"environment": {"variables": {"TABLE": "t"}}, "kms_key_arn": CMK},
    ),
    "RDS_ENCRYPTION": ("aws_rds_cluster", {"storage_encrypted": True}, {"storage_encrypted": True, "kms_key_id": CMK}),
    "DESTROYABLE": ("aws_rds_cluster", {"deletion_protection": True}, {"deletion_protection": False}),
    "TLS12": (
        "aws_lb_listener",
        {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-2016-08"},
        {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
    ),
}
BUCKET_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "S3_CMK_ENCRYPTION": (
        bucket_stack(aws_s3_bucket_server_side_encryption_configuration=SSE_S3),
        bucket_stack(aws_s3_bucket_server_side_encryption_configuration=SSE_KMS),
    ),
    "S3_VERSIONING": (
        bucket_stack(aws_s3_bucket_versioning={"versioning_configuration": {"status": "Suspended"}}),
        bucket_stack(aws_s3_bucket_versioning={"versioning_configuration": {"status": "Enabled"}}),
    ),
    "S3_PUBLIC_ACCESS_BLOCK": (
        bucket_stack(aws_s3_bucket_public_access_block={**PAB, "block_public_policy": False}),
        bucket_stack(aws_s3_bucket_public_access_block=PAB),
    ),
    "S3_ACCESS_LOGGING": (bucket_stack(), bucket_stack(aws_s3_bucket_logging={"target_bucket": "logs"})),
}


def verdict(rule_id: str, type_: str, config: dict[str, Any], ctx: Context = CTX) -> Outcome:
    stack = StackView("s", {"resource": {type_: {"r": config}}})
    return RULES[rule_id].check(Resource(type_, "r", config, stack), ctx).outcome


def test_every_rule_has_cases():
    conformance = {r.id for r in BASELINE if r.check.__module__.rsplit(".", 1)[1] in CONFORMANCE_MODULES}
    assert conformance, "the conformance rules are part of the baseline"
    assert set(CASES) | set(BUCKET_CASES) == set(RULES) - conformance


def test_cmk_rules_ignore_what_they_do_not_cover():
    assert verdict("LAMBDA_ENV_CMK", "aws_lambda_function", {"function_name": "f-dev"}) is Outcome.NOT_APPLICABLE
    aws_key = {"encryption_configuration": {"type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": "alias/aws/states"}}
    assert verdict("SFN_CMK", "aws_sfn_state_machine", aws_key) is Outcome.NON_COMPLIANT


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_the_bad_resource(rule_id):
    type_, bad, _ = CASES[rule_id]
    assert verdict(rule_id, type_, bad) is Outcome.NON_COMPLIANT


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes_the_good_resource(rule_id):
    type_, _, good = CASES[rule_id]
    assert verdict(rule_id, type_, good) is Outcome.COMPLIANT


@pytest.mark.parametrize("rule_id", sorted(BUCKET_CASES))
def test_bucket_rules_fire_and_pass(rule_id):
    bad, good = BUCKET_CASES[rule_id]
    pack = [RULES[rule_id]]
    assert [f.rule.id for f in evaluate({"s": bad}, CTX, pack).violations] == [rule_id]
    assert evaluate({"s": good}, CTX, pack).violations == []


@pytest.mark.parametrize(
    ("type_", "config"),
    [
        ("aws_security_group_rule", {"type": "ingress", "cidr_blocks": ["0.0.0.0/0"]}),
        ("aws_vpc_security_group_ingress_rule", {"cidr_ipv6": "::/0"}),
        ("aws_network_acl_rule", {"egress": False, "rule_action": "allow", "cidr_block": "0.0.0.0/0"}),
    ],
)
def test_open_ingress_fires_on_every_rule_shape(type_, config):
    assert verdict("NO_OPEN_INGRESS", type_, config) is Outcome.NON_COMPLIANT


def test_deny_wildcards_and_open_egress_are_allowed():
    assert (
        verdict("IAM_NO_WILDCARD_ACTIONS", "aws_s3_bucket_policy", {"policy": doc("Deny", "s3:*")}) is Outcome.COMPLIANT
    )
    nacl_deny = {"egress": False, "rule_action": "deny", "cidr_block": "0.0.0.0/0"}
    assert verdict("NO_OPEN_INGRESS", "aws_network_acl_rule", nacl_deny) is Outcome.NOT_APPLICABLE


@pytest.mark.requirement("DEP-2", "SEC-D1", "SEC-D3", "SEC-D4")
def test_protection_is_allowed_when_the_environment_asks_for_it():
    protected = Context(suffix="dev", protect_stateful=True, required_tags=REQUIRED_TAGS)
    assert verdict("DESTROYABLE", "aws_rds_cluster", {"deletion_protection": True}, protected) is Outcome.NOT_APPLICABLE
    assert verdict("DESTROYABLE", "aws_s3_bucket", {"lifecycle": {"prevent_destroy": True}}) is Outcome.NON_COMPLIANT


def test_suppressed_findings_are_reported_with_their_reason_not_as_violations():
    config = {
        "enable_key_rotation": False,
        "//": {"suppressions": [{"rule": "KMS_ROTATION", "reason": "asymmetric signing key in a test"}]},
    }
    report = evaluate({"s": {"resource": {"aws_kms_key": {"k": config}}}}, CTX, [RULES["KMS_ROTATION"]])
    assert report.violations == []
    assert [(f.rule.id, f.reason) for f in report.suppressed] == [("KMS_ROTATION", "asymmetric signing key in a test")]
    assert report.to_json()["suppressions"][0]["resource"] == "aws_kms_key.k"


def test_reference_example_passes_the_whole_pack_with_listed_suppressions(synth):
    report = synth("reference").report
    assert report.violations == []
    assert sorted(f.rule.id for f in report.suppressed) == ["S3_ACCESS_LOGGING", "S3_CMK_ENCRYPTION"]
