"""The peered subnets' network ACL, read from the synthesized stack, over the flows issue 15 lists.

The ACL restricts only the peer: the peer reaches 443 and 5432 (and gets its answers), nothing
else of the peer's VPC passes, and everything the subnets need besides (gateway endpoints, NAT
egress over TCP and UDP, a DNS server outside the VPC, their own VPC) goes through.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.nacl import Flow, NetworkAcl, evaluate
from platform_tooling.testing.query import resources

CONFIG = tomllib.loads((Path(__file__).resolve().parents[2] / "config" / "dev.toml").read_text(encoding="utf-8"))
PEER_OF = {"trading": "analytics", "analytics": "trading"}
S3_ADDRESS = "52.216.8.10"  # in S3's published ranges: what a gateway endpoint route carries
DYNAMODB_ADDRESS = "3.218.182.10"  # in DynamoDB's published ranges
INTERNET = "198.51.100.10"


def host(cidr: str, offset: int = 10) -> str:
    return str(ipaddress.ip_network(cidr).network_address + offset)


def side_acl(stack: dict[str, Any], label: str) -> NetworkAcl:
    rules = [
        r for r in resources(stack, "aws_network_acl_rule").values() if f".{label}_firewall_nacl" in r["network_acl_id"]
    ]
    assert rules, f"no ACL rules for the {label} side"
    return NetworkAcl.from_resources(rules)


def flows(label: str) -> dict[str, Flow]:
    peer = host(CONFIG[PEER_OF[label]]["peered_subnet_cidrs"][0])
    unpeered = host(CONFIG[PEER_OF[label]]["subnet_cidrs"][-1])
    own_other = host(CONFIG[label]["subnet_cidrs"][-1])
    return {
        "peer to 443": Flow("peer to 443", "tcp", peer, 443, local_is_server=True),
        "peer to 5432": Flow("peer to 5432", "tcp", peer, 5432, local_is_server=True),
        "to peer 443": Flow("to peer 443", "tcp", peer, 443, local_is_server=False),
        "own VPC to 5432": Flow("own VPC to 5432", "tcp", own_other, 5432, local_is_server=True),
        "peer to 22": Flow("peer to 22", "tcp", peer, 22, local_is_server=True),
        "unpeered peer subnet to 443": Flow("unpeered peer subnet to 443", "tcp", unpeered, 443, local_is_server=True),
        "S3 gateway endpoint": Flow("S3 gateway endpoint", "tcp", S3_ADDRESS, 443, local_is_server=False),
        "DynamoDB gateway endpoint": Flow("DynamoDB gateway endpoint", "tcp", DYNAMODB_ADDRESS, 443, False),
        "NAT egress TCP": Flow("NAT egress TCP", "tcp", INTERNET, 443, local_is_server=False),
        "NAT egress UDP (NTP)": Flow("NAT egress UDP (NTP)", "udp", INTERNET, 123, local_is_server=False),
        "DNS server outside the VPC (UDP)": Flow("DNS server outside the VPC (UDP)", "udp", "192.0.2.53", 53, False),
        "peer UDP 53": Flow("peer UDP 53", "udp", peer, 53, local_is_server=True),
        "to peer 22": Flow("to peer 22", "tcp", peer, 22, local_is_server=False),
        "peer ICMP": Flow("peer ICMP", "icmp", peer, 0, local_is_server=True),
    }


EXPECTED = [
    ("peer to 443", True),
    ("peer to 5432", True),
    ("to peer 443", True),
    ("own VPC to 5432", True),
    ("peer to 22", False),
    ("unpeered peer subnet to 443", False),
    ("S3 gateway endpoint", True),
    ("DynamoDB gateway endpoint", True),
    ("NAT egress TCP", True),
    ("NAT egress UDP (NTP)", True),
    ("DNS server outside the VPC (UDP)", True),
    ("peer UDP 53", False),
    ("to peer 22", False),
    ("peer ICMP", False),
]


@pytest.mark.parametrize("label", sorted(PEER_OF))
@pytest.mark.parametrize(("flow", "allowed"), EXPECTED)
def test_peered_subnet_acl(stack: dict[str, Any], label: str, flow: str, allowed: bool) -> None:
    verdict = evaluate(side_acl(stack, label), flows(label)[flow])
    assert verdict.allowed is allowed, verdict.explain()


def test_every_listed_flow_is_checked() -> None:
    listed = [item.values if hasattr(item, "marks") else item for item in EXPECTED]
    assert sorted(str(values[0]) for values in listed) == sorted(flows("trading"))
