"""Config rules, critical-event rules to the baseline topic, metric filters and alarms, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pci_platform.security import KEYS
from platform_tooling.testing.query import only, resources

TOPIC = "${data.terraform_remote_state.baseline_state_B1090328.outputs.security_topic_arn}"


def test_security_topic_comes_from_the_baseline_state(stack: dict[str, Any]) -> None:
    (state,) = stack["data"]["terraform_remote_state"].values()
    assert state["backend"] == "local"
    assert state["config"]["path"].endswith(
        ".state/security-baseline/dev/security-baseline-123456789012-ap-southeast-1.tfstate"
    )


@pytest.mark.requirement("PCI-8")
def test_encryption_config_rules(stack: dict[str, Any]) -> None:
    identifiers = sorted(r["source"]["source_identifier"] for r in resources(stack, "aws_config_config_rule").values())
    assert identifiers == sorted(
        [
            "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
            "CMK_BACKING_KEY_ROTATION_ENABLED",
            "LAMBDA_INSIDE_VPC",
            "REQUIRED_TAGS",
            "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
            "S3_BUCKET_SSL_REQUESTS_ONLY",
            "S3_DEFAULT_ENCRYPTION_KMS",
            "SECRETSMANAGER_ROTATION_ENABLED_CHECK",
            "SECRETSMANAGER_USING_CMK",
            "VPC_FLOW_LOGS_ENABLED",
        ]
    )
    assert all(r["source"]["owner"] == "AWS" for r in resources(stack, "aws_config_config_rule").values())


@pytest.mark.requirement("PCI-8")
def test_pci_tag_rule_requires_data_classification_environment_owner(stack: dict[str, Any]) -> None:
    rule = only(stack, "aws_config_config_rule", name="pci-platform-pci-tags-apse1-dev")
    assert json.loads(rule["input_parameters"]) == {
        "tag1Key": "DataClassification",
        "tag1Value": "cardholder,confidential,internal,restricted",  # the platform's, and each key's
        "tag2Key": "Environment",
        "tag2Value": "dev",
        "tag3Key": "Owner",
        "tag3Value": "pci-platform-team",
    }
    assert "AWS::S3::Bucket" in rule["scope"]["compliance_resource_types"]


@pytest.mark.requirement("PCI-8")
def test_critical_events_go_to_the_security_topic(stack: dict[str, Any]) -> None:
    rules = {n: r for n, r in resources(stack, "aws_cloudwatch_event_rule").items() if n.startswith("compliance_")}
    targets = [t for n, t in resources(stack, "aws_cloudwatch_event_target").items() if n.startswith("compliance_")]
    assert len(rules) == 7
    assert len(targets) == 7
    assert all(t["arn"] == TOPIC for t in targets)
    assert sorted(t["rule"].split(".")[1] for t in targets) == sorted(rules)


def pattern(stack: dict[str, Any], name: str) -> dict[str, Any]:
    return json.loads(only(stack, "aws_cloudwatch_event_rule", name=f"pci-platform-{name}-apse1-dev")["event_pattern"])


def test_noncompliance_rule_watches_this_packages_config_rules(stack: dict[str, Any]) -> None:
    found = pattern(stack, "config-noncompliant")
    assert found["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}
    names = sorted(r["name"] for r in resources(stack, "aws_config_config_rule").values())
    assert found["detail"]["configRuleName"] == names


@pytest.mark.parametrize(
    ("name", "source", "event"),
    [
        ("network-changes", "aws.ec2", "AuthorizeSecurityGroupIngress"),
        ("network-changes", "aws.ec2", "CreateInternetGateway"),
        ("firewall-changes", "aws.network-firewall", "UpdateRuleGroup"),
        ("key-tampering", "aws.kms", "ScheduleKeyDeletion"),
        ("storage-tampering", "aws.s3", "DeleteBucketPolicy"),
    ],
)
def test_tampering_rules(stack: dict[str, Any], name: str, source: str, event: str) -> None:
    found = pattern(stack, name)
    assert found["source"] == [source]
    assert event in found["detail"]["eventName"]


def test_rotation_failures_and_access_denied_are_critical(stack: dict[str, Any]) -> None:
    assert pattern(stack, "secret-rotation-failed")["detail"]["eventName"] == ["RotationAbandoned", "RotationFailed"]
    assert "AccessDenied" in pattern(stack, "access-denied")["detail"]["errorCode"]


@pytest.mark.parametrize(
    ("name", "group", "filter_pattern", "threshold"),
    [
        ("firewall-blocked", "/pci-platform/dev/network-firewall/alerts", '{ $.event.alert.action = "blocked" }', 10),
        ("rotation-failed", "/aws/lambda/pci-platform-secret-rotation-apse1-dev", '{ $.level = "ERROR" }', 1),
        (
            "processor-access-denied",
            "/aws/lambda/pci-platform-processor-apse1-dev",
            '{ $.error_code = "AccessDenied" }',
            1,
        ),
    ],
)
def test_metric_filters_and_alarms(
    stack: dict[str, Any], name: str, group: str, filter_pattern: str, threshold: int
) -> None:
    metric_filter = only(stack, "aws_cloudwatch_log_metric_filter", name=f"pci-platform-{name}-apse1-dev")
    assert metric_filter["pattern"] == filter_pattern
    assert metric_filter["log_group_name"].startswith("${aws_cloudwatch_log_group.")
    names = {
        g["name"]
        for n, g in resources(stack, "aws_cloudwatch_log_group").items()
        if n in metric_filter["log_group_name"]
    }
    assert names == {group}
    metric = metric_filter["metric_transformation"]
    assert metric["namespace"] == "PciPlatform/dev"
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"pci-platform-{name}-apse1-dev")
    assert (alarm["metric_name"], alarm["namespace"], alarm["threshold"], alarm["period"]) == (
        metric["name"],
        "PciPlatform/dev",
        threshold,
        300,
    )
    assert alarm["alarm_actions"] == [TOPIC]
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.requirement("PCI-C9")
def test_function_error_alarms(stack: dict[str, Any]) -> None:
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name="pci-platform-secret-rotation-errors-apse1-dev")
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/Lambda", "Errors")
    assert alarm["dimensions"] == {"FunctionName": "pci-platform-secret-rotation-apse1-dev"}


def test_outputs(stack: dict[str, Any]) -> None:
    assert sorted(stack["output"]) == sorted(
        [
            "vpc_id",
            "workload_subnet_ids",
            "firewall_subnet_ids",
            "endpoint_subnet_ids",
            "firewall_arn",
            *(f"{name}_key_arn" for name in KEYS),
            "access_logs_bucket_name",
            "flow_logs_bucket_name",
            "cardholder_bucket_name",
            "processed_bucket_name",
            "processor_function_arn",
            "rotation_function_arn",
            "schema_function_arn",
            "database_secret_arn",
            "cluster_endpoint",
            "cluster_reader_endpoint",
            "proxy_endpoint",
            "alb_dns_name",
            "payment_url",
            "hosted_zone_id",
            "payment_function_arn",
            "transformer_function_arn",
            "payment_queue_url",
            "analytics_queue_url",
            "event_bus_name",
            "ops_topic_arn",
            "delivery_stream_name",
            "transaction_logs_bucket_name",
            "alb_logs_bucket_name",
            "waf_logs_bucket_name",
            "web_acl_arn",
            "batch_group_name",
            "flow_log_group_name",
            "data_bucket_arns",
        ]
    )
    assert stack["output"]["workload_subnet_ids"]["value"].startswith('${join(",", [aws_subnet.network_vpc_workload_')
    assert stack["output"]["firewall_arn"]["value"].startswith("${aws_networkfirewall_firewall.")


@pytest.mark.requirement("PCI-C4", "PCI-C10")
def test_required_tags_on_the_provider(stack: dict[str, Any]) -> None:
    (provider,) = stack["provider"]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert {k: tags[k] for k in ("DataClassification", "Environment", "Owner", "Region")} == {
        "DataClassification": "cardholder",
        "Environment": "dev",
        "Owner": "pci-platform-team",
        "Region": "ap-southeast-1",
    }
    assert provider["region"] == "ap-southeast-1"
