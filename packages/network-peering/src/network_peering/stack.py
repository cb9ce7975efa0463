"""The ``network-peering`` stack: both accounts in one stack, through two providers.

Trading (requester) uses the stack's default provider; analytics (accepter) uses an aliased
provider that assumes the configured role in the analytics account with the external id. Each
side is built by the same code in its own context (account, region, provider).
"""

from __future__ import annotations

import dataclasses

from shared_constructs.cdk import Construct, Fn
from shared_constructs.context import AppContext
from shared_constructs.contracts import security_baseline
from shared_constructs.kms import Key, KeyProps
from shared_constructs.moves import moved_from
from shared_constructs.network import AdoptedVpc, PrivateVpc, SubnetTier, VpcProps
from shared_constructs.stack import PlatformStack
from shared_constructs.state import RemoteOutputs

from network_peering.accepter_role import AccepterRole, AccepterRoleProps, external_id_variable
from network_peering.compliance import ComplianceProps, ComplianceRules
from network_peering.firewall import FirewallProps, PeeringFirewall
from network_peering.monitoring import MonitoringProps, PeeringMonitoring
from network_peering.peering import PRIVATE, Peering, PeeringProps, peered_indices
from network_peering.settings import SIDES, Settings, SideName
from network_peering.storage import FlowLogStorage, FlowLogStorageProps

PACKAGE = "network-peering"
STACK = "network-peering"


