"""Traffic filters of one side: a security group and a network ACL for the peered subnets.

Security group (stateful): ingress TCP 443 and 5432 from each peer subnet CIDR, egress TCP 443
and 5432 to each peer subnet CIDR; nothing else (the default allow-all egress is removed by the
provider when the group is created), never ``0.0.0.0/0``.

Network ACL (stateless), on the peered subnets: it restricts only the peer and lets everything
else through, so the subnets keep their gateway endpoints, NAT egress, UDP (NTP, a DNS server
outside the VPC) and their own VPC. Numbered rules, the same in both directions, first match wins:
- ``100 + 10*j + 0|1``: allow TCP 443 / 5432 from (ingress) and to (egress) peer subnet ``j``.
- ``100 + 10*j + 2``: allow TCP 1024-65535 (ephemeral) from/to peer subnet ``j``: the return half
  of connections either side opened; the security group still only admits 443/5432.
- ``32000``: deny everything else with the peer's VPC (every port and protocol, and its subnets
  that take no part in the peering).
- ``32766``: allow everything else (``0.0.0.0/0``, all protocols): traffic that is not the peer's is
  not this ACL's business; the security groups stay the stateful guard.
Ports of the all-protocol rules are written 1-65535: AWS ignores ports for protocol ``-1``, and
scanners read a 0 as "all ports" (checkov CKV_AWS_352).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.network_acl import NetworkAcl
from cdktf_cdktf_provider_aws.network_acl_rule import NetworkAclRule
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.naming import Kind
from shared_constructs.network import PrivateVpc
from shared_constructs.policy import suppress
from shared_constructs.tagging import PEERING_GROUP_TAG

from network_peering.peering import PRIVATE, peered_indices
from network_peering.settings import PEERING_PORTS, Settings, SideName
from network_peering.sides import name_tag, peer_of, side_name

EPHEMERAL = (1024, 65535)
ALL_PORTS = (1, 65535)
DENY_PEER_RULE = 32000
ALLOW_REST_RULE = 32766
ANYWHERE = "0.0.0.0/0"
_PORT_NAMES = {443: "https", 5432: "postgres"}
OPEN_INGRESS_REASON = (
    "this ACL restricts only the peer: the peer's VPC is denied before this rule except TCP 443/5432 and "
    "their return traffic; what passes here is the return traffic of the subnets' own connections "
    "(gateway endpoints, NAT egress, DNS) and their own VPC. The subnets are private (no route from "
    "the internet) and their security groups stay the stateful guard."
)


def nacl_rule_number(peer_index: int, slot: int) -> int:
    """Rule number of ``slot`` (0: 443, 1: 5432, 2: ephemeral) for peer subnet ``peer_index``."""
    return 100 + 10 * peer_index + slot


@dataclass(frozen=True, kw_only=True)
class FirewallProps:
    """Props of :class:`PeeringFirewall`: the side, built in its ``context``, and its ``vpc``."""

    context: AppContext[Settings]
    side: SideName
    vpc: PrivateVpc


class PeeringFirewall(Construct):
    """The security group and network ACL of one side (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: FirewallProps) -> None:
        super().__init__(scope, id)
        ctx, side, peer, vpc = props.context, props.side, peer_of(props.side), props.vpc
        provider = self._provider = ctx.provider
        peer_cidrs = ctx.settings.side(peer).peered
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=side_name(ctx, side, Kind.SECURITY_GROUP, "peering"),
            vpc_id=vpc.vpc_id,
            description=f"HTTPS and PostgreSQL to and from the {peer} peered subnets only",
            # The tag is what the side's security-group Config rule looks for.
            tags={**name_tag(ctx, side, "peering"), PEERING_GROUP_TAG: side},
            provider=provider,
        )
        self.security_group_id = self.security_group.id
        for j, cidr in enumerate(peer_cidrs):
            for port in PEERING_PORTS:
                what = _PORT_NAMES[port]
                VpcSecurityGroupIngressRule(
                    self,
                    f"in_{what}_{j}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"{what} from {peer} subnet {cidr}",
                    provider=provider,
                )
                VpcSecurityGroupEgressRule(
                    self,
                    f"out_{what}_{j}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"{what} to {peer} subnet {cidr}",
                    provider=provider,
                )
        subnets = vpc.subnet_ids(PRIVATE)
        self.nacl = NetworkAcl(
            self,
            "nacl",
            vpc_id=vpc.vpc_id,
            subnet_ids=[subnets[i] for i in peered_indices(ctx, side)],
            tags=name_tag(ctx, side, "peering-nacl"),
            provider=provider,
        )
        self.nacl_id = self.nacl.id
        peer_vpc = ctx.settings.side(peer).vpc_cidr
        last_allow = nacl_rule_number(len(peer_cidrs) - 1, 2)
        if last_allow >= DENY_PEER_RULE:
            raise ValueError(
                f"{peer}.peered_subnet_cidrs: got {len(peer_cidrs)} subnets; expected at most "
                f"{(DENY_PEER_RULE - 100) // 10} (their ACL rules must come before rule {DENY_PEER_RULE})"
            )
        ranges = [(p, p) for p in PEERING_PORTS] + [EPHEMERAL]
        for egress in (False, True):
            direction = "out" if egress else "in"
            for j, cidr in enumerate(peer_cidrs):
                for slot, (low, high) in enumerate(ranges):
                    self._rule(
                        f"{direction}_{j}_{slot}", nacl_rule_number(j, slot), egress, "allow", "tcp", cidr, low, high
                    )
            self._rule(f"{direction}_deny_peer", DENY_PEER_RULE, egress, "deny", "-1", peer_vpc, *ALL_PORTS)
            rest = self._rule(f"{direction}_allow_rest", ALLOW_REST_RULE, egress, "allow", "-1", ANYWHERE, *ALL_PORTS)
            if not egress:
                suppress(rest, "NO_OPEN_INGRESS", OPEN_INGRESS_REASON)

    def _rule(
        self, id: str, number: int, egress: bool, action: str, protocol: str, cidr: str, low: int, high: int
    ) -> NetworkAclRule:
        return NetworkAclRule(
            self,
            id,
            network_acl_id=self.nacl.id,
            rule_number=number,
            egress=egress,
            rule_action=action,
            protocol=protocol,
            cidr_block=cidr,
            from_port=low,
            to_port=high,
            provider=self._provider,
        )
