"""The private VPC of every region: subnets, endpoints, no way out, flow logs, the functions in it."""

from __future__ import annotations

import ipaddress
import json
from itertools import combinations
from typing import Any

import pytest
from payments_multiregion.network import interface_services, subnet_cidrs
from platform_tooling.testing.query import only, ref, resources, where

from ..conftest import REGIONS, SHORT

DEV_CIDRS = {"us-east-1": "10.64.0.0/16", "eu-west-1": "10.65.0.0/16", "ap-southeast-1": "10.66.0.0/16"}


@pytest.mark.requirement("DR-C3")
@pytest.mark.parametrize("region", REGIONS)
def test_private_vpc_with_endpoints_and_no_way_out(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    vpcs = list(resources(stack, "aws_vpc").values())
    assert [v["cidr_block"] for v in vpcs] == [DEV_CIDRS[region]]
    for absent in (
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_eip",
        "aws_route",
        "aws_egress_only_internet_gateway",
    ):
        assert not resources(stack, absent), absent
    assert all(s["map_public_ip_on_launch"] is False for s in resources(stack, "aws_subnet").values())
    endpoints = list(resources(stack, "aws_vpc_endpoint").values())
    gateways = sorted(e["service_name"] for e in endpoints if e["vpc_endpoint_type"] == "Gateway")
    interfaces = sorted(e["service_name"] for e in endpoints if e["vpc_endpoint_type"] == "Interface")
    assert gateways == [f"com.amazonaws.{region}.dynamodb", f"com.amazonaws.{region}.s3"]
    # cloudwatch (the canary's metrics), events (the canary and the stream consumer put events), sns
    # (the stream consumer alerts on a voided duplicate) and states (the API front starts the
    # workflow); nothing else is called.
    assert interfaces == [
        f"com.amazonaws.{region}.events",
        f"com.amazonaws.{region}.monitoring",
        f"com.amazonaws.{region}.sns",
        f"com.amazonaws.{region}.states",
    ]
    assert all(e["private_dns_enabled"] is True for e in endpoints if e["vpc_endpoint_type"] == "Interface")
    flow_logs = list(resources(stack, "aws_flow_log").values())
    assert len(flow_logs) == 1
    assert (flow_logs[0]["traffic_type"], flow_logs[0]["max_aggregation_interval"]) == ("ALL", 60)
    group = only(stack, "aws_cloudwatch_log_group", name="/payments/dev/vpc-flow-logs")
    assert group["kms_key_id"].startswith("${aws_kms_key.key_")


@pytest.mark.requirement("DR-C3")
@pytest.mark.parametrize("region", REGIONS)
def test_every_function_runs_in_the_function_subnets(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    functions = list(resources(stack, "aws_lambda_function").values())
    assert len(functions) >= 3
    subnets = {
        name: s["cidr_block"] for name, s in resources(stack, "aws_subnet").items() if s["tags"]["Tier"] == "functions"
    }
    assert sorted(subnets.values()) == subnet_cidrs(DEV_CIDRS[region])["functions"]
    for function in functions:
        vpc = function["vpc_config"]
        assert sorted(vpc["subnet_ids"]) == sorted(ref("aws_subnet", n, "id") for n in subnets)
        assert vpc["security_group_ids"] == [ref("aws_security_group", "network_functions_sg_" + _suffix(stack), "id")]


def _suffix(stack: dict[str, Any]) -> str:
    names = [n for n in resources(stack, "aws_security_group") if n.startswith("network_functions_sg_")]
    assert len(names) == 1
    return names[0].removeprefix("network_functions_sg_")


@pytest.mark.requirement("DR-C7")
@pytest.mark.parametrize("region", REGIONS)
def test_security_groups_admit_only_https_from_the_functions(stacks: dict[str, Any], region: str) -> None:
    stack, short = stacks[f"payments-{region}"], SHORT[region]
    functions = only(stack, "aws_security_group", name=f"payments-functions-{short}-dev")
    assert "ingress" not in functions or not functions["ingress"]
    assert {(e["from_port"], e["to_port"], e["protocol"]) for e in functions["egress"]} == {(443, 443, "tcp")}
    assert "0.0.0.0/0" not in json.dumps(functions)
    endpoints = only(stack, "aws_security_group", name=f"payments-payments-endpoints-{short}-dev")
    assert [(i["from_port"], i["to_port"], i["cidr_blocks"]) for i in endpoints["ingress"]] == [
        (443, 443, subnet_cidrs(DEV_CIDRS[region])["functions"])
    ]
    assert where(stack, "aws_default_security_group"), "the default security group is taken over (no rules)"


@pytest.mark.requirement("DR-C6")
def test_regional_vpcs_do_not_overlap(stacks: dict[str, Any]) -> None:
    cidrs = [
        c for r in REGIONS for c in (v["cidr_block"] for v in resources(stacks[f"payments-{r}"], "aws_vpc").values())
    ]
    assert len(cidrs) == 3
    for a, b in combinations(cidrs, 2):
        assert not ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b)), (a, b)


def test_subnets_are_carved_inside_the_vpc_without_overlap() -> None:
    tiers = subnet_cidrs("10.64.0.0/16")
    assert tiers == {
        "functions": ["10.64.0.0/20", "10.64.16.0/20", "10.64.32.0/20"],
        "endpoints": ["10.64.48.0/22", "10.64.52.0/22", "10.64.56.0/22"],
    }


def test_interface_services_leave_gateway_services_out() -> None:
    assert interface_services(["dynamodb", "s3", "cloudwatch", "events", "events"]) == ["events", "monitoring"]


@pytest.mark.parametrize("service", ["route53", "made-up"])
def test_fails_a_service_without_a_known_endpoint(service: str) -> None:
    with pytest.raises(ValueError, match=f"no VPC endpoint is known for \\['{service}'\\]"):
        interface_services([service])
