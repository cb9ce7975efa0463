"""The deployed baseline on the emulator, checked through cfn-outputs/flat-outputs.json and the AWS APIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern, EventPatternParser
from platform_tooling.testing.emulator import Deployment
from security_baseline.cis_alarms import CIS_CONTROLS
from security_baseline.config_rules import managed_rules
from shared_constructs.regions import short_region

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")
HOME = "us-east-1"


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    """What a test against real AWS would read: the flat outputs file written after deployment."""
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def out(outputs: dict[str, Any], name: str, region: str) -> str:
    return str(outputs[f"{name}_{short_region(region)}"])


def test_outputs_cover_every_region_and_the_home_parts(outputs: dict[str, Any]) -> None:
    for region in REGIONS:
        for name in ("security_topic_arn", "compliance_topic_arn", "security_key_arn", "findings_bucket_name"):
            assert out(outputs, name, region), f"{name} missing for {region}"
        assert f":{region}:" in out(outputs, "security_topic_arn", region)
    assert outputs["trail_arn"].startswith(f"arn:aws:cloudtrail:{HOME}:")
    assert outputs["trail_log_group_name"] == "/security-baseline/dev/cloudtrail"
    assert outputs["log_archive_bucket_name"] == "security-baseline-log-archive-use1-dev"


@pytest.mark.parametrize("region", REGIONS)
def test_topics_are_encrypted_with_the_regional_key(
    deployment: Deployment, outputs: dict[str, Any], region: str
) -> None:
    sns = deployment.client("sns", region)
    key = out(outputs, "security_key_arn", region)
    for name in ("security_topic_arn", "compliance_topic_arn"):
        attributes = sns.get_topic_attributes(TopicArn=out(outputs, name, region))["Attributes"]
        assert attributes["KmsMasterKeyId"] == key
        services = {
            s["Principal"].get("Service") for s in json.loads(attributes["Policy"])["Statement"] if "Principal" in s
        }
        assert {"events.amazonaws.com", "cloudwatch.amazonaws.com"} <= services
    keys = deployment.client("kms", region)
    assert keys.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True


@pytest.mark.parametrize("region", REGIONS)
def test_findings_bucket_encrypted_private_and_expiring(
    deployment: Deployment, outputs: dict[str, Any], region: str
) -> None:
    s3 = deployment.client("s3", region)
    bucket = out(outputs, "findings_bucket_name", region)
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": out(outputs, "security_key_arn", region),
    }
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert len(block) == 4
    assert all(block.values())
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["Expiration"]["Days"] for r in rules if "Expiration" in r] == [90]


@pytest.mark.parametrize("region", REGIONS)
def test_config_snapshots_bucket_versioned_and_encrypted(
    deployment: Deployment, outputs: dict[str, Any], region: str
) -> None:
    s3 = deployment.client("s3", region)
    bucket = out(outputs, "config_bucket_name", region)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


@pytest.mark.parametrize("region", REGIONS)
def test_guardduty_detector_publishes_every_six_hours(deployment: Deployment, region: str) -> None:
    guardduty = deployment.client("guardduty", region)
    (detector,) = guardduty.list_detectors()["DetectorIds"]
    found = guardduty.get_detector(DetectorId=detector)
    assert found["Status"] == "ENABLED"
    assert found["FindingPublishingFrequency"] == "SIX_HOURS"
    plans = {f["Name"]: f["Status"] for f in found["Features"]}
    assert plans == dict.fromkeys(
        (
            "S3_DATA_EVENTS",
            "EKS_AUDIT_LOGS",
            "RUNTIME_MONITORING",
            "EBS_MALWARE_PROTECTION",
            "RDS_LOGIN_EVENTS",
            "LAMBDA_NETWORK_LOGS",
        ),
        "ENABLED",
    )


@pytest.mark.parametrize("region", REGIONS)
def test_config_recorder_records_everything_globals_at_home_only(deployment: Deployment, region: str) -> None:
    config = deployment.client("config", region)
    (recorder,) = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["recordingGroup"]["allSupported"] is True
    assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is (region == HOME)
    assert recorder["roleARN"].endswith(f"security-baseline-config-recorder-{short_region(region)}-dev")
    (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True
    # Other packages add their own rules to the same account; count only this package's.
    rules = {
        r["Source"]["SourceIdentifier"]
        for r in config.describe_config_rules()["ConfigRules"]
        if r["ConfigRuleName"].startswith("security-baseline-")
    }
    assert rules == {r.identifier for r in managed_rules()}


@pytest.mark.parametrize("region", REGIONS)
def test_event_rules_route_to_the_topics(deployment: Deployment, outputs: dict[str, Any], region: str) -> None:
    events = deployment.client("events", region)
    code = short_region(region)
    names = sorted(r["Name"] for r in events.list_rules(NamePrefix="security-baseline-")["Rules"])
    expected = ["config-noncompliant", "guardduty-high", "kms-key-deletion", "root-sign-in", "securityhub-critical"]
    assert names == [f"security-baseline-{n}-{code}-dev" for n in expected]
    security = out(outputs, "security_topic_arn", region)
    config_rule = f"security-baseline-config-noncompliant-{code}-dev"
    for name in names:
        targets = {t["Arn"] for t in events.list_targets_by_rule(Rule=name)["Targets"]}
        # Compliance results never page the security team; everything else does.
        assert (security in targets) is (name != config_rule), name
    config_targets = {t["Arn"] for t in events.list_targets_by_rule(Rule=config_rule)["Targets"]}
    assert out(outputs, "compliance_topic_arn", region) in config_targets
    assert any(":function:security-baseline-remediation-" in arn for arn in config_targets)


def guardduty_finding(severity: float) -> dict[str, Any]:
    return {
        "id": "1",
        "source": "aws.guardduty",
        "detail-type": "GuardDuty Finding",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": HOME,
        "resources": [],
        "detail": {"severity": severity},
    }


def matches(pattern: str, event: dict[str, Any]) -> bool:
    """Match ``event`` with the rule matcher moto's event bus uses (its TestEventPattern is a stub)."""
    return bool(EventPattern(pattern, EventPatternParser(pattern).parse()).matches_event(event))


