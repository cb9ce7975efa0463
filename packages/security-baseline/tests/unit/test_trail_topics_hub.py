"""Trail (home region), topics and key policy, critical event rules, Security Hub, published outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref, resources, statement, statements

REGIONS = {"us-east-1": "use1", "us-east-2": "use2", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}
ACCOUNT = PLATFORM = "123456789012"  # the deployer account of config/dev.toml (accounts.platform)


def test_one_stack_per_account_and_region(stacks: dict[str, dict[str, Any]]) -> None:
    assert sorted(stacks) == sorted(
        [*(f"security-baseline-{PLATFORM}-{r}" for r in REGIONS), "security-baseline-210987654321-us-east-2"]
    )
    for region, stack in ((r, stacks[f"security-baseline-{PLATFORM}-{r}"]) for r in REGIONS):
        (provider,) = stack["provider"]["aws"]
        assert provider["region"] == region
        assert provider["default_tags"][0]["tags"]["App"] == "security-baseline"


def test_trail_only_in_each_accounts_home_region(stacks: dict[str, dict[str, Any]]) -> None:
    with_trail = sorted(n for n, s in stacks.items() if resources(s, "aws_cloudtrail"))
    assert with_trail == [f"security-baseline-{PLATFORM}-us-east-1", "security-baseline-210987654321-us-east-2"]


@pytest.mark.requirement("PCI-7")
def test_trail_multi_region_validated_encrypted_to_s3_and_logs(home: dict[str, Any]) -> None:
    trail = only(home, "aws_cloudtrail", name="security-baseline-account-dev")
    key = ref("aws_kms_key", name_of(home, "aws_kms_key"), "arn")
    group = name_of(home, "aws_cloudwatch_log_group", name="/security-baseline/dev/cloudtrail")
    role = name_of(home, "aws_iam_role", name="security-baseline-trail-logs-use1-dev")
    assert trail["is_multi_region_trail"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["include_global_service_events"] is True
    assert trail["kms_key_id"] == key
    assert trail["s3_bucket_name"] == "security-baseline-log-archive-use1-dev"
    assert trail["cloud_watch_logs_group_arn"] == ref("aws_cloudwatch_log_group", group, "arn") + ":*"
    assert trail["cloud_watch_logs_role_arn"] == ref("aws_iam_role", role, "arn")
    attach = name_of(home, "aws_iam_role_policy_attachment", role=ref("aws_iam_role", role, "name"))
    assert f"aws_iam_role_policy_attachment.{attach}" in trail["depends_on"]
    log_group = resources(home, "aws_cloudwatch_log_group")[group]
    assert (log_group["kms_key_id"], log_group["retention_in_days"]) == (key, 365)


def test_archive_bucket_policy_and_key_let_only_this_trail_write(home: dict[str, Any]) -> None:
    bucket = name_of(home, "aws_s3_bucket", bucket="security-baseline-log-archive-use1-dev")
    policy = only(home, "aws_s3_bucket_policy", bucket=ref("aws_s3_bucket", bucket, "id"))
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/security-baseline-account-dev"
    write = statement(policy, "CloudTrailWrite")
    assert write["Resource"] == ref("aws_s3_bucket", bucket, "arn") + f"/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"]["StringEquals"] == {
        "aws:SourceArn": trail_arn,
        "s3:x-amz-acl": "bucket-owner-full-control",
    }
    key = next(iter(resources(home, "aws_kms_key").values()))
    grant = statement(key, "CloudTrailEncryptLogs")
    assert grant["Action"] == "kms:GenerateDataKey"
    assert grant["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
    }
    (rule,) = only(home, "aws_s3_bucket_lifecycle_configuration", bucket=ref("aws_s3_bucket", bucket, "id"))["rule"]
    assert rule["expiration"] == [{"days": 365}]
    assert rule["transition"] == [{"days": 90, "storage_class": "GLACIER_IR"}]


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_topics_encrypted_and_open_to_events_and_alarms_of_this_account(
    stacks: dict[str, dict[str, Any]], region: str
) -> None:
    stack = stacks[f"security-baseline-{PLATFORM}-{region}"]
    key_name = name_of(stack, "aws_kms_key")
    for topic_name in ("security", "compliance"):
        topic = name_of(stack, "aws_sns_topic", name=f"security-baseline-{topic_name}-{REGIONS[region]}-dev")
        assert resources(stack, "aws_sns_topic")[topic]["kms_master_key_id"] == ref("aws_kms_key", key_name, "arn")
        policy = only(stack, "aws_sns_topic_policy", arn=ref("aws_sns_topic", topic, "arn"))
        for sid, service in (
            ("PublishEvents", "events.amazonaws.com"),
            ("PublishCloudwatch", "cloudwatch.amazonaws.com"),
        ):
            found = statement(policy, sid)
            assert found["Principal"] == {"Service": service}
            assert found["Action"] == "sns:Publish"
            assert found["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    key = resources(stack, "aws_kms_key")[key_name]
    assert key["enable_key_rotation"] is True
    for sid, service in (("SnsEvents", "events.amazonaws.com"), ("SnsCloudwatch", "cloudwatch.amazonaws.com")):
        grant = statement(key, sid)
        assert grant["Principal"] == {"Service": service}
        assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_email_subscriptions_from_configuration(home: dict[str, Any]) -> None:
    subscriptions = sorted(
        (s["protocol"], s["endpoint"]) for s in resources(home, "aws_sns_topic_subscription").values()
    )
    assert subscriptions == [("email", "compliance@example.com"), ("email", "security-alerts@example.com")]


@pytest.mark.parametrize(
    ("rule", "pattern"),
    [
        (
            "root-sign-in",
            {"detail": {"userIdentity": {"type": ["Root"]}}, "detail-type": ["AWS Console Sign In via CloudTrail"]},
        ),
        (
            "kms-key-deletion",
            {
                "detail": {"eventName": ["DisableKey", "ScheduleKeyDeletion"], "eventSource": ["kms.amazonaws.com"]},
                "detail-type": ["AWS API Call via CloudTrail"],
                "source": ["aws.kms"],
            },
        ),
    ],
)
def test_critical_event_rule_to_security_topic(home: dict[str, Any], rule: str, pattern: dict[str, Any]) -> None:
    name = name_of(home, "aws_cloudwatch_event_rule", name=f"security-baseline-{rule}-use1-dev")
    assert json.loads(resources(home, "aws_cloudwatch_event_rule")[name]["event_pattern"]) == pattern
    topic = name_of(home, "aws_sns_topic", name="security-baseline-security-use1-dev")
    targets = [t["arn"] for t in resources(home, "aws_cloudwatch_event_target").values() if name in t["rule"]]
    assert targets == [ref("aws_sns_topic", topic, "arn")]


def test_security_hub_enabled_with_three_standards(home: dict[str, Any]) -> None:
    (account,) = resources(home, "aws_securityhub_account").values()
    assert account["enable_default_standards"] is False
    arns = sorted(s["standards_arn"] for s in resources(home, "aws_securityhub_standards_subscription").values())
    assert arns == [
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0",
        "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
        "arn:aws:securityhub:us-east-1::standards/pci-dss/v/4.0.1",
    ]


def test_security_hub_adopted_subscribes_without_enabling(adopted: dict[str, dict[str, Any]]) -> None:
    stack = adopted[f"security-baseline-{PLATFORM}-us-east-1"]
    assert resources(stack, "aws_securityhub_account") == {}
    assert len(resources(stack, "aws_securityhub_standards_subscription")) == 3


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_published_outputs_follow_the_contract(stacks: dict[str, dict[str, Any]], region: str) -> None:
    outputs = stacks[f"security-baseline-{PLATFORM}-{region}"]["output"]
    code = REGIONS[region]
    expected = {f"{n}_{code}" for n in ("security_topic_arn", "compliance_topic_arn", "security_key_arn")} | {
        "security_topic_arn",
        "compliance_topic_arn",
        "security_key_arn",
    }
    if region == "us-east-1":
        expected |= {"log_archive_bucket_name", "trail_log_group_name", "trail_arn"}
    assert expected <= set(outputs)
    stack = stacks[f"security-baseline-{PLATFORM}-{region}"]
    topic = name_of(stack, "aws_sns_topic", name=f"security-baseline-security-{code}-dev")
    assert outputs["security_topic_arn"]["value"] == ref("aws_sns_topic", topic, "arn")
    assert outputs[f"security_topic_arn_{code}"]["value"] == ref("aws_sns_topic", topic, "arn")


def test_no_allow_statement_uses_a_wildcard_action(stacks: dict[str, dict[str, Any]]) -> None:
    policies = [p for stack in stacks.values() for p in resources(stack, "aws_iam_policy").values()]
    assert len(policies) >= len(stacks)  # at least the remediation function's role in every region
    for policy in policies:
        for item in statements(policy):
            actions = item["Action"] if isinstance(item["Action"], list) else [item["Action"]]
            assert not any("*" in a for a in actions if item["Effect"] == "Allow"), policy["name"]


def test_trail_notifies_its_own_deliveries_topic(home: dict[str, Any]) -> None:
    trail = only(home, "aws_cloudtrail", name="security-baseline-account-dev")
    assert trail["sns_topic_name"] == "security-baseline-trail-deliveries-use1-dev"
    topic = name_of(home, "aws_sns_topic", name="security-baseline-trail-deliveries-use1-dev")
    policy = only(home, "aws_sns_topic_policy", arn=ref("aws_sns_topic", topic, "arn"))
    publish = statement(policy, "PublishCloudtrail")
    assert publish["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/security-baseline-account-dev"
    }
    assert (
        f"aws_sns_topic_policy.{name_of(home, 'aws_sns_topic_policy', arn=ref('aws_sns_topic', topic, 'arn'))}"
        in (trail["depends_on"])
    )
