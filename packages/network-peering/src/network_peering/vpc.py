"""Each side's network: a private VPC with one route table per subnet, created or adopted.

Created (default): a VPC with DNS support and hostnames (needed to resolve the peer's private
names), private subnets across the availability zones, a route table per subnet, and a default
security group with no rules. ``nat_gateway = true`` adds one public subnet, an internet gateway
and one NAT gateway; peering itself needs none of them.
Adopted: the configured VPC, subnet and route-table ids are used as they are.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from shared_constructs.cdk import Construct

from network_peering.context import PeerSide


class SideNetwork(Construct):
    """The VPC of one side. ``subnet_ids`` and ``route_table_ids`` follow ``subnet_cidrs`` order."""

    def __init__(self, scope: Construct, id: str, side: PeerSide) -> None:
        super().__init__(scope, id)
        config = side.config
        self.side = side
        self.cidr = config.vpc_cidr
        self.subnet_cidrs = list(config.subnet_cidrs)
        if config.adopt is not None:
            self.vpc_id: str = config.adopt.vpc_id
            self.subnet_ids: list[str] = list(config.adopt.subnet_ids)
            self.route_table_ids: list[str] = list(config.adopt.route_table_ids)
            return
        provider = side.provider
        vpc = Vpc(
            self,
            "vpc",
            cidr_block=config.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=side.tag_name("vpc"),
            provider=provider,
        )
        self.vpc_id = vpc.id
        # The default security group would let members talk freely; with no rules it allows nothing.
        DefaultSecurityGroup(self, "default_sg", vpc_id=vpc.id, tags=side.tag_name("default-deny"), provider=provider)
        zones = config.zones
        self.subnet_ids, self.route_table_ids = [], []
        for index, cidr in enumerate(config.subnet_cidrs):
            label = f"private-{index + 1}"
            subnet = Subnet(
                self,
                f"private_{index}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zones[index],
                map_public_ip_on_launch=False,
                tags={**side.tag_name(label), "Tier": "private"},
                provider=provider,
            )
            table = RouteTable(
                self, f"private_{index}_routes", vpc_id=vpc.id, tags=side.tag_name(f"{label}-rt"), provider=provider
            )
            RouteTableAssociation(
                self, f"private_{index}_assoc", subnet_id=subnet.id, route_table_id=table.id, provider=provider
            )
            self.subnet_ids.append(subnet.id)
            self.route_table_ids.append(table.id)
        if config.nat_gateway and config.public_subnet_cidr:
            self._nat(vpc, zones, config.public_subnet_cidr)

    def _nat(self, vpc: Vpc, zones: list[str], cidr: str) -> None:
        """One NAT gateway (not one per AZ): outbound internet for the private subnets, on request."""
        side, provider = self.side, self.side.provider
        igw = InternetGateway(self, "igw", vpc_id=vpc.id, tags=side.tag_name("igw"), provider=provider)
        public = Subnet(
            self,
            "public",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zones[0],
            map_public_ip_on_launch=False,
            tags={**side.tag_name("public"), "Tier": "public"},
            provider=provider,
        )
        public_routes = RouteTable(
            self, "public_routes", vpc_id=vpc.id, tags=side.tag_name("public-rt"), provider=provider
        )
        Route(
            self,
            "public_default",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            provider=provider,
        )
        RouteTableAssociation(
            self, "public_assoc", subnet_id=public.id, route_table_id=public_routes.id, provider=provider
        )
        eip = Eip(self, "nat_eip", domain="vpc", tags=side.tag_name("nat"), provider=provider)
        nat = NatGateway(
            self,
            "nat",
            allocation_id=eip.id,
            subnet_id=public.id,
            tags=side.tag_name("nat"),
            depends_on=[igw],
            provider=provider,
        )
        for index, table_id in enumerate(self.route_table_ids):
            Route(
                self,
                f"private_{index}_default",
                route_table_id=table_id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                provider=provider,
            )

    def peered_indices(self) -> list[int]:
        """Positions (in ``subnet_cidrs`` order) of the subnets that take part in the peering."""
        peered = self.side.config.peered
        return [i for i, cidr in enumerate(self.subnet_cidrs) if cidr in peered]

    def peered_subnet_ids(self) -> list[str]:
        return [self.subnet_ids[i] for i in self.peered_indices()]

    def peered_route_table_ids(self) -> list[str]:
        return [self.route_table_ids[i] for i in self.peered_indices()]
