"""Network ACL semantics, evaluated offline over a table of flows.

Network ACLs are stored, never enforced, by the emulator (moto), so whether a subnet can
still reach what it needs is checked from the synthesized rules. AWS's semantics, as modelled here:

- Rules of one direction (inbound or outbound) are evaluated in increasing rule number; the first
  rule whose protocol, CIDR and port range match the packet decides; no match: the implicit ``*``
  rule denies.
- A rule's CIDR is the packet's source for inbound rules and its destination for outbound rules;
  its port range is always the packet's destination port. Protocol ``-1`` matches every protocol
  and every port; ICMP rules match every ICMP type (types and codes are not modelled).
- ACLs are stateless: a connection needs its request and its response allowed. A flow whose
  server is in the subnet needs the request inbound (to the server port) and the response outbound
  (to the client's ephemeral port); a flow whose client is in the subnet needs the request
  outbound and the response inbound. The client's ephemeral ports are a range (AWS's advice for
  ACLs is 1024-65535, which covers NAT gateways, Lambda and ELB), every port of which must pass.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "-1": -1, "all": -1}
PORTED = frozenset({6, 17})
"""Protocols whose rules and packets carry ports."""
MAX_RULE_NUMBER = 32766
EPHEMERAL = (1024, 65535)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def protocol_number(value: int | str) -> int:
    """``tcp``/``6`` -> 6, ``-1``/``all`` -> -1; raises :class:`ValueError` for anything else."""
    text = str(value).strip().lower()
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    if text.isdigit() and 0 <= int(text) <= 255:
        return int(text)
    raise ValueError(f"protocol {value!r}: expected a name ({', '.join(sorted(PROTOCOLS))}) or a number 0-255")


@dataclass(frozen=True)
class Entry:
    """One numbered rule of a network ACL."""

    number: int
    egress: bool
    allow: bool
    protocol: int
    cidr: Network
    ports: tuple[int, int] = (0, 65535)

    def matches(self, protocol: int, remote: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int | None) -> bool:
        """Whether a packet of ``protocol`` to or from ``remote``, to ``port``, falls under this rule."""
        if self.protocol not in (-1, protocol) or remote.version != self.cidr.version or remote not in self.cidr:
            return False
        if self.protocol == -1 or protocol not in PORTED or port is None:
            return True
        return self.ports[0] <= port <= self.ports[1]

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> Entry:
        """An entry from the attributes of an ``aws_network_acl_rule`` (or a ``ingress``/``egress``
        block of ``aws_network_acl``, with ``egress`` given)."""
        number = int(resource["rule_number"] if "rule_number" in resource else resource["rule_no"])
        action = str(resource.get("rule_action", resource.get("action", ""))).lower()
        if action not in ("allow", "deny"):
            raise ValueError(f"rule {number}: rule_action must be allow or deny, got {action!r}")
        if not 1 <= number <= MAX_RULE_NUMBER:
            raise ValueError(f"rule {number}: rule numbers run from 1 to {MAX_RULE_NUMBER}")
        cidr = resource.get("cidr_block") or resource.get("ipv6_cidr_block")
        if not cidr:
            raise ValueError(f"rule {number}: needs cidr_block or ipv6_cidr_block")
        protocol = protocol_number(resource["protocol"])
        ports = (int(resource.get("from_port") or 0), int(resource.get("to_port") or 0))
        if protocol in PORTED and not 0 <= ports[0] <= ports[1] <= 65535:
            raise ValueError(f"rule {number}: port range {ports[0]}-{ports[1]} is not 0-65535 in order")
        return cls(number, bool(resource.get("egress")), action == "allow", protocol, ipaddress.ip_network(cidr), ports)


@dataclass(frozen=True)
class Decision:
    """The verdict on one packet: allowed or not, and the rule that decided (``*``: the default)."""

    allowed: bool
    rule: str


class NetworkAcl:
    """The numbered rules of one ACL, both directions."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        chosen = list(entries)
        seen: set[tuple[bool, int]] = set()
        for entry in chosen:
            key = (entry.egress, entry.number)
            if key in seen:
                direction = "egress" if entry.egress else "ingress"
                raise ValueError(f"rule number {entry.number} appears twice in the {direction} rules")
            seen.add(key)
        self.entries = tuple(sorted(chosen, key=lambda e: (e.egress, e.number)))

    @classmethod
    def from_resources(cls, resources: Iterable[Mapping[str, Any]]) -> NetworkAcl:
        """From ``aws_network_acl_rule`` resources of one ACL."""
        return cls(Entry.from_resource(r) for r in resources)

    def decide(self, *, egress: bool, protocol: int | str, remote: str, port: int | None) -> Decision:
        """The first rule of the direction matching the packet decides; none: the default deny."""
        number = protocol_number(protocol)
        address = ipaddress.ip_address(remote)
        for entry in self.entries:
            if entry.egress == egress and entry.matches(number, address, port):
                return Decision(entry.allow, str(entry.number))
        return Decision(False, "*")

    def decide_range(self, *, egress: bool, protocol: int | str, remote: str, ports: tuple[int, int]) -> Decision:
        """Allowed only when every port of ``ports`` is; else the decision on the first port refused.

        The verdict is constant between rule boundaries, so only the range's ends and the ports where
        a rule's range starts or ends need evaluating.
        """
        low, high = ports
        candidates = {low, high}
        for entry in self.entries:
            candidates.update({entry.ports[0], entry.ports[1], entry.ports[0] - 1, entry.ports[1] + 1})
        last = Decision(True, "")
        for port in sorted(p for p in candidates if low <= p <= high):
            decision = self.decide(egress=egress, protocol=protocol, remote=remote, port=port)
            if not decision.allowed:
                return Decision(False, f"{decision.rule} (port {port})")
            last = decision
        return last


@dataclass(frozen=True)
class Flow:
    """A connection through the subnet the ACL guards.

    ``local_is_server``: the server (listening on ``port``) is in the subnet and the client is
    ``remote``; otherwise the client is in the subnet and the server is ``remote``.
    ``ephemeral``: the client's source ports. Default: 1024-65535.
    """

    name: str
    protocol: int | str
    remote: str
    port: int
    local_is_server: bool
    ephemeral: tuple[int, int] = EPHEMERAL


@dataclass(frozen=True)
class Verdict:
    """The two halves of a flow and the result."""

    flow: Flow
    request: Decision
    response: Decision

    @property
    def allowed(self) -> bool:
        """Whether both the request and the response pass."""
        return self.request.allowed and self.response.allowed

    def explain(self) -> str:
        """One line: the flow, then which half failed at which rule."""
        if self.allowed:
            return f"{self.flow.name}: allowed (request rule {self.request.rule}, response rule {self.response.rule})"
        half = "request" if not self.request.allowed else "response"
        rule = self.request.rule if half == "request" else self.response.rule
        return f"{self.flow.name}: {half} denied by rule {rule}"


def evaluate(acl: NetworkAcl, flow: Flow) -> Verdict:
    """Both halves of ``flow`` through ``acl``."""
    ported = protocol_number(flow.protocol) in PORTED
    request_egress = not flow.local_is_server
    request = acl.decide(egress=request_egress, protocol=flow.protocol, remote=flow.remote, port=flow.port)
    if ported:
        response = acl.decide_range(
            egress=not request_egress, protocol=flow.protocol, remote=flow.remote, ports=flow.ephemeral
        )
    else:
        response = acl.decide(egress=not request_egress, protocol=flow.protocol, remote=flow.remote, port=None)
    return Verdict(flow, request, response)
