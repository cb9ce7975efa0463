"""The role in the analytics account that the trading account assumes to accept and configure the
peering, and the external id both analytics roles require.

Trust as AWS recommends for cross-account roles: the trading account is the principal, and the
conditions name the one role allowed (``aws:PrincipalArn``, the configured peering operator) and
the external id. The external id is a Terraform variable (:func:`external_id_variable`), set at
plan and apply time from the secret that holds it: it is never in a configuration file, the
synthesized stack or a snapshot. The role may only act on this connection and the routes of the
analytics peered subnets.

Describe calls have no resource-level permissions in EC2, so those two actions name ``*`` (listed
in the README).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct, TerraformVariable, TerraformVariableValidationConfig
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.network import PrivateVpc

from network_peering.peering import PRIVATE, peered_indices
from network_peering.settings import EXTERNAL_ID_LENGTH, EXTERNAL_ID_PATTERN, EXTERNAL_ID_VARIABLE, Settings

PEERING_ACTIONS = ("ec2:AcceptVpcPeeringConnection", "ec2:CreateTags", "ec2:ModifyVpcPeeringConnectionOptions")
ROUTE_ACTIONS = ("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute")
DESCRIBE_ACTIONS = ("ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections")


def external_id_variable(scope: Construct) -> str:
    """The external id, as a reference to the sensitive Terraform variable that carries it.

    Terraform stops before planning when it is missing (``No value for required variable``) or
    malformed (the validation below); STS compares it when the roles are assumed.
    """
    low, high = EXTERNAL_ID_LENGTH
    variable = TerraformVariable(
        scope,
        EXTERNAL_ID_VARIABLE,
        type="string",
        sensitive=True,
        nullable=False,
        description=(
            "External id that the analytics deployment role and the peering-accepter role require; "
            f"set TF_VAR_{EXTERNAL_ID_VARIABLE} from the secret that holds it, never in a file"
        ),
        validation=[
            TerraformVariableValidationConfig(
                condition=(
                    f"${{length(var.{EXTERNAL_ID_VARIABLE}) >= {low} && length(var.{EXTERNAL_ID_VARIABLE}) <= {high}"
                    f' && can(regex("{EXTERNAL_ID_PATTERN}", var.{EXTERNAL_ID_VARIABLE}))}}'
                ),
                error_message=f"The external id must be {low}-{high} characters of [A-Za-z0-9+=,.@:/_-] (TF_VAR_{EXTERNAL_ID_VARIABLE}).",
            )
        ],
    )
    variable.override_logical_id(EXTERNAL_ID_VARIABLE)
    return variable.string_value


@dataclass(frozen=True, kw_only=True)
class AccepterRoleProps:
    """Props of :class:`AccepterRole`.

    ``context``: the analytics (accepter) side, where the role lives. ``vpc``: the analytics VPC.
    ``connection_id``: the peering connection the role may act on. ``external_id``: from
    :func:`external_id_variable`.
    """

    context: AppContext[Settings]
    vpc: PrivateVpc
    connection_id: str
    external_id: str


class AccepterRole(Construct):
    """The peering-accepter role (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: AccepterRoleProps) -> None:
        super().__init__(scope, id)
        ctx, settings = props.context, props.context.settings
        trading = settings.trading
        prefix = f"arn:aws:ec2:{ctx.region}:{ctx.account}"
        tables = props.vpc.route_table_ids(PRIVATE)
        self.role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=ctx,
                name="peering-accepter",
                description="Assumed by the trading account to accept and configure the VPC peering",
                # The account as principal and the role in aws:PrincipalArn: a recreated operator role is
                # still trusted (a role principal would be pinned to the old role's unique id), and no
                # other principal of the trading account is.
                trust_policy=assume_role_policy(
                    accounts=[f"arn:aws:iam::{trading.account_id}:root"],
                    conditions={
                        "StringEquals": {"sts:ExternalId": props.external_id},
                        "ArnEquals": {"aws:PrincipalArn": trading.peering_operator_arn},
                    },
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
