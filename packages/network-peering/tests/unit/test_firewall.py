"""Security groups and network ACLs: exact ports, CIDRs, directions and rule numbers."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import resources

ANALYTICS = "aws.use2analytics"
SIDES = {"trading": ("aws", ["10.1.0.0/20"]), "analytics": (ANALYTICS, ["10.0.0.0/20", "10.0.16.0/20"])}


def _sg_name(stack: dict[str, Any], label: str) -> str:
    return next(
        n
        for n, g in resources(stack, "aws_security_group").items()
        if g["name"] == f"network-peering-{label}-peering-{'use1' if label == 'trading' else 'use2'}-dev"
    )


@pytest.mark.requirement("PEER-3", "PEER-C3")
@pytest.mark.parametrize("label", sorted(SIDES))
def test_security_group_rules_are_443_and_5432_with_the_peer_subnets_only(stack: dict[str, Any], label: str) -> None:
    provider, peer_cidrs = SIDES[label]
    name = _sg_name(stack, label)
    group = resources(stack, "aws_security_group")[name]
    assert group["provider"] == provider
    assert "ingress" not in group
    assert "egress" not in group
    expected = sorted((port, port, "tcp", cidr) for port in (443, 5432) for cidr in peer_cidrs)
    for type_ in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        rules = [
            r
            for r in resources(stack, type_).values()
            if r["security_group_id"] == f"${{aws_security_group.{name}.id}}"
        ]
        got = sorted((r["from_port"], r["to_port"], r["ip_protocol"], r["cidr_ipv4"]) for r in rules)
        assert got == expected, type_
        assert all(r["provider"] == provider for r in rules)


@pytest.mark.requirement("PEER-C3")
def test_no_rule_anywhere_is_open_to_the_internet(stack: dict[str, Any]) -> None:
    types = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule")
    rules = [r for type_ in types for r in resources(stack, type_).values()]
    assert len(rules) == 12  # 443 and 5432, in and out, to each peer subnet
    inline = [
        r
        for g in resources(stack, "aws_security_group").values()
        for d in ("ingress", "egress")
        for r in g.get(d) or []
    ]
    assert inline == []  # every rule is a separate resource, checked here
    for rule in rules:
        assert rule.get("cidr_ipv4") != "0.0.0.0/0", rule
        assert rule.get("cidr_ipv6") != "::/0", rule
    # The ACLs restrict only the peer: their one allow from anywhere is the last rule, after the
    # peer's VPC is denied (checked rule by rule below and flow by flow in test_nacl_flows).
    open_allows = [
        (r["egress"], r["rule_number"])
        for r in resources(stack, "aws_network_acl_rule").values()
        if r["rule_action"] == "allow" and r.get("cidr_block") == "0.0.0.0/0"
    ]
    assert sorted(open_allows) == [(False, 32766), (False, 32766), (True, 32766), (True, 32766)]
    assert all(r.get("ipv6_cidr_block") is None for r in resources(stack, "aws_network_acl_rule").values())


def _nacl_rules(stack: dict[str, Any], label: str) -> list[tuple[bool, int, str, str, str, int, int]]:
    nacl = next(
        n
        for n, a in resources(stack, "aws_network_acl").items()
        if a["tags"]["Name"].startswith(f"network-peering-{label}-")
    )
    rules = [
        r
        for r in resources(stack, "aws_network_acl_rule").values()
        if r["network_acl_id"] == f"${{aws_network_acl.{nacl}.id}}"
    ]
    return sorted(
        (r["egress"], r["rule_number"], r["rule_action"], r["protocol"], r["cidr_block"], r["from_port"], r["to_port"])
        for r in rules
    )


@pytest.mark.requirement("PEER-6", "PEER-C7")
def test_trading_nacl_rules_exactly(stack: dict[str, Any]) -> None:
    for egress in (False, True):
        assert [r[1:] for r in _nacl_rules(stack, "trading") if r[0] is egress] == [
            (100, "allow", "tcp", "10.1.0.0/20", 443, 443),
            (101, "allow", "tcp", "10.1.0.0/20", 5432, 5432),
            (102, "allow", "tcp", "10.1.0.0/20", 1024, 65535),
            (32000, "deny", "-1", "10.1.0.0/16", 1, 65535),
            (32766, "allow", "-1", "0.0.0.0/0", 1, 65535),
        ]


@pytest.mark.requirement("PEER-6", "PEER-C7")
def test_analytics_nacl_rules_exactly(stack: dict[str, Any]) -> None:
    for egress in (False, True):
        assert [r[1:] for r in _nacl_rules(stack, "analytics") if r[0] is egress] == [
            (100, "allow", "tcp", "10.0.0.0/20", 443, 443),
            (101, "allow", "tcp", "10.0.0.0/20", 5432, 5432),
            (102, "allow", "tcp", "10.0.0.0/20", 1024, 65535),
            (110, "allow", "tcp", "10.0.16.0/20", 443, 443),
            (111, "allow", "tcp", "10.0.16.0/20", 5432, 5432),
            (112, "allow", "tcp", "10.0.16.0/20", 1024, 65535),
            (32000, "deny", "-1", "10.0.0.0/16", 1, 65535),
            (32766, "allow", "-1", "0.0.0.0/0", 1, 65535),
        ]


@pytest.mark.requirement("PEER-6")
def test_nacls_cover_only_the_peered_subnets(stack: dict[str, Any]) -> None:
    subnets = resources(stack, "aws_subnet")
    got = {}
    for nacl in resources(stack, "aws_network_acl").values():
        cidrs = sorted(subnets[s.split(".")[1]]["cidr_block"] for s in nacl["subnet_ids"])
        got[nacl["tags"]["Name"]] = cidrs
    assert got == {
        "network-peering-trading-peering-nacl-use1-dev": ["10.0.0.0/20", "10.0.16.0/20"],
        "network-peering-analytics-peering-nacl-use2-dev": ["10.1.0.0/20"],
    }


@pytest.mark.requirement("PEER-C3")
def test_default_security_groups_allow_nothing(stack: dict[str, Any]) -> None:
    groups = resources(stack, "aws_default_security_group").values()
    assert len(groups) == 2
    assert all("ingress" not in g and "egress" not in g for g in groups)
