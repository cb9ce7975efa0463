"""Network Firewall: allowed domains, strict order, default drop, logging; emulator exclusion."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.targets import apply_target
from platform_tooling.testing.emulator_tables import EMULATOR
from platform_tooling.testing.query import only, resources

DOMAINS = [
    "ec2.ap-southeast-1.amazonaws.com",
    "events.ap-southeast-1.amazonaws.com",
    "firehose.ap-southeast-1.amazonaws.com",
    "kms.ap-southeast-1.amazonaws.com",
    "logs.ap-southeast-1.amazonaws.com",
    "monitoring.ap-southeast-1.amazonaws.com",
    "secretsmanager.ap-southeast-1.amazonaws.com",
    "sqs.ap-southeast-1.amazonaws.com",
    "sts.ap-southeast-1.amazonaws.com",
    "xray.ap-southeast-1.amazonaws.com",
]
FIREWALL_TYPES = [
    "aws_networkfirewall_firewall",
    "aws_networkfirewall_firewall_policy",
    "aws_networkfirewall_rule_group",
]


@pytest.mark.requirement("PCI-2")
def test_allow_list_passes_tls_to_the_listed_aws_endpoints_only(stack: dict[str, Any]) -> None:
    group = only(stack, "aws_networkfirewall_rule_group", name="pci-platform-allow-aws-endpoints-apse1-dev")
    assert group["type"] == "STATEFUL"
    rules = group["rule_group"]
    assert rules["stateful_rule_options"] == {"rule_order": "STRICT_ORDER"}
    assert rules["rules_source"]["rules_source_list"] == {
        "generated_rules_type": "ALLOWLIST",
        "target_types": ["TLS_SNI"],
        "targets": DOMAINS,
    }


@pytest.mark.requirement("PCI-2", "PCI-C6")
def test_non_tls_and_old_tls_are_dropped_first(stack: dict[str, Any]) -> None:
    group = only(stack, "aws_networkfirewall_rule_group", name="pci-platform-deny-non-tls-apse1-dev")
    assert group["rule_group"]["stateful_rule_options"] == {"rule_order": "STRICT_ORDER"}
    rules = group["rule_group"]["rules_source"]["rules_string"].splitlines()
    assert [r.split(" (")[0] for r in rules] == [
        "drop tcp $HOME_NET any -> any !443",
        "drop udp $HOME_NET any -> any any",
        "drop tls $HOME_NET any -> any any",
    ]
    assert "ssl_version:sslv2,sslv3,tls1.0,tls1.1;" in rules[2]


@pytest.mark.requirement("PCI-2")
def test_policy_is_strict_order_with_default_drop(stack: dict[str, Any]) -> None:
    (policy,) = resources(stack, "aws_networkfirewall_firewall_policy").values()
    body = policy["firewall_policy"]
    assert body["stateful_engine_options"] == {"rule_order": "STRICT_ORDER"}
    assert body["stateful_default_actions"] == ["aws:drop_established", "aws:alert_established"]
    assert body["stateless_default_actions"] == ["aws:forward_to_sfe"]
    assert body["stateless_fragment_default_actions"] == ["aws:forward_to_sfe"]
    refs = [(r["priority"], r["resource_arn"].split(".")[1]) for r in body["stateful_rule_group_reference"]]
    assert refs == [(100, "firewall_deny_non_tls_C62416B3"), (200, "firewall_allow_aws_endpoints_19EA2D25")]


@pytest.mark.parametrize("type_", FIREWALL_TYPES)
def test_firewall_resources_are_encrypted_with_the_logs_key(stack: dict[str, Any], type_: str) -> None:
    assert resources(stack, type_)
    for resource in resources(stack, type_).values():
        assert resource["encryption_configuration"]["type"] == "CUSTOMER_KMS"
        assert resource["encryption_configuration"]["key_id"].startswith("${aws_kms_key.keys_logs_key_")


def test_firewall_sits_in_the_firewall_tier(stack: dict[str, Any]) -> None:
    (firewall,) = resources(stack, "aws_networkfirewall_firewall").values()
    subnets = [m["subnet_id"] for m in firewall["subnet_mapping"]]
    assert len(subnets) == 3
    assert all("network_vpc_firewall_" in s for s in subnets)
    assert firewall["delete_protection"] is False  # destroyable in dev (docs/decisions/0008-destroyable-by-default.md)


def test_flow_and_alert_logs_go_to_kms_encrypted_destinations(stack: dict[str, Any]) -> None:
    (logging,) = resources(stack, "aws_networkfirewall_logging_configuration").values()
    destinations = {d["log_type"]: d for d in logging["logging_configuration"]["log_destination_config"]}
    assert destinations["FLOW"]["log_destination_type"] == "S3"
    assert destinations["FLOW"]["log_destination"] == {"bucketName": "pci-platform-flow-logs-apse1-dev"}
    assert destinations["ALERT"]["log_destination_type"] == "CloudWatchLogs"
    assert destinations["ALERT"]["log_destination"] == {"logGroup": "/pci-platform/dev/network-firewall/alerts"}
    group = only(stack, "aws_cloudwatch_log_group", name="/pci-platform/dev/network-firewall/alerts")
    assert "keys_logs_key" in group["kms_key_id"]
    encryption = [
        e
        for e in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
        if "flow_logs" in e["bucket"]
    ]
    assert "keys_logs_key" in encryption[0]["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"]


@pytest.fixture(scope="module")
def emulator_stack(stack: dict[str, Any]) -> dict[str, Any]:
    return apply_target(EMULATOR, {"pci-platform": stack}).stacks["pci-platform"]


def test_emulator_target_drops_only_what_moto_lacks_and_what_depends_on_it(
    stack: dict[str, Any], emulator_stack: dict[str, Any]
) -> None:
    for type_ in [*FIREWALL_TYPES, "aws_networkfirewall_logging_configuration", "aws_route"]:
        assert resources(emulator_stack, type_) == {}
    assert any(name.startswith("firewall_") for name in stack.get("locals", {}))
    assert not any(name.startswith("firewall_") for name in emulator_stack.get("locals", {}))
    full = {t: len(v) for t, v in stack["resource"].items()}
    reduced = {t: len(v) for t, v in emulator_stack["resource"].items()}
    missing = {t: n - reduced.get(t, 0) for t, n in full.items() if n != reduced.get(t, 0)}
    assert missing == {
        "aws_networkfirewall_firewall": 1,
        "aws_networkfirewall_firewall_policy": 1,
        "aws_networkfirewall_rule_group": 2,
        "aws_networkfirewall_logging_configuration": 1,
        "aws_route": 21,
        "aws_xray_sampling_rule": 1,
        "aws_lambda_invocation": 1,
        "aws_xray_encryption_config": 1,
        "aws_cloudwatch_query_definition": 4,
        "aws_route53_health_check": 2,
        "aws_route53_resolver_firewall_domain_list": 2,
        "aws_route53_resolver_firewall_rule_group": 1,
        "aws_route53_resolver_firewall_rule": 2,
        "aws_route53_resolver_firewall_rule_group_association": 1,
        "aws_route53_resolver_firewall_config": 1,
        "aws_route53_resolver_query_log_config": 1,
        "aws_route53_resolver_query_log_config_association": 1,
    }
    assert "firewall_arn" in stack["output"]
    assert "firewall_arn" not in emulator_stack["output"]
    # The failover records stay; only their references to the excluded health checks are detached.
    records = list(resources(emulator_stack, "aws_route53_record").values())
    assert len(records) == 2
    assert all("health_check_id" not in r for r in records)