def test_guardduty_rule_matches_high_severity_only(deployment: Deployment) -> None:
    events = deployment.client("events", HOME)
    pattern = events.describe_rule(Name="security-baseline-guardduty-high-use1-dev")["EventPattern"]
    assert matches(pattern, guardduty_finding(8.0)) is True
    assert matches(pattern, guardduty_finding(7.0)) is True
    assert matches(pattern, guardduty_finding(5.5)) is False


def test_config_rule_matches_non_compliance_only(deployment: Deployment) -> None:
    events = deployment.client("events", HOME)
    pattern = events.describe_rule(Name="security-baseline-config-noncompliant-use1-dev")["EventPattern"]

    def change(compliance: str) -> dict[str, Any]:
        return {
            "source": "aws.config",
            "detail-type": "Config Rules Compliance Change",
            "detail": {
                "messageType": "ComplianceChangeNotification",
                "newEvaluationResult": {"complianceType": compliance},
            },
        }

    assert matches(pattern, change("NON_COMPLIANT")) is True
    assert matches(pattern, change("COMPLIANT")) is False


def test_replan_after_apply_shows_no_drift(deployment: Deployment) -> None:
    assert deployment.drift == []


def test_security_topic_delivers_to_a_test_subscription(deployment: Deployment, outputs: dict[str, Any]) -> None:
    sns = deployment.client("sns", HOME)
    sqs = deployment.client("sqs", HOME)
    queue = sqs.create_queue(QueueName="security-baseline-it-inbox")["QueueUrl"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = out(outputs, "security_topic_arn", HOME)
        subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)
        sns.publish(TopicArn=topic, Message="integration check")
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
        assert json.loads(messages[0]["Body"])["Message"] == "integration check"
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    finally:
        sqs.delete_queue(QueueUrl=queue)


def test_trail_is_multi_region_validated_encrypted(deployment: Deployment, outputs: dict[str, Any]) -> None:
    cloudtrail = deployment.client("cloudtrail", HOME)
    (trail,) = cloudtrail.describe_trails(trailNameList=[outputs["trail_arn"]])["trailList"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["KmsKeyId"] == out(outputs, "security_key_arn", HOME)
    assert trail["S3BucketName"] == outputs["log_archive_bucket_name"]
    assert outputs["trail_log_group_name"] in trail["CloudWatchLogsLogGroupArn"]
    assert cloudtrail.get_trail_status(Name=outputs["trail_arn"])["IsLogging"] is True


def test_cis_metric_filters_and_alarms(deployment: Deployment, outputs: dict[str, Any]) -> None:
    logs = deployment.client("logs", HOME)
    group = outputs["trail_log_group_name"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["kmsKeyId"] == out(
        outputs, "security_key_arn", HOME
    )
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert sorted(f["filterPattern"] for f in filters) == sorted(c.pattern for c in CIS_CONTROLS)
    cloudwatch = deployment.client("cloudwatch", HOME)
    # One alarm per CIS metric filter (the package's other alarms, such as the remediation
    # function's dead-letter queue, watch other metrics).
    metrics = {t["metricName"] for f in filters for t in f["metricTransformations"]}
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix="security-baseline-")["MetricAlarms"]
    cis = [a for a in alarms if a["MetricName"] in metrics]
    assert len(cis) == len(CIS_CONTROLS)
    assert {tuple(a["AlarmActions"]) for a in cis} == {(out(outputs, "security_topic_arn", HOME),)}


@pytest.mark.parametrize("region", REGIONS)
def test_remediation_function_configured(deployment: Deployment, outputs: dict[str, Any], region: str) -> None:
    lambdas = deployment.client("lambda", region)
    config = lambdas.get_function_configuration(FunctionName=out(outputs, "remediation_function_name", region))
    assert config["Runtime"] == "python3.12"
    variables = config["Environment"]["Variables"]
    assert variables["REPORT_TOPIC_ARN"] == out(outputs, "compliance_topic_arn", region)
    assert json.loads(variables["RULE_ACTIONS"]) == {
        f"security-baseline-required-tags-{short_region(region)}-dev": "required_tags",
        f"security-baseline-s3-public-access-{short_region(region)}-dev": "s3_public_access_block",
    }
