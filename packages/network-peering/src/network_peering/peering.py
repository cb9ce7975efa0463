"""The peering connection: requested by trading, accepted by analytics, DNS resolution both ways,
and routes to the peer's listed subnets only.

Routes are least-privilege: each peered subnet's route table gets one route per *peer subnet
CIDR that takes part in the peering*, never the peer's whole VPC CIDR.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.vpc_peering_connection import VpcPeeringConnection
from cdktf_cdktf_provider_aws.vpc_peering_connection_accepter import VpcPeeringConnectionAccepterA
from cdktf_cdktf_provider_aws.vpc_peering_connection_options import (
    VpcPeeringConnectionOptions,
    VpcPeeringConnectionOptionsAccepter,
    VpcPeeringConnectionOptionsRequester,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.network import PrivateVpc

from network_peering.settings import Settings, SideName
from network_peering.sides import name_tag

PRIVATE = "private"
"""The one subnet tier of each side's VPC."""


def peered_indices(context: AppContext[Settings], side: SideName) -> list[int]:
    """Positions (in ``subnet_cidrs`` order) of the subnets of ``side`` that take part in the peering."""
    config = context.settings.side(side)
    return [i for i, cidr in enumerate(config.subnet_cidrs) if cidr in config.peered]


@dataclass(frozen=True, kw_only=True)
class PeeringProps:
    """Props of :class:`Peering`: each side's context (its account's provider) and VPC."""

    trading: AppContext[Settings]
    analytics: AppContext[Settings]
    trading_vpc: PrivateVpc
    analytics_vpc: PrivateVpc


class Peering(Construct):
    """Connection, accepter, options of both sides and the routes of both sides."""

    def __init__(self, scope: Construct, id: str, props: PeeringProps) -> None:
        super().__init__(scope, id)
        requester, accepter = props.trading, props.analytics
        self.connection = VpcPeeringConnection(
            self,
            "connection",
            vpc_id=props.trading_vpc.vpc_id,
            peer_vpc_id=props.analytics_vpc.vpc_id,
            peer_owner_id=accepter.account,
            peer_region=accepter.region,
            tags={**name_tag(requester, "trading", "peering"), "Side": "requester"},
            provider=requester.provider,
        )
        # Accepting in the accepter's account is what makes the connection active; every later
        # resource refers to the accepter so it waits for that.
        self.accepter = VpcPeeringConnectionAccepterA(
            self,
            "accepter",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={**name_tag(accepter, "analytics", "peering"), "Side": "accepter"},
            provider=accepter.provider,
        )
        self.connection_id = self.accepter.vpc_peering_connection_id
        self.status = self.accepter.accept_status
        # Cross-account: each side may only set its own options, so each sets them with its provider.
        self.requester_options = VpcPeeringConnectionOptions(
            self,
            "requester_options",
            vpc_peering_connection_id=self.connection_id,
            requester=VpcPeeringConnectionOptionsRequester(allow_remote_vpc_dns_resolution=True),
            provider=requester.provider,
        )
        self.accepter_options = VpcPeeringConnectionOptions(
            self,
            "accepter_options",
            vpc_peering_connection_id=self.connection_id,
            accepter=VpcPeeringConnectionOptionsAccepter(allow_remote_vpc_dns_resolution=True),
            provider=accepter.provider,
        )
        self.routes: list[Route] = []
        sides: tuple[tuple[SideName, AppContext[Settings], PrivateVpc, SideName], ...] = (
            ("trading", requester, props.trading_vpc, "analytics"),
            ("analytics", accepter, props.analytics_vpc, "trading"),
        )
        for side, ctx, vpc, peer in sides:
            tables = vpc.route_table_ids(PRIVATE)
            for index in peered_indices(ctx, side):
                for peer_index, peer_cidr in enumerate(ctx.settings.side(peer).peered):
                    self.routes.append(
                        Route(
                            self,
                            f"{side}_{index}_to_{peer}_{peer_index}",
                            route_table_id=tables[index],
                            destination_cidr_block=peer_cidr,
                            vpc_peering_connection_id=self.connection_id,
                            provider=ctx.provider,
                        )
                    )
