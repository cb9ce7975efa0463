"""The role in the analytics account that the trading account assumes to accept and configure the
peering: trusted by the trading account only (its configured peering operator role, or else the
account), with the external id, and allowed only the peering actions on this connection and the
routes of the analytics peered subnets.

Describe calls have no resource-level permissions in EC2, so those two actions name ``*`` (listed
in the README).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.network import PrivateVpc

from network_peering.peering import PRIVATE, peered_indices
from network_peering.settings import Settings

PEERING_ACTIONS = ("ec2:AcceptVpcPeeringConnection", "ec2:CreateTags", "ec2:ModifyVpcPeeringConnectionOptions")
ROUTE_ACTIONS = ("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute")
DESCRIBE_ACTIONS = ("ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections")


@dataclass(frozen=True, kw_only=True)
class AccepterRoleProps:
    """Props of :class:`AccepterRole`.

    ``context``: the analytics (accepter) side, where the role lives. ``vpc``: the analytics VPC.
    ``connection_id``: the peering connection the role may act on.
    """

    context: AppContext[Settings]
    vpc: PrivateVpc
    connection_id: str


class AccepterRole(Construct):
    """The peering-accepter role (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: AccepterRoleProps) -> None:
        super().__init__(scope, id)
        ctx, settings = props.context, props.context.settings
        trading, analytics = settings.trading, settings.analytics
        prefix = f"arn:aws:ec2:{ctx.region}:{ctx.account}"
        tables = props.vpc.route_table_ids(PRIVATE)
        self.role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=ctx,
                name="peering-accepter",
                description="Assumed by the trading account to accept and configure the VPC peering",
                trust_policy=assume_role_policy(
                    accounts=[trading.peering_operator_arn or f"arn:aws:iam::{trading.account_id}:root"],
                    conditions={"StringEquals": {"sts:ExternalId": analytics.external_id}},
                ),
                statements=[
                    Statement(
                        sid="ThisPeeringOnly",
                        actions=PEERING_ACTIONS,
                        resources=[
                            f"{prefix}:vpc-peering-connection/{props.connection_id}",
                            f"{prefix}:vpc/{props.vpc.vpc_id}",
                        ],
                    ),
                    Statement(
                        sid="PeeredRouteTablesOnly",
                        actions=ROUTE_ACTIONS,
                        resources=[f"{prefix}:route-table/{tables[i]}" for i in peered_indices(ctx, "analytics")],
                    ),
                    # EC2 Describe* actions support no resource-level permissions: AWS requires "*".
                    Statement(sid="DescribePeering", actions=DESCRIBE_ACTIONS, resources=["*"]),
                ],
            ),
        )
        self.role_arn = self.role.role_arn
