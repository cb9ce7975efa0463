"""Accounts: one stack per account and region, each provider limited to its account, state keyed by
account; organizations mode as synthesized for AWS (the emulator never runs it: moto lacks it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import name_of, only, ref, resources

PACKAGE = "security-baseline"
PLATFORM = "123456789012"
ANALYTICS = "210987654321"
ANALYTICS_HOME = f"{PACKAGE}-{ANALYTICS}-us-east-2"
ANALYTICS_ROLE = "arn:aws:iam::210987654321:role/security-baseline-deployer"
ORGANIZATION = {
    # Analytics also in us-east-1 (its home then), so the administrator aggregates a second region.
    "accounts": {"analytics": {"regions": ["us-east-1", "us-east-2"]}},
    "organization": {"enabled": True, "management_account": "platform", "delegated_admin_account": "analytics"},
}


@pytest.fixture(scope="module")
def organization(synth: Callable[..., SynthResult]) -> SynthResult:
    """dev.toml in organizations mode: platform is the management account, analytics administers."""
    return synth(PACKAGE, overrides=ORGANIZATION)


@pytest.mark.requirement("SEC-7", "SEC-9")
def test_every_provider_is_limited_to_the_account_its_stack_is_named_after(stacks: dict[str, dict[str, Any]]) -> None:
    assert len(stacks) == 5
    for name, stack in stacks.items():
        account = name.removeprefix(f"{PACKAGE}-").split("-")[0]
        (provider,) = stack["provider"]["aws"]
        assert provider["allowed_account_ids"] == [account], name
        if account == ANALYTICS:
            assert provider["assume_role"] == [{"role_arn": ANALYTICS_ROLE}]
        else:
            assert account == PLATFORM
            assert "assume_role" not in provider, name


def test_state_key_names_the_account(stacks: dict[str, dict[str, Any]]) -> None:
    path = stacks[ANALYTICS_HOME]["terraform"]["backend"]["local"]["path"]
    assert path.endswith(f"/.state/security-baseline/dev/security-baseline-{ANALYTICS}-us-east-2.tfstate")


@pytest.mark.requirement("SEC-7", "SEC-9")
def test_the_analytics_account_gets_guardduty_config_and_a_trail(stacks: dict[str, dict[str, Any]]) -> None:
    stack = stacks[ANALYTICS_HOME]
    for kind in (
        "aws_guardduty_detector",
        "aws_config_configuration_recorder",
        "aws_config_delivery_channel",
        "aws_config_configuration_recorder_status",
        "aws_cloudtrail",
    ):
        assert len(resources(stack, kind)) == 1, kind
    recorder = only(stack, "aws_config_configuration_recorder")
    # Its home region records the account's global resources (IAM).
    assert recorder["recording_group"]["include_global_resource_types"] is True


def test_names_and_outputs_of_another_account_carry_its_label(stacks: dict[str, dict[str, Any]]) -> None:
    """Bucket names are global and flat-outputs.json is one object: the platform and analytics
    stacks in us-east-2 must not share either."""
    names = {
        stack: sorted(b["bucket"] for b in resources(stacks[stack], "aws_s3_bucket").values())
        for stack in (ANALYTICS_HOME, f"{PACKAGE}-{PLATFORM}-us-east-2")
    }
    assert names[ANALYTICS_HOME]
    assert all(n.startswith("baseline-analytics-") for n in names[ANALYTICS_HOME])
    assert not set(names[ANALYTICS_HOME]) & set(names[f"{PACKAGE}-{PLATFORM}-us-east-2"])
    outputs = stacks[ANALYTICS_HOME]["output"]
    assert {"security_topic_arn_use2_analytics", "trail_arn_analytics", "security_topic_arn"} <= set(outputs)
    everywhere = [name for stack in stacks.values() for name in stack["output"] if name != "security_topic_arn"]
    suffixed = [n for n in everywhere if n not in ("compliance_topic_arn", "security_key_arn")]
    assert len(suffixed) == len(set(suffixed))


def test_organizations_mode_is_off_by_default(stacks: dict[str, dict[str, Any]]) -> None:
    for kind in (
        "aws_guardduty_organization_admin_account",
        "aws_securityhub_organization_admin_account",
        "aws_guardduty_organization_configuration",
        "aws_config_configuration_aggregator",
    ):
        assert not any(resources(s, kind) for s in stacks.values()), kind
    assert not any(
        t.get("is_organization_trail") for s in stacks.values() for t in resources(s, "aws_cloudtrail").values()
    )


@pytest.mark.requirement("SEC-7")
def test_the_management_account_delegates_guardduty_and_security_hub_in_every_region(
    organization: SynthResult,
) -> None:
    for region in ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1"):
        stack = organization.stacks[f"{PACKAGE}-{PLATFORM}-{region}"]
        assert only(stack, "aws_guardduty_organization_admin_account")["admin_account_id"] == ANALYTICS
        hub = only(stack, "aws_securityhub_organization_admin_account")
        assert hub["admin_account_id"] == ANALYTICS
        (hub_account,) = resources(stack, "aws_securityhub_account")
        assert hub["depends_on"] == [f"aws_securityhub_account.{hub_account}"]


@pytest.mark.requirement("SEC-7")
def test_the_administrator_enables_members_and_aggregates_at_home(organization: SynthResult) -> None:
    home, other = (organization.stacks[f"{PACKAGE}-{ANALYTICS}-{r}"] for r in ("us-east-1", "us-east-2"))
    for stack in (home, other):
        guardduty = only(stack, "aws_guardduty_organization_configuration")
        assert guardduty["auto_enable_organization_members"] == "ALL"
        assert guardduty["detector_id"] == ref(
            "aws_guardduty_detector", next(iter(resources(stack, "aws_guardduty_detector"))), "id"
        )
        assert only(stack, "aws_securityhub_organization_configuration")["auto_enable"] is True
    finding = only(home, "aws_securityhub_finding_aggregator")
    assert (finding["linking_mode"], finding["specified_regions"]) == ("SPECIFIED_REGIONS", ["us-east-2"])
    aggregator = only(home, "aws_config_configuration_aggregator")
    source = aggregator["organization_aggregation_source"]
    assert source["all_regions"] is True
    role = name_of(home, "aws_iam_role", name="baseline-analytics-config-aggregator-dev")
    assert source["role_arn"] == ref("aws_iam_role", role, "arn")
    trust = json.loads(resources(home, "aws_iam_role")[role]["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "config.amazonaws.com"}
    (attachment,) = [
        a
        for a in resources(home, "aws_iam_role_policy_attachment").values()
        if "AWSConfigRoleForOrganizations" in a["policy_arn"]
    ]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
    for kind in ("aws_securityhub_finding_aggregator", "aws_config_configuration_aggregator"):
        assert resources(other, kind) == {}, kind


def test_the_administrators_stacks_follow_the_management_accounts(organization: SynthResult) -> None:
    manifest = json.loads((organization.outdir / "manifest.json").read_text())
    for region in ("us-east-1", "us-east-2"):
        admin = manifest["stacks"][f"{PACKAGE}-{ANALYTICS}-{region}"]
        assert admin["dependencies"] == [f"{PACKAGE}-{PLATFORM}-{region}"]
    assert manifest["stacks"][f"{PACKAGE}-{PLATFORM}-us-east-1"].get("dependencies", []) == []


def test_the_management_accounts_trail_is_the_organization_trail(organization: SynthResult) -> None:
    stack = organization.stacks[f"{PACKAGE}-{PLATFORM}-us-east-1"]
    assert only(stack, "aws_cloudtrail")["is_organization_trail"] is True
    org_id = "${data.aws_organizations_organization.organization.id}"
    (policy,) = [p for name, p in resources(stack, "aws_s3_bucket_policy").items() if name.startswith("trail_archive")]
    (write,) = [s for s in json.loads(policy["policy"])["Statement"] if s["Sid"] == "CloudTrailWrite"]
    archive = ref("aws_s3_bucket", "trail_archive_bucket_003F3B0E", "arn")
    assert write["Resource"] == [f"{archive}/AWSLogs/{PLATFORM}/*", f"{archive}/AWSLogs/{org_id}/*"]
    analytics_trail = only(organization.stacks[f"{PACKAGE}-{ANALYTICS}-us-east-1"], "aws_cloudtrail")
    assert analytics_trail["is_organization_trail"] is False
