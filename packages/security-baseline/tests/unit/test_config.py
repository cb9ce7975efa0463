"""AWS Config: recorder, role, delivery order, snapshots bucket, managed rules, remediation, adopt mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref, resources, statement

PLATFORM = "123456789012"  # the deployer account of config/dev.toml (accounts.platform)
REGIONS = {"us-east-1": "use1", "us-east-2": "use2", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}
RULES = {
    "encrypted-volumes": "ENCRYPTED_VOLUMES",
    "rds-storage-encrypted": "RDS_STORAGE_ENCRYPTED",
    "vpc-flow-logs": "VPC_FLOW_LOGS_ENABLED",
    "required-tags": "REQUIRED_TAGS",
    "s3-ssl-only": "S3_BUCKET_SSL_REQUESTS_ONLY",
    "s3-encryption": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "s3-public-access": "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "log-groups-encrypted": "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
    "kms-not-pending-deletion": "KMS_CMK_NOT_SCHEDULED_FOR_DELETION",
    "peering-dns-resolution": "VPC_PEERING_DNS_RESOLUTION_CHECK",
}


def stack_of(stacks: dict[str, dict[str, Any]], region: str) -> dict[str, Any]:
    return stacks[f"security-baseline-{PLATFORM}-{region}"]


@pytest.mark.requirement("SEC-9")
@pytest.mark.parametrize("region", sorted(REGIONS))
def test_recorder_records_all_resources_globals_only_at_home(stacks: dict[str, dict[str, Any]], region: str) -> None:
    stack = stack_of(stacks, region)
    recorder = only(
        stack, "aws_config_configuration_recorder", name=f"security-baseline-recorder-{REGIONS[region]}-dev"
    )
    assert recorder["recording_group"] == {
        "all_supported": True,
        "include_global_resource_types": region == "us-east-1",
    }
    role = name_of(stack, "aws_iam_role", name=f"security-baseline-config-recorder-{REGIONS[region]}-dev")
    assert recorder["role_arn"] == ref("aws_iam_role", role, "arn")


@pytest.mark.requirement("SEC-9", "SEC-D7", "DEP-4")
def test_recorder_role_uses_the_aws_config_managed_policy(home: dict[str, Any]) -> None:
    role = name_of(home, "aws_iam_role", name="security-baseline-config-recorder-use1-dev")
    attached = [
        a["policy_arn"]
        for a in resources(home, "aws_iam_role_policy_attachment").values()
        if a["role"] == ref("aws_iam_role", role, "name") and not a["policy_arn"].startswith("${")
    ]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"]
    trust = json.loads(resources(home, "aws_iam_role")[role]["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "config.amazonaws.com"}


def test_recorder_enabled_only_after_delivery_channel(home: dict[str, Any]) -> None:
    channel = name_of(home, "aws_config_delivery_channel")
    recorder = name_of(home, "aws_config_configuration_recorder")
    (status,) = resources(home, "aws_config_configuration_recorder_status").values()
    assert status["is_enabled"] is True
    assert status["depends_on"] == [f"aws_config_delivery_channel.{channel}"]
    assert status["name"] == ref("aws_config_configuration_recorder", recorder, "name")
    delivery = resources(home, "aws_config_delivery_channel")[channel]
    assert f"aws_config_configuration_recorder.{recorder}" in delivery["depends_on"]
    role = name_of(home, "aws_iam_role", name="security-baseline-config-recorder-use1-dev")
    attachments = {
        f"aws_iam_role_policy_attachment.{n}"
        for n, a in resources(home, "aws_iam_role_policy_attachment").items()
        if a["role"] == ref("aws_iam_role", role, "name")
    }
    assert len(attachments) == 2
    assert attachments <= set(delivery["depends_on"])
    assert delivery["s3_bucket_name"] == "security-baseline-config-snapshots-use1-dev"
    assert delivery["s3_kms_key_arn"] == ref("aws_kms_key", name_of(home, "aws_kms_key"), "arn")
    assert delivery["snapshot_delivery_properties"] == {"delivery_frequency": "TwentyFour_Hours"}


@pytest.mark.requirement("SEC-9")
def test_snapshots_bucket_versioned_with_old_version_lifecycle(home: dict[str, Any]) -> None:
    bucket = name_of(home, "aws_s3_bucket", bucket="security-baseline-config-snapshots-use1-dev")
    by_bucket = {"bucket": ref("aws_s3_bucket", bucket, "id")}
    versioning = only(home, "aws_s3_bucket_versioning", **by_bucket)
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    (rule,) = only(home, "aws_s3_bucket_lifecycle_configuration", **by_bucket)["rule"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]
    assert "expiration" not in rule  # current snapshots are kept
    policy = only(home, "aws_s3_bucket_policy", **by_bucket)
    delivery = statement(policy, "ConfigDelivery")
    assert delivery["Principal"] == {"Service": "config.amazonaws.com"}
    assert delivery["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"


@pytest.mark.requirement("SEC-9")
@pytest.mark.parametrize(("rule", "identifier"), sorted(RULES.items()))
def test_managed_rule_exists_after_recorder(home: dict[str, Any], rule: str, identifier: str) -> None:
    found = only(home, "aws_config_config_rule", name=f"security-baseline-{rule}-use1-dev")
    assert found["source"] == {"owner": "AWS", "source_identifier": identifier}
    status = name_of(home, "aws_config_configuration_recorder_status")
    assert found["depends_on"] == [f"aws_config_configuration_recorder_status.{status}"]


def test_required_tags_rule_checks_the_platform_tag_set(home: dict[str, Any]) -> None:
    rule = only(home, "aws_config_config_rule", name="security-baseline-required-tags-use1-dev")
    assert json.loads(rule["input_parameters"]) == {
        "tag1Key": "Environment",
        "tag2Key": "CostCenter",
        "tag3Key": "Owner",
        "tag4Key": "DataClassification",
        "tag5Key": "ManagedBy",
        "tag6Key": "App",
    }


@pytest.mark.requirement("SEC-9", "SEC-C4")
def test_non_compliance_goes_to_compliance_topic_and_remediation_only(home: dict[str, Any]) -> None:
    rule = name_of(home, "aws_cloudwatch_event_rule", name="security-baseline-config-noncompliant-use1-dev")
    pattern = json.loads(resources(home, "aws_cloudwatch_event_rule")[rule]["event_pattern"])
    assert pattern["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}
    assert pattern["source"] == ["aws.config"]
    targets = sorted(t["arn"] for t in resources(home, "aws_cloudwatch_event_target").values() if rule in t["rule"])
    function = name_of(home, "aws_lambda_function")
    assert targets == sorted(
        [
            ref("aws_lambda_function", function, "arn"),
            ref("aws_sns_topic", name_of(home, "aws_sns_topic", name="security-baseline-compliance-use1-dev"), "arn"),
        ]
    )
    permission = next(iter(resources(home, "aws_lambda_permission").values()))
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["source_arn"] == ref("aws_cloudwatch_event_rule", rule, "arn")


def test_remediation_function_environment_and_permissions(home: dict[str, Any]) -> None:
    (function,) = resources(home, "aws_lambda_function").values()
    assert function["runtime"] == "python3.12"
    assert function["reserved_concurrent_executions"] == 2
    env = function["environment"]["variables"]
    assert json.loads(env["RULE_ACTIONS"]) == {
        "security-baseline-required-tags-use1-dev": "required_tags",
        "security-baseline-s3-public-access-use1-dev": "s3_public_access_block",
    }
    # Remediation writes no tag value it was told (docs/decisions/0019-remediation-never-attests.md).
    assert sorted(env) == ["REPORT_TOPIC_ARN", "REQUIRED_TAG_KEYS", "RULE_ACTIONS"]
    assert env["REQUIRED_TAG_KEYS"] == "Environment,CostCenter,Owner,DataClassification,ManagedBy,App"
    policy = only(home, "aws_iam_policy", name="security-baseline-remediation-fn-use1-dev")
    tags = statement(policy, "TagEc2Resources")
    assert tags["Action"] == "ec2:CreateTags"
    assert tags["Resource"] == "arn:aws:ec2:us-east-1:123456789012:*/*"
    # Only the keys the handler may add: never a classification, an owner or a cost center.
    assert tags["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["ManagedBy", "App", "NeedsClassification"]}
    }
    buckets = statement(policy, "FixBuckets")
    assert buckets["Action"] == [
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketTagging",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
    ]
    assert buckets["Resource"] == "arn:aws:s3:::*"
    # Bucket ARNs name no account: the condition keeps the function to this account's buckets.
    assert buckets["Condition"] == {"StringEquals": {"s3:ResourceAccount": "123456789012"}}


def test_the_role_may_write_every_tag_the_handler_adds(home: dict[str, Any]) -> None:
    from platform_tooling.testing.handlers import load_handler

    handler = load_handler(Path(__file__).resolve().parents[2] / "lambdas" / "remediation")
    policy = only(home, "aws_iam_policy", name="security-baseline-remediation-fn-use1-dev")
    allowed = statement(policy, "TagEc2Resources")["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"]
    assert set(handler.KNOWABLE_TAGS)
    assert {*handler.KNOWABLE_TAGS, handler.NEEDS_CLASSIFICATION} == set(allowed)


def test_adopt_mode_creates_no_recorder_but_keeps_rules(adopted: dict[str, dict[str, Any]]) -> None:
    assert len(adopted) == 3  # the platform account's home region and eu-west-1, analytics' us-east-2
    for name, stack in adopted.items():
        for kind in (
            "aws_config_configuration_recorder",
            "aws_config_configuration_recorder_status",
            "aws_config_delivery_channel",
        ):
            assert resources(stack, kind) == {}, (name, kind)
        rules = resources(stack, "aws_config_config_rule")
        assert len(rules) == len(RULES)
        assert all("depends_on" not in r for r in rules.values())
        assert not any("config-snapshots" in b["bucket"] for b in resources(stack, "aws_s3_bucket").values())


def test_compliance_events_the_remediation_function_cannot_handle_are_kept_and_alarmed(home: dict[str, Any]) -> None:
    function = only(home, "aws_lambda_function", function_name="security-baseline-remediation-use1-dev")
    queue = name_of(home, "aws_sqs_queue", name="security-baseline-remediation-dlq-use1-dev")
    # The handler raises on transient errors: two retries, then the queue (with the error record),
    # as on-failure destination only: a dead-letter configuration too would deliver each event twice.
    assert "dead_letter_config" not in function
    invoke = only(home, "aws_lambda_function_event_invoke_config")
    assert invoke["function_name"] == ref("aws_lambda_function", name_of(home, "aws_lambda_function"), "function_name")
    assert (invoke["maximum_retry_attempts"], invoke["maximum_event_age_in_seconds"]) == (2, 21600)
    assert invoke["destination_config"] == {"on_failure": {"destination": ref("aws_sqs_queue", queue, "arn")}}
    policy = only(home, "aws_iam_policy", name="security-baseline-remediation-fn-use1-dev")
    sends = [s for s in json.loads(policy["policy"])["Statement"] if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"] for s in sends] == [ref("aws_sqs_queue", queue, "arn")]
    alarm = only(home, "aws_cloudwatch_metric_alarm", alarm_name="security-baseline-remediation-dlq-use1-dev")
    assert alarm["dimensions"] == {"QueueName": "security-baseline-remediation-dlq-use1-dev"}
    assert alarm["threshold"] == 1
