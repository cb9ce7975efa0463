"""AWS Network Firewall: the only egress path of the workload tier (PCI DSS 1.3, 1.4).

Rule evaluation is ``STRICT_ORDER`` with the default actions ``aws:drop_established`` and
``aws:alert_established``: a connection is admitted for its TCP handshake only, so that the TLS
ClientHello can be read; unless a pass rule matches its server name (SNI) it is then dropped and
logged. Rule groups, in priority order:

1. ``deny-non-tls``: drops any TCP egress to a port other than 443, any UDP egress, and TLS
   older than 1.2, before anything else is looked at.
2. ``allow-aws-endpoints``: a domain allow list (TLS SNI) of the configured AWS service endpoints.

Routing: each workload subnet sends ``0.0.0.0/0`` to the firewall endpoint of its AZ, and the
traffic to each interface-endpoint subnet through the firewall endpoint of that subnet's AZ (the
endpoint tier routes the workload subnets back the same way, so both directions of a flow meet
the same endpoint). Flow logs go to the flow-log bucket (SSE-KMS), alert logs to a KMS-encrypted
log group.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.networkfirewall_firewall import NetworkfirewallFirewall
from cdktf_cdktf_provider_aws.networkfirewall_firewall_policy import (
    NetworkfirewallFirewallPolicy,
    NetworkfirewallFirewallPolicyFirewallPolicy,
    NetworkfirewallFirewallPolicyFirewallPolicyStatefulEngineOptions,
    NetworkfirewallFirewallPolicyFirewallPolicyStatefulRuleGroupReference,
)
from cdktf_cdktf_provider_aws.networkfirewall_logging_configuration import (
    NetworkfirewallLoggingConfiguration,
    NetworkfirewallLoggingConfigurationLoggingConfiguration,
    NetworkfirewallLoggingConfigurationLoggingConfigurationLogDestinationConfig,
)
from cdktf_cdktf_provider_aws.networkfirewall_rule_group import (
    NetworkfirewallRuleGroup,
    NetworkfirewallRuleGroupRuleGroup,
    NetworkfirewallRuleGroupRuleGroupRulesSource,
    NetworkfirewallRuleGroupRuleGroupRulesSourceRulesSourceListStruct,
    NetworkfirewallRuleGroupRuleGroupStatefulRuleOptions,
)
from cdktf_cdktf_provider_aws.route import Route
from shared_constructs.cdk import Construct, Fn, TerraformLocal, Token
from shared_constructs.context import AppContext
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.storage import SecureBucket

from pci_platform.config import Settings
from pci_platform.networking import ENDPOINT, FIREWALL, WORKLOAD, Network
from pci_platform.security import PlatformKeys

STRICT_ORDER = "STRICT_ORDER"
DEFAULT_ACTIONS = ["aws:drop_established", "aws:alert_established"]
"""Drop (and log) every established flow no pass rule admitted: the firewall's default is drop."""
DENY_NON_TLS_RULES = "\n".join(
    (
        'drop tcp $HOME_NET any -> any !443 (msg:"egress to a port other than 443"; flow:to_server; sid:1000001; rev:1;)',
        'drop udp $HOME_NET any -> any any (msg:"UDP egress"; sid:1000002; rev:1;)',
        'drop tls $HOME_NET any -> any any (msg:"TLS older than 1.2"; ssl_version:sslv2,sslv3,tls1.0,tls1.1; '
        "sid:1000003; rev:1;)",
    )
)
"""Suricata rules of the first rule group (sids 1000001-1000003)."""


@dataclass(frozen=True, kw_only=True)
class FirewallProps:
    """Props of :class:`EgressFirewall` (its rules from ``settings.firewall``): the ``network`` it
    sits in, the ``keys``, and the bucket its flow logs go to."""

    context: AppContext[Settings]
    network: Network
    keys: PlatformKeys
    flow_log_bucket: SecureBucket


