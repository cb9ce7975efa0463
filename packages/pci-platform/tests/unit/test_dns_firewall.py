"""Route 53 Resolver DNS Firewall on the VPC: an allow-list of the platform's names, a block for the rest."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import only, resources

REGION = "ap-southeast-1"
ALLOWED = sorted(
    [
        # The AWS endpoints the functions and hosts call (the same list the TLS-SNI rule allows).
        *(
            f"{api}.{REGION}.amazonaws.com"
            for api in (
                "ec2",
                "events",
                "firehose",
                "kms",
                "logs",
                "monitoring",
                "secretsmanager",
                "sqs",
                "sts",
                "xray",
            )
        ),
        f"s3.{REGION}.amazonaws.com",  # the processor, through the gateway endpoint
        f"*.s3.{REGION}.amazonaws.com",  # virtual-hosted bucket names
        f"*.{REGION}.rds.amazonaws.com",  # cluster and proxy endpoints
        f"al2023-repos-{REGION}-de612dc2.s3.dualstack.{REGION}.amazonaws.com",  # the batch hosts' packages
        "pci.internal",  # the private zone
        "*.pci.internal",
    ]
)


def ref_id(type_: str, stack: dict[str, Any], prefix: str) -> str:
    (name,) = [n for n in resources(stack, type_) if n.startswith(prefix)]
    return f"${{{type_}.{name}.id}}"


@pytest.mark.requirement("PCI-2")
def test_the_rule_group_allows_the_platforms_names_then_blocks_everything_else(stack: dict[str, Any]) -> None:
    lists = {d["name"]: d for d in resources(stack, "aws_route53_resolver_firewall_domain_list").values()}
    assert sorted(lists["pci-platform-dns-allowed-apse1-dev"]["domains"]) == ALLOWED
    assert lists["pci-platform-dns-everything-apse1-dev"]["domains"] == ["*"]
    rules = sorted(resources(stack, "aws_route53_resolver_firewall_rule").values(), key=lambda r: r["priority"])
    assert [(r["priority"], r["action"]) for r in rules] == [(100, "ALLOW"), (200, "BLOCK")]
    allow, block = rules
    assert allow["firewall_domain_list_id"] == ref_id(
        "aws_route53_resolver_firewall_domain_list", stack, "dns_firewall_allowed_"
    )
    assert block["firewall_domain_list_id"] == ref_id(
        "aws_route53_resolver_firewall_domain_list", stack, "dns_firewall_everything_"
    )
    assert block["block_response"] == "NXDOMAIN"
    group = ref_id("aws_route53_resolver_firewall_rule_group", stack, "dns_firewall_rules_")
    assert {r["firewall_rule_group_id"] for r in rules} == {group}


@pytest.mark.requirement("PCI-2")
def test_the_rule_group_guards_the_vpc_and_fails_closed(stack: dict[str, Any]) -> None:
    (association,) = resources(stack, "aws_route53_resolver_firewall_rule_group_association").values()
    (vpc,) = resources(stack, "aws_vpc")
    assert association["vpc_id"] == f"${{aws_vpc.{vpc}.id}}"
    assert association["firewall_rule_group_id"] == ref_id(
        "aws_route53_resolver_firewall_rule_group", stack, "dns_firewall_rules_"
    )
    assert 100 < association["priority"] < 9900  # AWS reserves the bounds
    assert association["mutation_protection"] == "ENABLED"
    (config,) = resources(stack, "aws_route53_resolver_firewall_config").values()
    assert (config["resource_id"], config["firewall_fail_open"]) == (f"${{aws_vpc.{vpc}.id}}", "DISABLED")


@pytest.mark.requirement("PCI-C9")
def test_every_query_is_logged_to_a_log_group_encrypted_with_the_logs_key(stack: dict[str, Any]) -> None:
    group = only(stack, "aws_cloudwatch_log_group", name="/pci-platform/dev/dns-queries")
    assert group["kms_key_id"].startswith("${aws_kms_key.keys_logs_key_")
    (config,) = resources(stack, "aws_route53_resolver_query_log_config").values()
    (group_name,) = [n for n, g in resources(stack, "aws_cloudwatch_log_group").items() if g is group]
    assert config["destination_arn"] == f"${{aws_cloudwatch_log_group.{group_name}.arn}}"
    (association,) = resources(stack, "aws_route53_resolver_query_log_config_association").values()
    (vpc,) = resources(stack, "aws_vpc")
    assert association["resource_id"] == f"${{aws_vpc.{vpc}.id}}"
    assert association["resolver_query_log_config_id"] == ref_id(
        "aws_route53_resolver_query_log_config", stack, "dns_firewall_query_log_config_"
    )


def test_blocked_queries_raise_an_alarm(stack: dict[str, Any]) -> None:
    filters = [
        f
        for f in resources(stack, "aws_cloudwatch_log_metric_filter").values()
        if f["log_group_name"].endswith("dns-queries") or "dns_firewall_query_logs" in f["log_group_name"]
    ]
    assert len(filters) == 1
    assert filters[0]["pattern"] == '{ $.firewall_rule_action = "BLOCK" }'
