"""AWS Config managed rules for the peering's compliance on one side.

The rules need a configuration recorder in the account and region; the platform's recorder
belongs to security-baseline (DECISIONS.md 4), so it is a prerequisite of this package (README).
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.config_config_rule import (
    ConfigConfigRule,
    ConfigConfigRuleScope,
    ConfigConfigRuleSource,
)
from shared_constructs.cdk import Construct
from shared_constructs.naming import Kind

from network_peering.context import PeerSide
from network_peering.settings import ports_text
from network_peering.vpc import SideNetwork


class ComplianceRules(Construct):
    """DNS resolution on the peering, flow logs on, security groups open only to 443/5432,
    default security group closed."""

    def __init__(self, scope: Construct, id: str, side: PeerSide, network: SideNetwork, security_group_id: str) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, ConfigConfigRule] = {}
        self._add(
            side,
            "peering-dns",
            "VPC_PEERING_DNS_RESOLUTION_CHECK",
            {"vpcIds": network.vpc_id},
            ConfigConfigRuleScope(compliance_resource_types=["AWS::EC2::VPCPeeringConnection"]),
        )
        self._add(side, "flow-logs", "VPC_FLOW_LOGS_ENABLED", {"trafficType": "ALL"}, None)
        self._add(
            side,
            "sg-ports",
            "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS",
            {"authorizedTcpPorts": ports_text()},
            ConfigConfigRuleScope(
                compliance_resource_types=["AWS::EC2::SecurityGroup"], compliance_resource_id=security_group_id
            ),
        )
        self._add(
            side,
            "default-sg-closed",
            "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
            {},
            ConfigConfigRuleScope(compliance_resource_types=["AWS::EC2::SecurityGroup"]),
        )

    def _add(
        self,
        side: PeerSide,
        name: str,
        identifier: str,
        parameters: dict[str, str],
        scope: ConfigConfigRuleScope | None,
    ) -> None:
        self.rules[name] = ConfigConfigRule(
            self,
            name.replace("-", "_"),
            name=side.name(Kind.CONFIG_RULE, name),
            description=f"{identifier} on the {side.label} side of the VPC peering",
            source=ConfigConfigRuleSource(owner="AWS", source_identifier=identifier),
            input_parameters=json.dumps(parameters, sort_keys=True) if parameters else None,
            scope=scope,
            provider=side.provider,
        )
