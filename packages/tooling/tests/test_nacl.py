"""The network ACL evaluator on hand-written ACLs."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.nacl import Entry, Flow, NetworkAcl, evaluate, protocol_number

PEER = "10.1.0.0/16"


def rule(
    number: int, action: str, cidr: str, ports: tuple[int, int] = (0, 0), protocol: str = "tcp", egress: bool = False
) -> dict[str, Any]:
    """The attributes of an aws_network_acl_rule."""
    return {
        "rule_number": number,
        "egress": egress,
        "rule_action": action,
        "protocol": protocol,
        "cidr_block": cidr,
        "from_port": ports[0],
        "to_port": ports[1],
    }


def acl(*rules: dict[str, Any]) -> NetworkAcl:
    return NetworkAcl.from_resources(rules)


def test_first_matching_rule_by_number_decides_not_the_written_order() -> None:
    subject = acl(rule(200, "allow", PEER, (0, 65535)), rule(100, "deny", PEER, (22, 22)))
    assert subject.decide(egress=False, protocol="tcp", remote="10.1.2.3", port=22).rule == "100"
    assert not subject.decide(egress=False, protocol="tcp", remote="10.1.2.3", port=22).allowed
    assert subject.decide(egress=False, protocol="tcp", remote="10.1.2.3", port=443).allowed


def test_nothing_matches_the_default_rule_denies() -> None:
    decision = acl(rule(100, "allow", PEER, (443, 443))).decide(egress=False, protocol=6, remote="10.2.0.1", port=443)
    assert (decision.allowed, decision.rule) == (False, "*")


def test_directions_are_separate_rule_lists() -> None:
    subject = acl(rule(100, "allow", PEER, (443, 443), egress=True))
    assert subject.decide(egress=True, protocol="tcp", remote="10.1.0.1", port=443).allowed
    assert not subject.decide(egress=False, protocol="tcp", remote="10.1.0.1", port=443).allowed


@pytest.mark.parametrize(
    ("protocol", "packet", "port", "allowed"),
    [
        ("-1", "udp", 53, True),  # all protocols, all ports
        ("-1", "icmp", None, True),
        ("udp", "tcp", 53, False),
        ("17", "udp", 53, True),
        ("tcp", "tcp", 54, False),  # outside 53-53
        ("icmp", "icmp", None, True),  # every ICMP type
    ],
)
def test_protocol_and_port_matching(protocol: str, packet: str, port: int | None, allowed: bool) -> None:
    subject = acl(rule(100, "allow", PEER, (53, 53), protocol=protocol))
    assert subject.decide(egress=False, protocol=packet, remote="10.1.0.1", port=port).allowed is allowed


def test_cidr_containment_and_ip_version() -> None:
    subject = acl(rule(100, "allow", "10.1.0.0/20", (0, 65535)), rule(110, "allow", "::/0", (0, 65535)))
    assert subject.decide(egress=False, protocol="tcp", remote="10.1.15.255", port=1).allowed
    assert not subject.decide(egress=False, protocol="tcp", remote="10.1.16.0", port=1).allowed
    assert subject.decide(egress=False, protocol="tcp", remote="2001:db8::1", port=1).allowed


def server_acl(response_ports: tuple[int, int]) -> NetworkAcl:
    """HTTPS served to the peer; responses allowed to ``response_ports``."""
    return acl(rule(100, "allow", PEER, (443, 443)), rule(100, "allow", PEER, response_ports, egress=True))


def test_served_flow_needs_the_request_in_and_the_response_out() -> None:
    verdict = evaluate(server_acl((1024, 65535)), Flow("peer to 443", "tcp", "10.1.0.9", 443, local_is_server=True))
    assert verdict.allowed
    assert verdict.explain() == "peer to 443: allowed (request rule 100, response rule 100)"


def test_missing_return_rule_denies_the_flow_naming_the_response() -> None:
    subject = acl(rule(100, "allow", PEER, (443, 443)))
    verdict = evaluate(subject, Flow("peer to 443", "tcp", "10.1.0.9", 443, local_is_server=True))
    assert verdict.request.allowed
    assert not verdict.allowed
    assert verdict.explain() == "peer to 443: response denied by rule * (port 1024)"


def test_every_ephemeral_port_must_pass() -> None:
    linux_only = server_acl((32768, 60999))
    flow = Flow("peer to 443", "tcp", "10.1.0.9", 443, local_is_server=True)
    assert not evaluate(linux_only, flow).allowed  # 1024-32767 refused
    assert evaluate(linux_only, Flow("linux client", "tcp", "10.1.0.9", 443, True, (32768, 60999))).allowed
    denied = evaluate(linux_only, Flow("wider", "tcp", "10.1.0.9", 443, True, (32768, 61000)))
    assert denied.response.rule == "* (port 61000)"


def test_hole_inside_the_ephemeral_range_is_found() -> None:
    subject = acl(
        rule(100, "allow", PEER, (443, 443)),
        rule(90, "deny", PEER, (5000, 5000), egress=True),
        rule(100, "allow", PEER, (1024, 65535), egress=True),
    )
    verdict = evaluate(subject, Flow("peer to 443", "tcp", "10.1.0.9", 443, local_is_server=True))
    assert verdict.explain() == "peer to 443: response denied by rule 90 (port 5000)"


def test_client_flow_needs_the_request_out_and_the_response_in() -> None:
    subject = acl(rule(100, "allow", "0.0.0.0/0", (443, 443), egress=True))
    flow = Flow("to S3", "tcp", "52.216.8.1", 443, local_is_server=False)
    assert evaluate(subject, flow).explain() == "to S3: response denied by rule * (port 1024)"
    with_return = acl(
        rule(100, "allow", "0.0.0.0/0", (443, 443), egress=True), rule(100, "allow", "0.0.0.0/0", (1024, 65535))
    )
    assert evaluate(with_return, flow).allowed


def test_udp_is_a_flow_with_a_response_too() -> None:
    subject = acl(rule(100, "allow", "0.0.0.0/0", (53, 53), protocol="udp", egress=True))
    assert not evaluate(subject, Flow("dns", "udp", "198.51.100.53", 53, local_is_server=False)).allowed


def test_entries_from_the_acl_resource_blocks() -> None:
    entry = Entry.from_resource({"rule_no": 5, "action": "deny", "protocol": "-1", "cidr_block": "0.0.0.0/0"})
    assert (entry.number, entry.allow, entry.protocol) == (5, False, -1)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (rule(0, "allow", PEER), "rule numbers run from 1 to 32766"),
        (rule(32767, "allow", PEER), "rule numbers run from 1 to 32766"),
        (rule(1, "permit", PEER), "must be allow or deny"),
        (rule(1, "allow", PEER, (443, 22)), "port range 443-22"),
        (rule(1, "allow", PEER, protocol="gre"), "protocol 'gre'"),
        ({**rule(1, "allow", PEER), "cidr_block": None}, "needs cidr_block"),
    ],
)
def test_fails_bad_rule(resource: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Entry.from_resource(resource)


def test_fails_duplicate_rule_number_in_one_direction() -> None:
    with pytest.raises(ValueError, match="rule number 100 appears twice in the ingress rules"):
        acl(rule(100, "allow", PEER), rule(100, "deny", PEER))


def test_protocol_numbers() -> None:
    assert [protocol_number(p) for p in ("TCP", "udp", "all", "-1", "50")] == [6, 17, -1, -1, 50]
