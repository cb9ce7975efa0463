"""AWS Config rules for the peering's compliance on one side.

Three AWS managed rules (DNS resolution on the peering, flow logs, the default security group
closed) and a custom rule whose function (``lambdas/peering_sg_rule``) fails a peering security
group that admits anything but TCP 443 and 5432 from the peer's subnets. The managed
``VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS`` looked only at rules open to 0.0.0.0/0, so it could
never fail here.

The rules need a configuration recorder in the account and region; the platform's recorder
belongs to security-baseline (docs/decisions/0002-account-singletons.md), so it is a prerequisite of
this package (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared_constructs.cdk import Construct
from shared_constructs.config_rules import ConfigRule, ConfigRuleProps, CustomRule, ManagedRule
from shared_constructs.context import AppContext
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import Statement
from shared_constructs.kms import Key
from shared_constructs.messaging import EncryptedQueue, QueueProps
from shared_constructs.tagging import PEERING_GROUP_TAG

from network_peering.settings import Settings, SideName, ports_text
from network_peering.sides import peer_of

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
SG_RULE_IDENTIFIER = "PEERING_SG_AUTHORIZED_PORTS"
"""The custom rule's stable identifier (evidence maps it to PCI DSS as it maps AWS's rules)."""
LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


def peering_rules(side: SideName, vpc_id: str) -> tuple[ManagedRule, ...]:
    """DNS resolution on the peering, flow logs on, the default security group closed."""

    def rule(
        name: str, identifier: str, parameters: dict[str, str], resource_types: tuple[str, ...] = ()
    ) -> ManagedRule:
        return ManagedRule(
            name=f"{side}-{name}",
            identifier=identifier,
            description=f"{identifier} on the {side} side of the VPC peering",
            parameters=parameters,
            resource_types=resource_types,
        )

    return (
        rule(
            "peering-dns",
            "VPC_PEERING_DNS_RESOLUTION_CHECK",
            {"vpcIds": vpc_id},
            resource_types=("AWS::EC2::VPCPeeringConnection",),
        ),
        rule("flow-logs", "VPC_FLOW_LOGS_ENABLED", {"trafficType": "ALL"}),
        rule("default-sg-closed", "VPC_DEFAULT_SECURITY_GROUP_CLOSED", {}, resource_types=(SECURITY_GROUP,)),
    )


def security_group_rule(side: SideName, peer_cidrs: list[str], function_arn: str) -> CustomRule:
    """The custom rule over the side's peering security groups (those tagged ``PEERING_GROUP_TAG`` =
    the side): only TCP 443 and 5432, only from ``peer_cidrs``; on every change and once a day."""
    return CustomRule(
        name=f"{side}-sg-ports",
        identifier=SG_RULE_IDENTIFIER,
        function_arn=function_arn,
        description=f"The {side} peering security groups admit only TCP {ports_text()} from the peer subnets",
        parameters={
            "peerCidrs": ",".join(peer_cidrs),
            "allowedPorts": ports_text(),
            "peeringTagKey": PEERING_GROUP_TAG,
            "peeringTagValue": side,
        },
        resource_types=(SECURITY_GROUP,),
        periodic="TwentyFour_Hours",
    )


@dataclass(frozen=True, kw_only=True)
class ComplianceProps:
    """Props of :class:`ComplianceRules`: the side, built in its ``context``, its VPC, and the
    side's ``key`` (the rule function's log group and dead-letter queue)."""

    context: AppContext[Settings]
    side: SideName
    vpc_id: str
    key: Key


class ComplianceRules(Construct):
    """The side's Config rules (see :func:`peering_rules` and :func:`security_group_rule`)."""

    def __init__(self, scope: Construct, id: str, props: ComplianceProps) -> None:
        super().__init__(scope, id)
        ctx, side = props.context, props.side
        self.rules: dict[str, ConfigRule] = {}
        for rule in peering_rules(side, props.vpc_id):
            short = rule.name.removeprefix(f"{side}-")
            self.rules[short] = ConfigRule(self, short.replace("-", "_"), ConfigRuleProps(context=ctx, rule=rule))
        self.function = self._function(props)
        # AWS Config checks that it may invoke the function when the rule is created.
        permission = self.function.allow_service_invoke(
            self,
            "config_invoke",
            statement_id="AllowConfigOfThisAccount",
            principal="config.amazonaws.com",
            source_account=ctx.account,
        )
        custom = security_group_rule(side, ctx.settings.side(peer_of(side)).peered, self.function.function_arn)
        self.rules["sg-ports"] = ConfigRule(
            self, "sg_ports", ConfigRuleProps(context=ctx, rule=custom, depends_on=[permission])
        )

    def _function(self, props: ComplianceProps) -> PythonFunction:
        ctx, side = props.context, props.side
        # AWS Config invokes the function asynchronously: what keeps failing is kept here.
        self.dead_letters = EncryptedQueue(
            self,
            "dead_letters",
            QueueProps(context=ctx, name=f"{side}-sg-rule-dlq", key=props.key, dead_letter=False, retention_s=1209600),
        )
        function = PythonFunction(
            self,
            "sg_rule",
            FunctionProps(
                context=ctx,
                name=f"{side}-sg-rule",
                description=f"Config rule: the {side} peering security groups admit only 443/5432 from the peer",
                source=LAMBDAS / "peering_sg_rule",
                handler="handler.handler",
                key=props.key,
                reserved_concurrency=ctx.settings.compliance.reserved_concurrency,
                services=("config", "ec2"),
                dead_letter_queue=self.dead_letters,
                timeout_s=60,
            ),
        )
        # PutEvaluations and EC2 Describe calls have no resource-level permissions: AWS requires "*".
        function.role.add_statements(
            Statement(sid="PutEvaluations", actions=["config:PutEvaluations"], resources=["*"]),
            Statement(sid="DescribeSecurityGroups", actions=["ec2:DescribeSecurityGroups"], resources=["*"]),
        )
        return function
