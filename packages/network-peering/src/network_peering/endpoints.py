"""Gateway VPC endpoints for S3 and DynamoDB on one side, so that traffic to them never takes an
internet route; their policies admit only principals and resources of that side's account.

Endpoint policies cannot name every bucket or table the workloads will use, so the resource is
``*`` narrowed by the ``aws:PrincipalAccount`` and ``aws:ResourceAccount`` conditions (README).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from shared_constructs.cdk import Construct
from shared_constructs.iam import Statement, policy_document
from shared_constructs.network import GATEWAY_ACTIONS

from network_peering.context import PeerSide
from network_peering.vpc import SideNetwork


def endpoint_policy(service: str, account: str) -> str:
    """The policy of the ``service`` gateway endpoint: this account's principals and resources only."""
    return policy_document(
        [
            Statement(
                sid="OwnAccountOnly",
                actions=GATEWAY_ACTIONS[service],
                resources=["*"],
                principals={"AWS": "*"},
                conditions={"StringEquals": {"aws:PrincipalAccount": account, "aws:ResourceAccount": account}},
            )
        ]
    )


class GatewayEndpoints(Construct):
    """S3 and DynamoDB gateway endpoints on every private route table of one side."""

    def __init__(self, scope: Construct, id: str, side: PeerSide, network: SideNetwork) -> None:
        super().__init__(scope, id)
        self.endpoints = {
            service: VpcEndpoint(
                self,
                service,
                vpc_id=network.vpc_id,
                vpc_endpoint_type="Gateway",
                service_name=f"com.amazonaws.{side.region}.{service}",
                route_table_ids=network.route_table_ids,
                policy=endpoint_policy(service, side.account),
                tags=side.tag_name(f"{service}-endpoint"),
                provider=side.provider,
            )
            for service in GATEWAY_ACTIONS
        }
