"""The peering connection: requested by trading, accepted by analytics, DNS resolution both ways,
and routes to the peer's listed subnets only.

Routes are least-privilege: each peered subnet's route table gets one route per *peer subnet
CIDR that takes part in the peering*, never the peer's whole VPC CIDR.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.vpc_peering_connection import VpcPeeringConnection
from cdktf_cdktf_provider_aws.vpc_peering_connection_accepter import VpcPeeringConnectionAccepterA
from cdktf_cdktf_provider_aws.vpc_peering_connection_options import (
    VpcPeeringConnectionOptions,
    VpcPeeringConnectionOptionsAccepter,
    VpcPeeringConnectionOptionsRequester,
)
from shared_constructs.cdk import Construct

from network_peering.context import PeerSide
from network_peering.vpc import SideNetwork


class Peering(Construct):
    """Connection, accepter, options of both sides and the routes of both sides."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        requester: PeerSide,
        accepter: PeerSide,
        requester_network: SideNetwork,
        accepter_network: SideNetwork,
    ) -> None:
        super().__init__(scope, id)
        self.connection = VpcPeeringConnection(
            self,
            "connection",
            vpc_id=requester_network.vpc_id,
            peer_vpc_id=accepter_network.vpc_id,
            peer_owner_id=accepter.account,
            peer_region=accepter.region,
            tags={**requester.tag_name("peering"), "Side": "requester"},
            provider=requester.provider,
        )
        # Accepting in the accepter's account is what makes the connection active; every later
        # resource refers to the accepter so it waits for that.
        self.accepter = VpcPeeringConnectionAccepterA(
            self,
            "accepter",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={**accepter.tag_name("peering"), "Side": "accepter"},
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
        for side, network, peer in ((requester, requester_network, accepter), (accepter, accepter_network, requester)):
            for index in network.peered_indices():
                for peer_index, peer_cidr in enumerate(peer.config.peered):
                    self.routes.append(
                        Route(
                            self,
                            f"{side.label}_{index}_to_{peer.label}_{peer_index}",
                            route_table_id=network.route_table_ids[index],
                            destination_cidr_block=peer_cidr,
                            vpc_peering_connection_id=self.connection_id,
                            provider=side.provider,
                        )
                    )