class EgressFirewall(Construct):
    """The firewall, its rule groups and policy, its logging, and the routes that steer egress to it."""

    def __init__(self, scope: Construct, id: str, props: FirewallProps) -> None:
        super().__init__(scope, id)
        ctx, keys, network = props.context, props.keys, props.network
        settings = ctx.settings
        self.allowed_domains = sorted(settings.firewall.allowed_domains)
        self.alert_log_group = EncryptedLogGroup(
            self,
            "alert_logs",
            LogGroupProps(context=ctx, name=ctx.path(Kind.LOG_GROUP, "network-firewall", "alerts"), key=keys.logs),
        )
        # Rules, policy and firewall are encrypted with the logs key. Network Firewall uses the key
        # through grants made on the caller's behalf, so principals of this account may use it
        # through Network Firewall only.
        keys.logs.grant_account_via_service(
            "NetworkFirewallUse",
            "network-firewall",
            ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"),
        )
        encryption = {"key_id": keys.logs.key_arn, "type": "CUSTOMER_KMS"}
        policy = self._policy(ctx, encryption)
        self.firewall = NetworkfirewallFirewall(
            self,
            "firewall",
            name=ctx.name(Kind.FIREWALL, "egress"),
            description="Inspects all egress of the workload tier",
            vpc_id=network.vpc_id,
            encryption_configuration=encryption,
            firewall_policy_arn=policy.arn,
            delete_protection=settings.protect_stateful,
            subnet_change_protection=settings.protect_stateful,
            firewall_policy_change_protection=settings.protect_stateful,
            subnet_mapping=[{"subnetId": s} for s in network.subnet_ids(FIREWALL)],
        )
        self.firewall_arn = self.firewall.arn
        self._logging(props.flow_log_bucket)
        self._routes(network)

    def _policy(self, ctx: AppContext[Settings], encryption: dict[str, str]) -> NetworkfirewallFirewallPolicy:
        """Strict order: drop non-TLS first (priority 100), then pass the allowed domains; default drop."""
        config = ctx.settings.firewall
        deny = NetworkfirewallRuleGroup(
            self,
            "deny_non_tls",
            name=ctx.name(Kind.FIREWALL, "deny-non-tls"),
            description="Drop non-TLS egress and TLS older than 1.2",
            type="STATEFUL",
            capacity=config.rule_group_capacity,
            encryption_configuration=encryption,
            rule_group=NetworkfirewallRuleGroupRuleGroup(
                rules_source=NetworkfirewallRuleGroupRuleGroupRulesSource(rules_string=DENY_NON_TLS_RULES),
                stateful_rule_options=NetworkfirewallRuleGroupRuleGroupStatefulRuleOptions(rule_order=STRICT_ORDER),
            ),
        )
        allow = NetworkfirewallRuleGroup(
            self,
            "allow_aws_endpoints",
            name=ctx.name(Kind.FIREWALL, "allow-aws-endpoints"),
            description="Pass TLS to the listed AWS service endpoints only",
            type="STATEFUL",
            capacity=config.rule_group_capacity,
            encryption_configuration=encryption,
            rule_group=NetworkfirewallRuleGroupRuleGroup(
                rules_source=NetworkfirewallRuleGroupRuleGroupRulesSource(
                    rules_source_list=NetworkfirewallRuleGroupRuleGroupRulesSourceRulesSourceListStruct(
                        generated_rules_type="ALLOWLIST", target_types=["TLS_SNI"], targets=self.allowed_domains
                    )
                ),
                stateful_rule_options=NetworkfirewallRuleGroupRuleGroupStatefulRuleOptions(rule_order=STRICT_ORDER),
            ),
        )
        return NetworkfirewallFirewallPolicy(
            self,
            "policy",
            name=ctx.name(Kind.FIREWALL, "egress"),
            description="Strict-order egress policy: TLS to AWS endpoints, default drop",
            encryption_configuration=encryption,
            firewall_policy=NetworkfirewallFirewallPolicyFirewallPolicy(
                stateless_default_actions=["aws:forward_to_sfe"],
                stateless_fragment_default_actions=["aws:forward_to_sfe"],
                stateful_default_actions=DEFAULT_ACTIONS,
                stateful_engine_options=NetworkfirewallFirewallPolicyFirewallPolicyStatefulEngineOptions(
                    rule_order=STRICT_ORDER
                ),
                stateful_rule_group_reference=[
                    NetworkfirewallFirewallPolicyFirewallPolicyStatefulRuleGroupReference(
                        resource_arn=deny.arn, priority=100
                    ),
                    NetworkfirewallFirewallPolicyFirewallPolicyStatefulRuleGroupReference(
                        resource_arn=allow.arn, priority=200
                    ),
                ],
            ),
        )

    def _logging(self, flow_log_bucket: SecureBucket) -> None:
        """Flow records to the bucket, alerts to the alert log group."""
        NetworkfirewallLoggingConfiguration(
            self,
            "logging",
            firewall_arn=self.firewall.arn,
            logging_configuration=NetworkfirewallLoggingConfigurationLoggingConfiguration(
                log_destination_config=[
                    NetworkfirewallLoggingConfigurationLoggingConfigurationLogDestinationConfig(
                        log_type="FLOW",
                        log_destination_type="S3",
                        log_destination={"bucketName": flow_log_bucket.bucket_name},
                    ),
                    NetworkfirewallLoggingConfigurationLoggingConfigurationLogDestinationConfig(
                        log_type="ALERT",
                        log_destination_type="CloudWatchLogs",
                        log_destination={"logGroup": self.alert_log_group.log_group_name},
                    ),
                ]
            ),
        )

    def _routes(self, network: Network) -> None:
        # Firewall endpoint id by firewall subnet id (the provider exposes them as an unordered set).
        sync_states = f"tolist({self.firewall.fqn}.firewall_status[0].sync_states)"
        endpoints = TerraformLocal(
            self,
            "endpoint_by_subnet",
            "${{for s in " + sync_states + " : s.attachment[0].subnet_id => s.attachment[0].endpoint_id}}",
        )
        firewall_subnets = network.subnet_ids(FIREWALL)

        def endpoint(az: int) -> str:
            return Token.as_string(Fn.lookup(endpoints.as_any_map, firewall_subnets[az]))

        for az, table in enumerate(network.route_table_ids(WORKLOAD)):
            Route(
                self,
                f"workload_{az}_default",
                route_table_id=table,
                destination_cidr_block="0.0.0.0/0",
                vpc_endpoint_id=endpoint(az),
            )
            # Traffic to the interface endpoints of AZ j is inspected by the firewall endpoint of AZ j.
            for j, cidr in enumerate(network.cidrs(ENDPOINT)):
                Route(
                    self,
                    f"workload_{az}_to_endpoint_{j}",
                    route_table_id=table,
                    destination_cidr_block=cidr,
                    vpc_endpoint_id=endpoint(j),
                )
        for j, table in enumerate(network.route_table_ids(ENDPOINT)):
            for az, cidr in enumerate(network.cidrs(WORKLOAD)):
                Route(
                    self,
                    f"endpoint_{j}_to_workload_{az}",
                    route_table_id=table,
                    destination_cidr_block=cidr,
                    vpc_endpoint_id=endpoint(j),
                )
