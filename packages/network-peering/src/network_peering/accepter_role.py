"""The role in the analytics account that the trading account assumes to accept and configure the
peering: trusted by the trading account only (its configured peering operator role, or else the
account), with the external id, and allowed only the peering actions on this connection and the
routes of the analytics peered subnets.

Describe calls have no resource-level permissions in EC2, so those two actions name ``*`` (listed
in the README).
"""

from __future__ import annotations

from shared_constructs.cdk import Construct
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy

from network_peering.context import PeerSide, use_provider
from network_peering.peering import Peering
from network_peering.vpc import SideNetwork

PEERING_ACTIONS = ("ec2:AcceptVpcPeeringConnection", "ec2:CreateTags", "ec2:ModifyVpcPeeringConnectionOptions")
ROUTE_ACTIONS = ("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute")
DESCRIBE_ACTIONS = ("ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections")


class AccepterRole(Construct):
    """The peering-accepter role (see module docstring)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        accepter: PeerSide,
        requester: PeerSide,
        network: SideNetwork,
        peering: Peering,
        external_id: str,
    ) -> None:
        super().__init__(scope, id)
        prefix = f"arn:aws:ec2:{accepter.region}:{accepter.account}"
        self.role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                namer=accepter.namer,
                name="peering-accepter",
                region=accepter.region,
                description=f"Assumed by the {requester.label} account to accept and configure the VPC peering",
                trust_policy=assume_role_policy(
                    accounts=[requester.config.peering_operator_arn or f"arn:aws:iam::{requester.account}:root"],
                    conditions={"StringEquals": {"sts:ExternalId": external_id}},
                ),
                statements=[
                    Statement(
                        sid="ThisPeeringOnly",
                        actions=PEERING_ACTIONS,
                        resources=[
                            f"{prefix}:vpc-peering-connection/{peering.connection_id}",
                            f"{prefix}:vpc/{network.vpc_id}",
                        ],
                    ),
                    Statement(
                        sid="PeeredRouteTablesOnly",
                        actions=ROUTE_ACTIONS,
                        resources=[f"{prefix}:route-table/{table}" for table in network.peered_route_table_ids()],
                    ),
                    # EC2 Describe* actions support no resource-level permissions: AWS requires "*".
                    Statement(sid="DescribePeering", actions=DESCRIBE_ACTIONS, resources=["*"]),
                ],
            ),
        )
        use_provider(self.role, accepter.provider)
        self.role_arn = self.role.role_arn
