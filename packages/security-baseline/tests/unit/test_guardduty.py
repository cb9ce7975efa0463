"""GuardDuty: detector with six-hour publishing, findings export to a 90-day KMS bucket, adopt mode."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.targets import apply_target
from platform_tooling.testing.emulator_tables import EMULATOR
from platform_tooling.testing.query import name_of, only, ref, resources, statement

PLATFORM = "123456789012"  # the deployer account of config/dev.toml (accounts.platform)
REGIONS = {"us-east-1": "use1", "us-east-2": "use2", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}
ADOPTED = "0123456789abcdef0123456789abcdef"


def findings_bucket(stack: dict[str, Any], code: str) -> str:
    return name_of(stack, "aws_s3_bucket", bucket=f"security-baseline-gd-findings-{code}-dev")


@pytest.mark.requirement("SEC-7")
@pytest.mark.parametrize("region", sorted(REGIONS))
def test_detector_publishes_every_six_hours(stacks: dict[str, dict[str, Any]], region: str) -> None:
    detectors = resources(stacks[f"security-baseline-{PLATFORM}-{region}"], "aws_guardduty_detector")
    assert [(d["enable"], d["finding_publishing_frequency"]) for d in detectors.values()] == [(True, "SIX_HOURS")]


@pytest.mark.requirement("SEC-7")
@pytest.mark.parametrize("region", sorted(REGIONS))
def test_findings_expire_after_90_days(stacks: dict[str, dict[str, Any]], region: str) -> None:
    stack = stacks[f"security-baseline-{PLATFORM}-{region}"]
    bucket = findings_bucket(stack, REGIONS[region])
    lifecycle = only(stack, "aws_s3_bucket_lifecycle_configuration", bucket=ref("aws_s3_bucket", bucket, "id"))
    (rule,) = lifecycle["rule"]
    assert rule["expiration"] == [{"days": 90}]
    assert rule["status"] == "Enabled"


@pytest.mark.requirement("SEC-7")
def test_findings_bucket_encrypted_with_security_key(home: dict[str, Any]) -> None:
    bucket = findings_bucket(home, "use1")
    key = name_of(home, "aws_kms_key")
    encryption = only(
        home, "aws_s3_bucket_server_side_encryption_configuration", bucket=ref("aws_s3_bucket", bucket, "id")
    )
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "kms_master_key_id": ref("aws_kms_key", key, "arn"),
        "sse_algorithm": "aws:kms",
    }


@pytest.mark.requirement("SEC-7")
def test_publishing_destination_to_findings_bucket(home: dict[str, Any]) -> None:
    (destination,) = resources(home, "aws_guardduty_publishing_destination").values()
    detector = name_of(home, "aws_guardduty_detector")
    assert destination["detector_id"] == ref("aws_guardduty_detector", detector, "id")
    assert destination["destination_arn"] == ref("aws_s3_bucket", findings_bucket(home, "use1"), "arn")
    assert destination["kms_key_arn"] == ref("aws_kms_key", name_of(home, "aws_kms_key"), "arn")
    assert destination["destination_type"] == "S3"


def test_bucket_and_key_let_only_this_detector_export(home: dict[str, Any]) -> None:
    bucket = findings_bucket(home, "use1")
    policy = only(home, "aws_s3_bucket_policy", bucket=ref("aws_s3_bucket", bucket, "id"))
    detector_arn = "arn:aws:guardduty:us-east-1:123456789012:detector/" + ref(
        "aws_guardduty_detector", name_of(home, "aws_guardduty_detector"), "id"
    )
    put = statement(policy, "GuardDutyPutFindings")
    assert put["Principal"] == {"Service": "guardduty.amazonaws.com"}
    assert put["Action"] == "s3:PutObject"
    assert put["Condition"]["StringEquals"]["aws:SourceArn"] == detector_arn
    key = next(iter(resources(home, "aws_kms_key").values()))
    grant = statement(key, "GuardDutyEncryptFindings")
    assert grant["Action"] == "kms:GenerateDataKey"
    assert grant["Condition"]["StringEquals"]["aws:SourceArn"] == detector_arn


@pytest.mark.requirement("SEC-7", "SEC-C6")
def test_high_severity_rule_targets_security_topic(home: dict[str, Any]) -> None:
    import json

    rule_name = name_of(home, "aws_cloudwatch_event_rule", name="security-baseline-guardduty-high-use1-dev")
    rule = resources(home, "aws_cloudwatch_event_rule")[rule_name]
    assert json.loads(rule["event_pattern"]) == {
        "detail": {"severity": [{"numeric": [">=", 7.0]}]},
        "detail-type": ["GuardDuty Finding"],
        "source": ["aws.guardduty"],
    }
    topic = name_of(home, "aws_sns_topic", name="security-baseline-security-use1-dev")
    targets = [t for t in resources(home, "aws_cloudwatch_event_target").values() if rule_name in t["rule"]]
    assert [t["arn"] for t in targets] == [ref("aws_sns_topic", topic, "arn")]


@pytest.mark.requirement("SEC-D6", "DEP-3")
def test_adopt_mode_creates_no_detector(adopted: dict[str, dict[str, Any]]) -> None:
    assert len(adopted) == 3  # the platform account's home region and eu-west-1, analytics' us-east-2
    for name, stack in adopted.items():
        assert resources(stack, "aws_guardduty_detector") == {}, name
        (destination,) = resources(stack, "aws_guardduty_publishing_destination").values()
        assert destination["detector_id"] == ADOPTED


def test_emulator_target_drops_only_what_moto_lacks(synth: Any) -> None:
    product = synth("security-baseline").stacks
    emulated = apply_target(EMULATOR, product).stacks
    for name, stack in emulated.items():
        full = {t: len(v) for t, v in product[name]["resource"].items()}
        reduced = {t: len(v) for t, v in stack["resource"].items()}
        missing = {t: n - reduced.get(t, 0) for t, n in full.items() if n != reduced.get(t, 0)}
        assert missing == {
            "aws_guardduty_publishing_destination": 1,
            "aws_securityhub_standards_subscription": len(
                resources(product[name], "aws_securityhub_standards_subscription")
            ),
        }, name
        assert len(resources(stack, "aws_guardduty_detector")) == 1
