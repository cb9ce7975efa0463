"""One NAT gateway for a :class:`~shared_constructs.network.PrivateVpc` that asks for internet egress.

One public subnet in the VPC's first zone with an internet gateway route, one Elastic IP and one
NAT gateway (not one per zone: egress stops if that zone fails, which an app that asks for NAT
accepts for its cost); every route table of the VPC's tiers sends ``0.0.0.0/0`` to it. Nothing is
reachable from the internet: the public subnet holds only the NAT gateway and gives no public IPs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet

if TYPE_CHECKING:
    from shared_constructs.network import PrivateVpc

DEFAULT_ROUTE = "0.0.0.0/0"


def add_nat_gateway(vpc: PrivateVpc, cidr: str) -> NatGateway:
    """Add the public subnet ``cidr``, internet gateway and NAT gateway to ``vpc`` and route every
    tier's route tables to it (module docstring)."""
    provider = vpc.context.provider
    igw = InternetGateway(vpc, "igw", vpc_id=vpc.vpc_id, tags=vpc.tag_name("igw"), provider=provider)
    public = Subnet(
        vpc,
        "public",
        vpc_id=vpc.vpc_id,
        cidr_block=cidr,
        availability_zone=vpc.zones[0],
        map_public_ip_on_launch=False,
        tags={**vpc.tag_name("public"), "Tier": "public"},
        provider=provider,
    )
    public_routes = RouteTable(
        vpc, "public_routes", vpc_id=vpc.vpc_id, tags=vpc.tag_name("public-rt"), provider=provider
    )
    Route(
        vpc,
        "public_default",
        route_table_id=public_routes.id,
        destination_cidr_block=DEFAULT_ROUTE,
        gateway_id=igw.id,
        provider=provider,
    )
    RouteTableAssociation(vpc, "public_assoc", subnet_id=public.id, route_table_id=public_routes.id, provider=provider)
    eip = Eip(vpc, "nat_eip", domain="vpc", tags=vpc.tag_name("nat"), provider=provider)
    nat = NatGateway(
        vpc,
        "nat",
        allocation_id=eip.id,
        subnet_id=public.id,
        tags=vpc.tag_name("nat"),
        depends_on=[igw],
        provider=provider,
    )
    for tier in vpc.props.tiers:
        for index, table_id in enumerate(vpc.route_table_ids(tier.name)):
            Route(
                vpc,
                f"{tier.name}_{index}_default",
                route_table_id=table_id,
                destination_cidr_block=DEFAULT_ROUTE,
                nat_gateway_id=nat.id,
                provider=provider,
            )
    return nat
