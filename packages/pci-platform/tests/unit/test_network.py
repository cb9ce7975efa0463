"""Network isolation: private tiers only, every workload route to the firewall or a VPC endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import only, resources

WORKLOAD = ["10.60.0.0/20", "10.60.16.0/20", "10.60.32.0/20"]
FIREWALL = ["10.60.48.0/28", "10.60.48.16/28", "10.60.48.32/28"]
ENDPOINT = ["10.60.49.0/24", "10.60.50.0/24", "10.60.51.0/24"]
FIREWALL_LOCAL = "local.firewall_endpoint_by_subnet_3D3E1E8D"


def ref_name(value: str) -> str:
    """``${aws_x.name.attr}`` -> ``name``."""
    return value.removeprefix("${").split(".")[1]


def tier_tables(stack: dict[str, Any], tier: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in resources(stack, "aws_route_table").items() if f"_{tier}_" in n}


@pytest.mark.requirement("PCI-1", "PCI-C1")
@pytest.mark.parametrize(
    "forbidden",
    [
        "aws_internet_gateway",
        "aws_egress_only_internet_gateway",
        "aws_nat_gateway",
        "aws_eip",
        "aws_vpn_gateway",
        "aws_vpc_peering_connection",
        "aws_instance",
    ],
)
def test_no_internet_path_resources(stack: dict[str, Any], forbidden: str) -> None:
    assert resources(stack, forbidden) == {}


@pytest.mark.requirement("PCI-1", "PCI-C1")
def test_subnets_are_private_in_three_tiers(stack: dict[str, Any]) -> None:
    subnets = resources(stack, "aws_subnet").values()
    assert sorted(s["cidr_block"] for s in subnets) == sorted(WORKLOAD + FIREWALL + ENDPOINT)
    assert all(s["map_public_ip_on_launch"] is False for s in subnets)
    assert sorted(s["tags"]["Tier"] for s in subnets) == ["endpoint"] * 3 + ["firewall"] * 3 + ["workload"] * 3
    assert sorted(s["availability_zone"] for s in subnets if s["tags"]["Tier"] == "workload") == [
        "ap-southeast-1a",
        "ap-southeast-1b",
        "ap-southeast-1c",
    ]


@pytest.mark.requirement("PCI-C2")
def test_no_route_leaves_through_a_gateway(stack: dict[str, Any]) -> None:
    routes = resources(stack, "aws_route").values()
    assert routes  # the routes through the firewall
    for route in routes:
        assert (
            set(route)
            & {
                "gateway_id",
                "nat_gateway_id",
                "egress_only_gateway_id",
                "transit_gateway_id",
                "vpc_peering_connection_id",
                "network_interface_id",
            }
            == set()
        )
    for table in resources(stack, "aws_route_table").values():
        assert "route" not in table  # routes are separate resources, all checked above


@pytest.mark.requirement("PCI-2", "PCI-C2")
def test_every_workload_route_leads_to_a_firewall_endpoint(stack: dict[str, Any]) -> None:
    tables = tier_tables(stack, "workload")
    assert len(tables) == 3
    routes = [r for r in resources(stack, "aws_route").values() if ref_name(r["route_table_id"]) in tables]
    assert len(routes) == 3 * 4
    for route in routes:
        assert route["vpc_endpoint_id"].startswith(f"${{{FIREWALL_LOCAL}[aws_subnet.network_vpc_firewall_")
    for table in tables:
        mine = {
            r["destination_cidr_block"]: r["vpc_endpoint_id"] for r in routes if ref_name(r["route_table_id"]) == table
        }
        assert sorted(mine) == sorted(["0.0.0.0/0", *ENDPOINT])
        az = table.split("_workload_")[1][0]
        assert f"firewall_{az}_" in mine["0.0.0.0/0"]  # default route to the firewall endpoint of the same AZ
        for j, cidr in enumerate(ENDPOINT):  # endpoint subnet j through firewall endpoint j (symmetric)
            assert f"network_vpc_firewall_{j}_" in mine[cidr]


def test_endpoint_tier_returns_through_the_same_firewall_endpoint(stack: dict[str, Any]) -> None:
    tables = tier_tables(stack, "endpoint")
    routes = [r for r in resources(stack, "aws_route").values() if ref_name(r["route_table_id"]) in tables]
    assert len(routes) == 9
    for route in routes:
        j = ref_name(route["route_table_id"]).split("_endpoint_")[1][0]
        assert route["destination_cidr_block"] in WORKLOAD
        assert f"network_vpc_firewall_{j}_" in route["vpc_endpoint_id"]


def test_only_vpc_endpoints_otherwise(stack: dict[str, Any]) -> None:
    endpoints = resources(stack, "aws_vpc_endpoint").values()
    gateway = [e for e in endpoints if e["vpc_endpoint_type"] == "Gateway"]
    assert [e["service_name"] for e in gateway] == ["com.amazonaws.ap-southeast-1.s3"]
    interface = sorted(e["service_name"].rsplit(".", 1)[1] for e in endpoints if e["vpc_endpoint_type"] == "Interface")
    # Every service a function or host declares (REACHABLE_SERVICES checks the paths), plus the ones
    # the platform's agents use (kms, logs, sts, xray).
    assert interface == [
        "ec2",
        "events",
        "kinesis-firehose",
        "kms",
        "logs",
        "monitoring",
        "secretsmanager",
        "sqs",
        "sts",
        "xray",
    ]
    for endpoint in endpoints:
        if endpoint["vpc_endpoint_type"] == "Interface":
            assert endpoint["private_dns_enabled"] is True
            assert len(endpoint["subnet_ids"]) == 3
            assert all("_endpoint_" in s for s in endpoint["subnet_ids"])


def test_firewall_routes_point_at_the_firewall_sync_states(stack: dict[str, Any]) -> None:
    local = stack["locals"][FIREWALL_LOCAL.removeprefix("local.")]
    assert local == (
        "${{for s in tolist(aws_networkfirewall_firewall.firewall_25E5106D.firewall_status[0]"
        ".sync_states) : s.attachment[0].subnet_id => s.attachment[0].endpoint_id}}"
    )


@pytest.mark.requirement("PCI-1", "SEC-5", "SEC-C3")
def test_flow_logs_capture_all_traffic_to_s3_and_cloudwatch_every_minute(stack: dict[str, Any]) -> None:
    flows = {f["log_destination_type"]: f for f in resources(stack, "aws_flow_log").values()}
    assert sorted(flows) == ["cloud-watch-logs", "s3"]
    assert all(f["traffic_type"] == "ALL" and f["max_aggregation_interval"] == 60 for f in flows.values())
    assert "data_flow_logs_bucket" in flows["s3"]["log_destination"]
    assert "flow_log_group" in flows["cloud-watch-logs"]["log_destination"]
    group = only(stack, "aws_cloudwatch_log_group", name="/pci-platform/dev/vpc-flow-logs")
    assert group["retention_in_days"] == 30


@pytest.mark.requirement("PCI-2", "PCI-C3")
def test_security_groups_open_nothing_to_or_from_the_internet(stack: dict[str, Any]) -> None:
    groups = resources(stack, "aws_security_group")
    rules = [(name, r) for name, g in groups.items() for d in ("ingress", "egress") for r in g.get(d) or []]
    assert len(groups) >= 8  # the workload, endpoint, proxy, database and ALB groups
    assert len(rules) >= 15
    for kind in (
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    ):
        assert resources(stack, kind) == {}, f"{kind}: separate rules would escape this check"
    for name, rule in rules:
        assert not {"0.0.0.0/0", "::/0"} & set(rule.get("cidr_blocks") or []), name
        assert not {"0.0.0.0/0", "::/0"} & set(rule.get("ipv6_cidr_blocks") or []), name


@pytest.mark.requirement("PCI-2")
def test_workload_security_groups_allow_only_https_to_endpoints_and_postgres_inside(stack: dict[str, Any]) -> None:
    groups = {g["name"]: g for g in resources(stack, "aws_security_group").values()}
    processor = groups["pci-platform-processor-apse1-dev"]
    assert "ingress" not in processor or processor["ingress"] == []
    assert [
        (e["from_port"], e["to_port"], e.get("cidr_blocks"), bool(e.get("prefix_list_ids")))
        for e in processor["egress"]
    ] == [(443, 443, ENDPOINT, False), (443, 443, None, True)]
    rotation = groups["pci-platform-secret-rotation-apse1-dev"]
    assert [(e["from_port"], e.get("cidr_blocks")) for e in rotation["egress"]][2] == (5432, WORKLOAD)
    endpoints = groups["pci-platform-pci-endpoints-apse1-dev"]
    assert [(i["from_port"], i["cidr_blocks"]) for i in endpoints["ingress"]] == [(443, WORKLOAD)]
