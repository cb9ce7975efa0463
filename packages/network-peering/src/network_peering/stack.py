"""The ``network-peering`` stack: both accounts in one stack, through two providers.

Trading (requester) uses the stack's default provider; analytics (accepter) uses an aliased
provider that assumes the configured role in the analytics account with the external id.
"""

from __future__ import annotations

from shared_constructs.cdk import Construct, Fn
from shared_constructs.contracts import security_baseline
from shared_constructs.stack import PlatformStack
from shared_constructs.state import RemoteOutputs

from network_peering.accepter_role import AccepterRole
from network_peering.compliance import ComplianceRules
from network_peering.context import PeerSide
from network_peering.endpoints import GatewayEndpoints
from network_peering.firewall import PeeringFirewall
from network_peering.flow_logs import FlowLogs, side_key
from network_peering.monitoring import PeeringMonitoring
from network_peering.peering import Peering
from network_peering.settings import Settings
from network_peering.vpc import SideNetwork

PACKAGE = "network-peering"
STACK = "network-peering"


class PeeringStack(PlatformStack):
    """Cross-account VPC peering between trading and analytics (see README)."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        trading_cfg, analytics_cfg = settings.trading, settings.analytics
        super().__init__(
            scope,
            STACK,
            settings=settings,
            package=PACKAGE,
            region=trading_cfg.region,
            assume_role_arn=trading_cfg.assume_role_arn,
        )
        analytics_provider = self.provider_for(
            analytics_cfg.region,
            account="analytics",
            assume_role_arn=analytics_cfg.assume_role_arn,
            external_id=analytics_cfg.external_id,
        )
        trading = PeerSide(
            label="trading", config=trading_cfg, settings=settings, provider=self.provider, namer=self.namer
        )
        analytics = PeerSide(
            label="analytics", config=analytics_cfg, settings=settings, provider=analytics_provider, namer=self.namer
        )
        sides = (trading, analytics)

        networks = {s.label: SideNetwork(self, f"{s.label}_network", s) for s in sides}
        keys = {s.label: side_key(self, f"{s.label}_key", s) for s in sides}
        logs = {s.label: FlowLogs(self, f"{s.label}_flow_logs", s, networks[s.label], keys[s.label]) for s in sides}
        peering = Peering(
            self,
            "peering",
            requester=trading,
            accepter=analytics,
            requester_network=networks["trading"],
            accepter_network=networks["analytics"],
        )
        firewalls = {
            s.label: PeeringFirewall(self, f"{s.label}_firewall", s, networks[s.label], p)
            for s, p in ((trading, analytics), (analytics, trading))
        }
        for s in sides:
            GatewayEndpoints(self, f"{s.label}_endpoints", s, networks[s.label])
        accepter_role = AccepterRole(
            self,
            "accepter_role",
            accepter=analytics,
            requester=trading,
            network=networks["analytics"],
            peering=peering,
            external_id=analytics_cfg.external_id,
        )
        baseline_topics: list[str] = []
        if settings.monitoring.notify_security_baseline:
            baseline = RemoteOutputs(
                self, "baseline", settings=settings, stack=security_baseline.stack(trading_cfg.region)
            )
            baseline_topics.append(baseline.get(security_baseline.SECURITY_TOPIC_ARN))
        monitors = {
            s.label: PeeringMonitoring(
                self,
                f"{s.label}_monitoring",
                s,
                p,
                logs[s.label],
                keys[s.label],
                extra_alarm_actions=baseline_topics if s is trading else (),
            )
            for s, p in ((trading, analytics), (analytics, trading))
        }
        if settings.compliance.config_rules:
            for s in sides:
                ComplianceRules(
                    self, f"{s.label}_compliance", s, networks[s.label], firewalls[s.label].security_group_id
                )

        self.output("peering_connection_id", peering.connection_id, description="Id of the VPC peering connection")
        self.output(
            "peering_connection_status",
            peering.status,
            description="Status of the peering connection as the accepter sees it (active)",
        )
        self.output(
            "accepter_role_arn",
            accepter_role.role_arn,
            description="Role in the analytics account that accepts and configures the peering",
        )
        for s in sides:
            net = networks[s.label]
            self.output(f"{s.label}_vpc_id", net.vpc_id, description=f"VPC id of the {s.label} side")
            self.output(
                f"{s.label}_route_table_ids",
                Fn.join(",", net.route_table_ids),
                description=f"Route table ids of the {s.label} private subnets, comma-separated",
            )
            self.output(
                f"{s.label}_peered_route_table_ids",
                Fn.join(",", net.peered_route_table_ids()),
                description=f"Route table ids of the {s.label} subnets that route to the peer",
            )
            self.output(
                f"{s.label}_security_group_id",
                firewalls[s.label].security_group_id,
                description=f"Security group for peering traffic on the {s.label} side",
            )
            self.output(
                f"{s.label}_nacl_id",
                firewalls[s.label].nacl_id,
                description=f"Network ACL of the {s.label} peered subnets",
            )
            self.output(
                f"{s.label}_flow_log_bucket_name",
                logs[s.label].bucket.bucket_name,
                description=f"S3 bucket of the {s.label} VPC flow logs",
            )
            self.output(
                f"{s.label}_flow_log_group_name",
                logs[s.label].log_group_name,
                description=f"CloudWatch log group of the {s.label} VPC flow logs",
            )
            self.output(
                f"{s.label}_alarm_topic_arn",
                monitors[s.label].topic.arn,
                description=f"SNS topic of the {s.label} network alarms",
            )
            self.output(
                f"{s.label}_dashboard_url",
                monitors[s.label].dashboard_url,
                description=f"CloudWatch dashboard of the {s.label} network",
            )
        self.output(
            "dashboard_url",
            monitors["trading"].dashboard_url,
            description="CloudWatch dashboard for network monitoring (trading account)",
        )
