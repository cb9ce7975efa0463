from __future__ import annotations

import re

import pytest
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import BaseSettings
from shared_constructs.tagging import REQUIRED_TAGS, required_tags, tag_values

DEPLOYER = "arn:aws:iam::123456789012:role/deployer"

LONG = "x" * 90


@pytest.mark.requirement("DEP-1", "DEP-9")
@pytest.mark.parametrize(
    ("kind", "resource", "region", "expected"),
    [
        (Kind.S3_BUCKET, "receipts", "eu-west-1", "payments-receipts-euw1-dev"),
        (Kind.LAMBDA, "transactions", None, "payments-transactions-dev"),
        (Kind.KMS_ALIAS, "data", "ap-southeast-1", "alias/payments-data-apse1-dev"),
        (Kind.WAF_LOG_BUCKET, "waf", None, "aws-waf-logs-payments-waf-dev"),
    ],
)
def test_builds_service_resource_region_suffix(kind, resource, region, expected):
    assert Namer("payments", "dev").name(kind, resource, region=region) == expected


@pytest.mark.requirement("DEP-1")
@pytest.mark.parametrize("kind", list(Kind))
def test_long_names_are_shortened_within_the_limit_keeping_the_suffix(kind):
    name = Namer("payments-multiregion", "pr1234").name(kind, LONG, region="ap-southeast-1")
    assert len(name) <= kind.rule.max_len
    assert name.endswith("-pr1234")
    assert re.fullmatch(f"[{kind.rule.allowed}]+", name)


def test_shortening_is_stable_and_distinguishes_names():
    namer = Namer("payments", "dev")
    first = namer.name(Kind.ALB, "transactions-internal-a")
    assert first == namer.name(Kind.ALB, "transactions-internal-a")
    assert first != namer.name(Kind.ALB, "transactions-internal-b")
    assert len(first) == 32


def test_bucket_names_are_lowercase():
    assert Namer("pay", "dev").name(Kind.S3_BUCKET, "Receipts") == "pay-receipts-dev"


@pytest.mark.parametrize(
    ("service", "suffix", "resource", "message"),
    [
        ("Payments", "dev", "x", "service must be"),
        ("payments", "DEV", "x", "suffix must be"),
        ("payments", "dev", "bad_name", "resource part"),
        ("payments", "dev", "", "resource part"),
    ],
)
def test_fails_on_invalid_parts(service, suffix, resource, message):
    with pytest.raises(ValueError, match=message):
        Namer(service, suffix).name(Kind.LAMBDA, resource)


@pytest.mark.requirement("DEP-9")
def test_fails_on_an_unknown_region():
    with pytest.raises(ValueError, match="unknown AWS region 'mars-1'"):
        Namer("pay", "dev").name(Kind.LAMBDA, "fn", region="mars-1")


def test_paths_only_for_path_kinds():
    assert Namer("pay", "dev").path(Kind.SSM_PARAMETER, "db", "url") == "/pay/dev/db/url"
    with pytest.raises(ValueError, match="not paths"):
        Namer("pay", "dev").path(Kind.LAMBDA, "x")


def settings(**extra) -> BaseSettings:
    return BaseSettings(
        environment="dev",
        environment_suffix="dev",
        cost_center="cc",
        owner="team",
        account_id="123456789012",
        deployer_role_arn=DEPLOYER,
        **extra,
    )


@pytest.mark.requirement("DR-C18")
def test_required_tags_cover_the_tag_policy():
    tags = required_tags(settings(extra_tags={"Team": "payments"}), "payments-multiregion", "eu-west-1")
    assert set(REQUIRED_TAGS) | {"Region", "Team"} == set(tags)
    assert tags["App"] == "payments-multiregion"
    assert tags["ManagedBy"] == "cdktf"
    assert tags["Region"] == "eu-west-1"
    assert "Package" not in tags


def test_tag_values_follow_the_required_keys_in_order():
    values = tag_values(settings(), "network-peering", managed_by="manual")
    assert tuple(values) == REQUIRED_TAGS
    assert (values["App"], values["ManagedBy"]) == ("network-peering", "manual")


def test_fails_when_extra_tags_replace_a_required_tag():
    with pytest.raises(ValueError, match="may not replace required tags: Owner"):
        required_tags(settings(extra_tags={"Owner": "someone-else"}), "pkg")
