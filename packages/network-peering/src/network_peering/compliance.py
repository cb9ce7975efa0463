"""AWS Config managed rules for the peering's compliance on one side.

The rules need a configuration recorder in the account and region; the platform's recorder
belongs to security-baseline (docs/decisions/0002-account-singletons.md), so it is a prerequisite of
this package (README).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.config_rules import ConfigRule, ConfigRuleProps, ManagedRule
from shared_constructs.context import AppContext

from network_peering.settings import Settings, SideName, ports_text

SECURITY_GROUP = "AWS::EC2::SecurityGroup"


def peering_rules(side: SideName, vpc_id: str, security_group_id: str) -> tuple[ManagedRule, ...]:
    """DNS resolution on the peering, flow logs on, the peering security group open only to
    443/5432, the default security group closed."""

    def rule(
        name: str,
        identifier: str,
        parameters: dict[str, str],
        resource_types: tuple[str, ...] = (),
        resource_id: str | None = None,
    ) -> ManagedRule:
        return ManagedRule(
            name=f"{side}-{name}",
            identifier=identifier,
            description=f"{identifier} on the {side} side of the VPC peering",
            parameters=parameters,
            resource_types=resource_types,
            resource_id=resource_id,
        )

    return (
        rule(
            "peering-dns",
            "VPC_PEERING_DNS_RESOLUTION_CHECK",
            {"vpcIds": vpc_id},
            resource_types=("AWS::EC2::VPCPeeringConnection",),
        ),
        rule("flow-logs", "VPC_FLOW_LOGS_ENABLED", {"trafficType": "ALL"}),
        rule(
            "sg-ports",
            "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS",
            {"authorizedTcpPorts": ports_text()},
            resource_types=(SECURITY_GROUP,),
            resource_id=security_group_id,
        ),
        rule("default-sg-closed", "VPC_DEFAULT_SECURITY_GROUP_CLOSED", {}, resource_types=(SECURITY_GROUP,)),
    )


@dataclass(frozen=True, kw_only=True)
class ComplianceProps:
    """Props of :class:`ComplianceRules`: the side, built in its ``context``, its VPC and its
    peering security group."""

    context: AppContext[Settings]
    side: SideName
    vpc_id: str
    security_group_id: str


class ComplianceRules(Construct):
    """The side's Config rules (see :func:`peering_rules`)."""

    def __init__(self, scope: Construct, id: str, props: ComplianceProps) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, ConfigRule] = {}
        for rule in peering_rules(props.side, props.vpc_id, props.security_group_id):
            short = rule.name.removeprefix(f"{props.side}-")
            self.rules[short] = ConfigRule(
                self, short.replace("-", "_"), ConfigRuleProps(context=props.context, rule=rule)
            )
