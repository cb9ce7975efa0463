"""The connection, its acceptance, DNS options and least-privilege routes."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import ref, resources

ANALYTICS = "aws.use2analytics"


def _one(stack: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = resources(stack, type_)
    assert len(found) == 1
    return next(iter(found.items()))


@pytest.mark.requirement("PEER-11", "PEER-C1", "PEER-C10")
def test_two_providers_trading_default_analytics_assumes_role(stack: dict[str, Any]) -> None:
    default, analytics = stack["provider"]["aws"]
    assert default["region"] == "us-east-1"
    assert "assume_role" not in default
    assert analytics["alias"] == "use2analytics"
    assert analytics["region"] == "us-east-2"
    # The external id is the sensitive variable's reference: its value is never in the stack.
    assert analytics["assume_role"] == [
        {
            "external_id": "${var.analytics_external_id}",
            "role_arn": "arn:aws:iam::210987654321:role/network-peering-deployer",
        }
    ]
    for provider in (default, analytics):
        tags = provider["default_tags"][0]["tags"]
        assert {k: tags[k] for k in ("CostCenter", "Environment", "Owner", "ManagedBy", "App")} == {
            "CostCenter": "platform",
            "Environment": "dev",
            "Owner": "network-team",
            "ManagedBy": "cdktf",
            "App": "network-peering",
        }


@pytest.mark.requirement("PEER-1", "PEER-C10")
def test_connection_is_requested_by_trading_to_the_analytics_owner_and_region(stack: dict[str, Any]) -> None:
    _, connection = _one(stack, "aws_vpc_peering_connection")
    vpcs = resources(stack, "aws_vpc")
    trading_vpc = next(n for n, v in vpcs.items() if v["cidr_block"] == "10.0.0.0/16")
    analytics_vpc = next(n for n, v in vpcs.items() if v["cidr_block"] == "10.1.0.0/16")
    assert connection["provider"] == "aws"
    assert connection["vpc_id"] == ref("aws_vpc", trading_vpc, "id")
    assert connection["peer_vpc_id"] == ref("aws_vpc", analytics_vpc, "id")
    assert connection["peer_owner_id"] == "210987654321"
    assert connection["peer_region"] == "us-east-2"
    assert "auto_accept" not in connection  # cross-region: only the accepter may accept
    assert vpcs[analytics_vpc]["provider"] == ANALYTICS


@pytest.mark.requirement("PEER-1", "PEER-C10")
def test_accepter_accepts_in_the_analytics_account(stack: dict[str, Any]) -> None:
    connection_name, _ = _one(stack, "aws_vpc_peering_connection")
    _, accepter = _one(stack, "aws_vpc_peering_connection_accepter")
    assert accepter["provider"] == ANALYTICS
    assert accepter["auto_accept"] is True
    assert accepter["vpc_peering_connection_id"] == ref("aws_vpc_peering_connection", connection_name, "id")


@pytest.mark.requirement("PEER-5", "PEER-C9")
def test_dns_resolution_of_the_remote_vpc_is_on_in_both_directions(stack: dict[str, Any]) -> None:
    accepter_name, _ = _one(stack, "aws_vpc_peering_connection_accepter")
    options = sorted(resources(stack, "aws_vpc_peering_connection_options").values(), key=lambda o: o["provider"])
    assert [(o["provider"], o.get("requester"), o.get("accepter")) for o in options] == [
        ("aws", {"allow_remote_vpc_dns_resolution": True}, None),
        (ANALYTICS, None, {"allow_remote_vpc_dns_resolution": True}),
    ]
    for option in options:
        assert option["vpc_peering_connection_id"] == ref(
            "aws_vpc_peering_connection_accepter", accepter_name, "vpc_peering_connection_id"
        )


def test_vpcs_resolve_private_hostnames(stack: dict[str, Any]) -> None:
    vpcs = resources(stack, "aws_vpc").values()
    assert len(vpcs) == 2
    for vpc in vpcs:
        assert vpc["enable_dns_support"] is True
        assert vpc["enable_dns_hostnames"] is True


@pytest.mark.requirement("PEER-2", "PEER-C4")
def test_routes_target_only_the_listed_peer_subnet_cidrs(stack: dict[str, Any]) -> None:
    accepter_name, _ = _one(stack, "aws_vpc_peering_connection_accepter")
    tables = resources(stack, "aws_route_table")

    def table_name(route: dict[str, Any]) -> str:
        return route["route_table_id"].split(".")[1]

    routes = resources(stack, "aws_route").values()
    got = sorted((r["provider"], tables[table_name(r)]["tags"]["Name"], r["destination_cidr_block"]) for r in routes)
    assert got == [
        ("aws", "network-peering-trading-private-1-rt-use1-dev", "10.1.0.0/20"),
        ("aws", "network-peering-trading-private-2-rt-use1-dev", "10.1.0.0/20"),
        (ANALYTICS, "network-peering-analytics-private-1-rt-use2-dev", "10.0.0.0/20"),
        (ANALYTICS, "network-peering-analytics-private-1-rt-use2-dev", "10.0.16.0/20"),
    ]
    for route in routes:
        assert route["vpc_peering_connection_id"] == ref(
            "aws_vpc_peering_connection_accepter", accepter_name, "vpc_peering_connection_id"
        )
        assert set(route) >= {"route_table_id", "destination_cidr_block", "vpc_peering_connection_id"}
        assert not {"gateway_id", "nat_gateway_id"} & set(route)


@pytest.mark.requirement("PEER-C6")
def test_no_internet_route_or_gateway_without_nat(stack: dict[str, Any]) -> None:
    for type_ in ("aws_internet_gateway", "aws_nat_gateway", "aws_eip"):
        assert resources(stack, type_) == {}
    routes = resources(stack, "aws_route").values()
    assert routes  # the peering routes
    assert all(r["destination_cidr_block"] != "0.0.0.0/0" for r in routes)


def test_private_subnets_across_three_zones_each_with_its_route_table(stack: dict[str, Any]) -> None:
    subnets = resources(stack, "aws_subnet")
    assert sorted(s["cidr_block"] for s in subnets.values()) == [
        "10.0.0.0/20",
        "10.0.16.0/20",
        "10.0.32.0/20",
        "10.1.0.0/20",
        "10.1.16.0/20",
        "10.1.32.0/20",
    ]
    zones = sorted((s["provider"], s["cidr_block"], s["availability_zone"]) for s in subnets.values())
    assert [z[2] for z in zones] == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-2a", "us-east-2b", "us-east-2c"]
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    associations = resources(stack, "aws_route_table_association").values()
    assert len({a["route_table_id"] for a in associations}) == len({a["subnet_id"] for a in associations}) == 6