class PeeringStack(PlatformStack[Settings]):
    """Cross-account VPC peering between trading and analytics (see README)."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        trading, analytics = settings.trading, settings.analytics
        super().__init__(
            scope,
            STACK,
            settings=settings,
            package=PACKAGE,
            region=trading.region,
            assume_role_arn=trading.assume_role_arn,
            account_id=trading.account_id,
        )
        self.external_id = external_id_variable(self)
        self.contexts: dict[SideName, AppContext[Settings]] = {
            # Both sides name their provider, so every resource says which account it is in.
            "trading": dataclasses.replace(self.context, provider=self.provider),
            "analytics": self.context_for(
                analytics.region,
                account="analytics",
                assume_role_arn=analytics.assume_role_arn,
                external_id=self.external_id,
                account_id=analytics.account_id,
            ),
        }
        self.keys = {side: self._key(side) for side in SIDES}
        self.storage = {
            side: FlowLogStorage(
                self,
                f"{side}_flow_logs",
                FlowLogStorageProps(context=self.contexts[side], side=side, key=self.keys[side]),
            )
            for side in SIDES
        }
        self.vpcs = {side: self._vpc(side) for side in SIDES}
        self.peering = Peering(
            self,
            "peering",
            PeeringProps(
                trading=self.contexts["trading"],
                analytics=self.contexts["analytics"],
                trading_vpc=self.vpcs["trading"],
                analytics_vpc=self.vpcs["analytics"],
            ),
        )
        self.firewalls = {
            side: PeeringFirewall(
                self, f"{side}_firewall", FirewallProps(context=self.contexts[side], side=side, vpc=self.vpcs[side])
            )
            for side in SIDES
        }
        self.accepter_role = AccepterRole(
            self,
            "accepter_role",
            AccepterRoleProps(
                context=self.contexts["analytics"],
                vpc=self.vpcs["analytics"],
                connection_id=self.peering.connection_id,
                external_id=self.external_id,
            ),
        )
        self.monitors = {side: self._monitoring(side) for side in SIDES}
        if settings.compliance.config_rules:
            for side in SIDES:
                ComplianceRules(
                    self,
                    f"{side}_compliance",
                    ComplianceProps(
                        context=self.contexts[side], side=side, vpc_id=self.vpcs[side].vpc_id, key=self.keys[side]
                    ),
                )
        self._outputs()

    def _key(self, side: SideName) -> Key:
        """The side's customer-managed key (flow logs, log group, alarm topic), in its account."""
        return Key(
            self,
            f"{side}_key",
            KeyProps(
                context=self.contexts[side],
                name=f"{side}-network",
                description=f"Flow logs and alarms of the {side} side of the VPC peering",
            ),
        )

    def _vpc(self, side: SideName) -> PrivateVpc:
        """The side's VPC, created or adopted, with its flow logs and gateway endpoints."""
        config = self.settings.side(side)
        adopt = config.adopt
        vpc = PrivateVpc(
            self,
            f"{side}_network",
            VpcProps(
                context=self.contexts[side],
                name=side,
                cidr=config.vpc_cidr,
                tiers=[SubnetTier(name=PRIVATE, cidrs=config.subnet_cidrs)],
                availability_zones=config.availability_zones,
                flow_log_bucket=self.storage[side].bucket,
                flow_log_group=self.storage[side].log_group,
                flow_log_interval=self.settings.flow_log_interval_s,
                flow_log_role=f"{side}-flow-logs",
                adopt=AdoptedVpc(
                    vpc_id=adopt.vpc_id,
                    subnet_ids={PRIVATE: adopt.subnet_ids},
                    route_table_ids={PRIVATE: adopt.route_table_ids},
                )
                if adopt is not None
                else None,
                nat_subnet=config.public_subnet_cidr if config.nat_gateway else None,
            ),
        )
        # Endpoints, flow logs and the delivery role were this package's own constructs before
        # PrivateVpc took them over: keep their state.
        for service, endpoint in vpc.gateway_endpoints.items():
            moved_from(endpoint, f"{side}_endpoints/{service}")
        moved_from(vpc.flow_logs["s3"], f"{side}_flow_logs/to_s3")
        moved_from(vpc.flow_logs["logs"], f"{side}_flow_logs/to_logs")
        role = vpc.flow_log_role
        if role is not None and role.policy is not None and role.policy_attachment is not None:
            old = f"{side}_flow_logs/delivery_role"
            moved_from(role.role, f"{old}/role")
            moved_from(role.policy, f"{old}/policy")
            moved_from(role.policy_attachment, f"{old}/attach")
        return vpc

    def _monitoring(self, side: SideName) -> PeeringMonitoring:
        extra: list[str] = []
        if self.settings.monitoring.notify_security_baseline:
            # Each side's alarms also notify the security topic of the baseline in its own account and
            # region; reading it orders this package after both baseline stacks, whose Config recorders
            # the rules here need.
            config = self.settings.side(side)
            baseline = RemoteOutputs(
                self,
                "baseline" if side == "trading" else f"baseline_{side}",
                settings=self.settings,
                stack=security_baseline.stack(config.region, config.account_id),
            )
            extra.append(baseline.get(security_baseline.SECURITY_TOPIC_ARN))
        return PeeringMonitoring(
            self,
            f"{side}_monitoring",
            MonitoringProps(
                context=self.contexts[side],
                side=side,
                key=self.keys[side],
                log_group=self.storage[side].log_group,
                extra_alarm_actions=extra,
            ),
        )

    def _outputs(self) -> None:
        self.output("peering_connection_id", self.peering.connection_id, description="Id of the VPC peering connection")
        self.output(
            "peering_connection_status",
            self.peering.status,
            description="Status of the peering connection as the accepter sees it (active)",
        )
        self.output(
            "accepter_role_arn",
            self.accepter_role.role_arn,
            description="Role in the analytics account that accepts and configures the peering",
        )
        for side in SIDES:
            self._side_outputs(side)
        self.output(
            "dashboard_url",
            self.monitors["trading"].dashboard_url,
            description="CloudWatch dashboard for network monitoring (trading account)",
        )

    def _side_outputs(self, side: SideName) -> None:
        vpc, tables = self.vpcs[side], self.vpcs[side].route_table_ids(PRIVATE)
        peered = [tables[i] for i in peered_indices(self.contexts[side], side)]
        outputs = {
            "vpc_id": (vpc.vpc_id, f"VPC id of the {side} side"),
            "route_table_ids": (
                Fn.join(",", tables),
                f"Route table ids of the {side} private subnets, comma-separated",
            ),
            "peered_route_table_ids": (
                Fn.join(",", peered),
                f"Route table ids of the {side} subnets that route to the peer",
            ),
            "security_group_id": (
                self.firewalls[side].security_group_id,
                f"Security group for peering traffic on the {side} side",
            ),
            "nacl_id": (self.firewalls[side].nacl_id, f"Network ACL of the {side} peered subnets"),
            "flow_log_bucket_name": (self.storage[side].bucket.bucket_name, f"S3 bucket of the {side} VPC flow logs"),
            "flow_log_group_name": (
                self.storage[side].log_group.log_group_name,
                f"CloudWatch log group of the {side} VPC flow logs",
            ),
            "alarm_topic_arn": (self.monitors[side].topic.topic_arn, f"SNS topic of the {side} network alarms"),
            "dashboard_url": (self.monitors[side].dashboard_url, f"CloudWatch dashboard of the {side} network"),
        }
        for name, (value, description) in outputs.items():
            self.output(f"{side}_{name}", value, description=description)
