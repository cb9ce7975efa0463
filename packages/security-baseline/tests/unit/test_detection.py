"""Detection (issue 15 point 5): GuardDuty protection plans, the newest Security Hub standards,
critical findings routed to the security topic, compliance results kept off it, and CloudTrail
data events on the data buckets other apps publish."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import name_of, only, ref, resources, statement

PACKAGE = "security-baseline"
PLATFORM = "123456789012"
"""dev.toml's account_id (``accounts.platform``): every region; the data producers deploy here."""
ANALYTICS = "210987654321"
"""dev.toml's ``accounts.analytics``: us-east-2 only, names ``baseline-analytics-...``."""
REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")
PLACES = [*((PLATFORM, r) for r in REGIONS), (ANALYTICS, "us-east-2")]
"""Every account and region of dev.toml: each gets the detection."""
PREFIX = {PLATFORM: PACKAGE, ANALYTICS: "baseline-analytics"}
CODE = {"us-east-1": "use1", "us-east-2": "use2", "eu-west-1": "euw1", "ap-southeast-1": "apse1"}
PLANS = {
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "RUNTIME_MONITORING",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
}
DATA_EVENTS = f"{PACKAGE}-{PLATFORM}-data-events"


def features(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in resources(stack, "aws_guardduty_detector_feature").values()}


@pytest.mark.requirement("SEC-7")
@pytest.mark.parametrize(("account", "region"), PLACES)
def test_every_protection_plan_is_on_for_the_created_detector(
    stacks: dict[str, dict[str, Any]], account: str, region: str
) -> None:
    stack = stacks[f"{PACKAGE}-{account}-{region}"]
    found = features(stack)
    assert set(found) == PLANS
    detector = ref("aws_guardduty_detector", name_of(stack, "aws_guardduty_detector"), "id")
    assert {(f["detector_id"], f["status"]) for f in found.values()} == {(detector, "ENABLED")}
    runtime = found["RUNTIME_MONITORING"]["additional_configuration"]
    assert sorted((c["name"], c["status"]) for c in runtime) == [
        ("EC2_AGENT_MANAGEMENT", "ENABLED"),
        ("ECS_FARGATE_AGENT_MANAGEMENT", "ENABLED"),
        ("EKS_ADDON_MANAGEMENT", "ENABLED"),
    ]
    assert all("additional_configuration" not in f for n, f in found.items() if n != "RUNTIME_MONITORING")


@pytest.mark.requirement("SEC-7")
def test_a_plan_switched_off_is_written_disabled(synth: Callable[..., SynthResult]) -> None:
    overrides = {
        "regions": ["us-east-1"],
        "trail": {"data_events_from": []},
        "regional": {"guardduty": {"protection": {"runtime": False, "malware": False}}},
    }
    found = features(synth(PACKAGE, overrides=overrides).stacks[f"{PACKAGE}-{PLATFORM}-us-east-1"])
    assert {n: f["status"] for n, f in found.items()} == {
        **dict.fromkeys(PLANS, "ENABLED"),
        "RUNTIME_MONITORING": "DISABLED",
        "EBS_MALWARE_PROTECTION": "DISABLED",
    }
    agents = found["RUNTIME_MONITORING"]["additional_configuration"]
    assert {c["status"] for c in agents} == {"DISABLED"}


@pytest.mark.requirement("SEC-D6")
def test_an_adopted_detector_keeps_its_owners_plans(adopted: dict[str, dict[str, Any]]) -> None:
    assert adopted
    for name, stack in adopted.items():
        assert resources(stack, "aws_guardduty_detector_feature") == {}, name


def rule_targets(stack: dict[str, Any], rule: str) -> list[str]:
    return sorted(t["arn"] for t in resources(stack, "aws_cloudwatch_event_target").values() if rule in t["rule"])


@pytest.mark.requirement("PCI-8")
@pytest.mark.parametrize(("account", "region"), PLACES)
def test_critical_security_hub_findings_go_to_the_security_topic(
    stacks: dict[str, dict[str, Any]], account: str, region: str
) -> None:
    stack = stacks[f"{PACKAGE}-{account}-{region}"]
    prefix, code = PREFIX[account], CODE[region]
    rule = name_of(stack, "aws_cloudwatch_event_rule", name=f"{prefix}-securityhub-critical-{code}-dev")
    pattern = json.loads(resources(stack, "aws_cloudwatch_event_rule")[rule]["event_pattern"])
    assert pattern == {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {
            "findings": {
                "Severity": {"Label": ["CRITICAL", "HIGH"]},
                "Workflow": {"Status": ["NEW"]},
                "RecordState": ["ACTIVE"],
                "ProductName": [{"anything-but": ["GuardDuty"]}],
            }
        },
    }
    topic = name_of(stack, "aws_sns_topic", name=f"{prefix}-security-{code}-dev")
    assert rule_targets(stack, rule) == [ref("aws_sns_topic", topic, "arn")]


def test_no_security_hub_rule_where_security_hub_is_off(synth: Callable[..., SynthResult]) -> None:
    overrides = {
        "regions": ["us-east-1"],
        "trail": {"data_events_from": []},
        "regional": {"security_hub": {"mode": "off"}},
    }
    stack = synth(PACKAGE, overrides=overrides).stacks[f"{PACKAGE}-{PLATFORM}-us-east-1"]
    names = [r["name"] for r in resources(stack, "aws_cloudwatch_event_rule").values()]
    assert "security-baseline-guardduty-high-use1-dev" in names
    assert not [n for n in names if "securityhub" in n]


