"""Configuration variants in one extra synthesis: an adopted analytics VPC and a NAT gateway on
the trading side, with the security-baseline topic and Config rules turned off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import resources

VPC_ID = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]
TABLES = ["rtb-0123456789abcdef0", "rtb-0123456789abcdef1", "rtb-0123456789abcdef2"]
ANALYTICS = "aws.use2analytics"


@pytest.fixture(scope="module")
def variant(synth: Callable[..., SynthResult]) -> dict[str, Any]:
    overrides = {
        "trading": {"nat_gateway": True, "public_subnet_cidr": "10.0.240.0/24"},
        "analytics": {"adopt": {"vpc_id": VPC_ID, "subnet_ids": SUBNETS, "route_table_ids": TABLES}},
        "monitoring": {"notify_security_baseline": False},
        "compliance": {"config_rules": False},
    }
    return synth("network-peering", overrides=overrides).stacks["network-peering"]


def test_adopted_vpc_creates_no_network_and_uses_the_configured_ids(variant: dict[str, Any]) -> None:
    assert [v["cidr_block"] for v in resources(variant, "aws_vpc").values()] == ["10.0.0.0/16"]
    subnets = resources(variant, "aws_subnet").values()
    assert subnets  # the trading side still builds its own
    assert all(s["provider"] == "aws" for s in subnets)
    connection = next(iter(resources(variant, "aws_vpc_peering_connection").values()))
    assert connection["peer_vpc_id"] == VPC_ID
    analytics_routes = [r for r in resources(variant, "aws_route").values() if r["provider"] == ANALYTICS]
    assert sorted((r["route_table_id"], r["destination_cidr_block"]) for r in analytics_routes) == [
        (TABLES[0], "10.0.0.0/20"),
        (TABLES[0], "10.0.16.0/20"),
    ]
    nacl = next(n for n in resources(variant, "aws_network_acl").values() if n["provider"] == ANALYTICS)
    assert nacl["vpc_id"] == VPC_ID
    assert nacl["subnet_ids"] == [SUBNETS[0]]
    logs = [f for f in resources(variant, "aws_flow_log").values() if f["provider"] == ANALYTICS]
    assert [f["vpc_id"] for f in logs] == [VPC_ID, VPC_ID]
    endpoint = next(e for e in resources(variant, "aws_vpc_endpoint").values() if e["provider"] == ANALYTICS)
    assert endpoint["route_table_ids"] == TABLES


@pytest.mark.requirement("DEP-8")
def test_nat_is_one_gateway_in_one_public_subnet(variant: dict[str, Any]) -> None:
    assert len(resources(variant, "aws_nat_gateway")) == 1
    assert len(resources(variant, "aws_internet_gateway")) == 1
    public = [s for s in resources(variant, "aws_subnet").values() if s["tags"]["Tier"] == "public"]
    assert [s["cidr_block"] for s in public] == ["10.0.240.0/24"]
    defaults = [r for r in resources(variant, "aws_route").values() if r["destination_cidr_block"] == "0.0.0.0/0"]
    assert sorted(("nat_gateway_id" in r, "gateway_id" in r) for r in defaults) == [
        (False, True),
        (True, False),
        (True, False),
        (True, False),
    ]


def test_switches_leave_out_the_baseline_topic_and_config_rules(variant: dict[str, Any]) -> None:
    assert "terraform_remote_state" not in variant.get("data", {})
    assert resources(variant, "aws_config_config_rule") == {}
    alarms = resources(variant, "aws_cloudwatch_metric_alarm").values()
    assert alarms  # the package's own alarms stay, on its own topic
    for alarm in alarms:
        assert len(alarm["alarm_actions"]) == 1