@pytest.mark.requirement("PCI-8", "SEC-9")
@pytest.mark.parametrize(("account", "region"), PLACES)
def test_compliance_results_never_reach_the_security_topic(
    stacks: dict[str, dict[str, Any]], account: str, region: str
) -> None:
    stack = stacks[f"{PACKAGE}-{account}-{region}"]
    security = ref(
        "aws_sns_topic", name_of(stack, "aws_sns_topic", name=f"{PREFIX[account]}-security-{CODE[region]}-dev"), "arn"
    )
    rules = resources(stack, "aws_cloudwatch_event_rule")
    routed = {
        t["rule"].split(".")[1]
        for t in resources(stack, "aws_cloudwatch_event_target").values()
        if t["arn"] == security
    }
    sources = sorted(json.loads(rules[r]["event_pattern"]).get("source", ["(any)"])[0] for r in routed)
    # root sign-in matches on detail-type only: its events come from the sign-in service.
    assert sources == ["(any)", "aws.guardduty", "aws.kms", "aws.securityhub"]


@pytest.mark.requirement("PCI-8")
def test_newest_standards_in_every_region(stacks: dict[str, dict[str, Any]]) -> None:
    for account, region in PLACES:
        stack = stacks[f"{PACKAGE}-{account}-{region}"]
        arns = sorted(s["standards_arn"] for s in resources(stack, "aws_securityhub_standards_subscription").values())
        assert arns == [
            f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
            f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
            f"arn:aws:securityhub:{region}::standards/pci-dss/v/4.0.1",
        ], region


@pytest.fixture(scope="module")
def data_events(synth: Callable[..., SynthResult]) -> dict[str, Any]:
    """dev.toml with the data-events trail over pci-platform's buckets (prod's default)."""
    overrides = {"regions": ["us-east-1"], "trail": {"data_events_from": ["pci-platform"]}}
    return synth(PACKAGE, overrides=overrides).stacks[DATA_EVENTS]


def test_the_sandbox_has_no_data_events_stack(stacks: dict[str, dict[str, Any]]) -> None:
    assert sorted(stacks) == sorted(f"{PACKAGE}-{account}-{region}" for account, region in PLACES)


def test_data_events_live_in_the_producers_account_and_its_home_region(data_events: dict[str, Any]) -> None:
    (provider,) = data_events["provider"]["aws"]
    assert provider["region"] == "us-east-1"
    assert provider["allowed_account_ids"] == [PLATFORM]
    assert "assume_role" not in provider
    path = data_events["terraform"]["backend"]["local"]["path"]
    assert path.endswith(f"/.state/security-baseline/dev/{DATA_EVENTS}.tfstate")


@pytest.mark.requirement("PCI-7")
def test_data_events_read_the_buckets_pci_platform_publishes(data_events: dict[str, Any]) -> None:
    ((source_name, source),) = data_events["data"]["terraform_remote_state"].items()
    assert source["backend"] == "local"
    assert source["config"]["path"].endswith("/.state/pci-platform/dev/pci-platform.tfstate")
    trail = only(data_events, "aws_cloudtrail", name="security-baseline-data-events-dev")
    (selector,) = trail["advanced_event_selector"]
    fields = {f["field"]: f for f in selector["field_selector"]}
    assert sorted(fields) == ["eventCategory", "resources.ARN", "resources.type"]
    assert fields["eventCategory"]["equals"] == ["Data"]
    assert fields["resources.type"]["equals"] == ["AWS::S3::Object"]
    # Every object of each published bucket: the ARNs come from pci-platform's state, not from here.
    assert fields["resources.ARN"]["starts_with"] == (
        f'${{formatlist("%s/", data.terraform_remote_state.{source_name}.outputs.data_bucket_arns)}}'
    )
    assert "equals" not in fields["resources.ARN"]


@pytest.mark.requirement("PCI-7")
def test_data_events_trail_covers_every_region_validated_and_encrypted(data_events: dict[str, Any]) -> None:
    trail = only(data_events, "aws_cloudtrail", name="security-baseline-data-events-dev")
    assert trail["is_multi_region_trail"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["kms_key_id"] == ref("aws_kms_key", name_of(data_events, "aws_kms_key"), "arn")
    bucket = name_of(data_events, "aws_s3_bucket", bucket="security-baseline-data-events-use1-dev")
    assert trail["s3_bucket_name"] == "security-baseline-data-events-use1-dev"
    policy = only(data_events, "aws_s3_bucket_policy", bucket=ref("aws_s3_bucket", bucket, "id"))
    write = statement(policy, "CloudTrailWrite")
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{PLATFORM}:trail/"
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn + "security-baseline-data-events-dev"


def test_prod_logs_data_events_of_every_data_producer(synth: Callable[..., SynthResult]) -> None:
    stacks = synth("security-baseline", environment="prod").stacks
    assert [n for n in stacks if n.endswith("-data-events")] == [f"{PACKAGE}-111122223333-data-events"]
    sources = stacks[f"{PACKAGE}-111122223333-data-events"]["data"]["terraform_remote_state"].values()
    assert [s["config"]["key"] if "key" in s["config"] else s["config"]["path"] for s in sources]
    assert all("pci-platform/prod/pci-platform.tfstate" in json.dumps(s["config"]) for s in sources)
