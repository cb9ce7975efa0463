"""Route 53 Resolver DNS Firewall on the VPC: names the platform uses resolve, every other name is blocked.

Network Firewall inspects what leaves the workload tier, but DNS queries go to the VPC's Resolver,
which answers them from outside the VPC: a channel out that the TLS-SNI list never sees. The rule
group allows the domains the platform uses (:func:`allowed_domains`: the AWS endpoints of its region
it calls, S3 and RDS names in the region, the OS package repositories of the batch hosts, and the
private zone) at priority 100, and blocks every other name (``*``) at priority 200 with NXDOMAIN.
The firewall fails closed: if the Resolver cannot evaluate a query it is not answered. Every query,
blocked ones with the rule that blocked them, goes to a log group encrypted with the logs key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.route53_resolver_firewall_config import Route53ResolverFirewallConfig
from cdktf_cdktf_provider_aws.route53_resolver_firewall_domain_list import Route53ResolverFirewallDomainList
from cdktf_cdktf_provider_aws.route53_resolver_firewall_rule import Route53ResolverFirewallRule
from cdktf_cdktf_provider_aws.route53_resolver_firewall_rule_group import Route53ResolverFirewallRuleGroup
from cdktf_cdktf_provider_aws.route53_resolver_firewall_rule_group_association import (
    Route53ResolverFirewallRuleGroupAssociation,
)
from cdktf_cdktf_provider_aws.route53_resolver_query_log_config import Route53ResolverQueryLogConfig
from cdktf_cdktf_provider_aws.route53_resolver_query_log_config_association import (
    Route53ResolverQueryLogConfigAssociation,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind

from pci_platform.config import Settings
from pci_platform.security import PlatformKeys

ALLOW_PRIORITY, BLOCK_PRIORITY = 100, 200
ASSOCIATION_PRIORITY = 101
"""AWS reserves association priorities 100 and 9900 (and everything outside them) for its own groups."""
BLOCKED_LOG_PATTERN = '{ $.firewall_rule_action = "BLOCK" }'


def allowed_domains(settings: Settings) -> list[str]:
    """The names the platform resolves, sorted: the AWS endpoints it calls (``firewall.allowed_domains``,
    the same list the TLS-SNI rule allows), S3 and RDS in the region (gateway endpoint, cluster and
    proxy endpoints), the OS package repositories (``application.os_repository_buckets``, as the
    hosts' package manager names them), and the private zone."""
    region = settings.region
    return sorted(
        {
            *settings.firewall.allowed_domains,
            f"s3.{region}.amazonaws.com",
            f"*.s3.{region}.amazonaws.com",
            f"*.{region}.rds.amazonaws.com",
            *(
                f"{bucket}.s3.dualstack.{region}.amazonaws.com"
                for bucket in settings.application.repository_buckets(region)
            ),
            settings.dns.zone_name,
            f"*.{settings.dns.zone_name}",
        }
    )


@dataclass(frozen=True, kw_only=True)
class DnsFirewallProps:
    """Props of :class:`DnsFirewall`: the VPC it guards and the ``keys`` (its query log uses the logs key)."""

    context: AppContext[Settings]
    vpc_id: str
    keys: PlatformKeys


class DnsFirewall(Construct):
    """Domain lists, the rule group and its VPC association, fail-closed configuration, query logging."""

    def __init__(self, scope: Construct, id: str, props: DnsFirewallProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        allowed = Route53ResolverFirewallDomainList(
            self,
            "allowed",
            name=ctx.name(Kind.GENERIC, "dns-allowed"),
            domains=allowed_domains(ctx.settings),
        )
        everything = Route53ResolverFirewallDomainList(
            self, "everything", name=ctx.name(Kind.GENERIC, "dns-everything"), domains=["*"]
        )
        self.rule_group = Route53ResolverFirewallRuleGroup(self, "rules", name=ctx.name(Kind.GENERIC, "dns-egress"))
        Route53ResolverFirewallRule(
            self,
            "allow_platform",
            name=ctx.name(Kind.GENERIC, "dns-allow-platform"),
            action="ALLOW",
            firewall_domain_list_id=allowed.id,
            firewall_rule_group_id=self.rule_group.id,
            priority=ALLOW_PRIORITY,
        )
        Route53ResolverFirewallRule(
            self,
            "block_rest",
            name=ctx.name(Kind.GENERIC, "dns-block-rest"),
            action="BLOCK",
            block_response="NXDOMAIN",
            firewall_domain_list_id=everything.id,
            firewall_rule_group_id=self.rule_group.id,
            priority=BLOCK_PRIORITY,
        )
        Route53ResolverFirewallRuleGroupAssociation(
            self,
            "association",
            name=ctx.name(Kind.GENERIC, "dns-egress"),
            firewall_rule_group_id=self.rule_group.id,
            vpc_id=props.vpc_id,
            priority=ASSOCIATION_PRIORITY,
            mutation_protection="ENABLED",
        )
        # Fail closed: a query the firewall cannot evaluate is not answered.
        Route53ResolverFirewallConfig(self, "config", resource_id=props.vpc_id, firewall_fail_open="DISABLED")
        self.log_group = EncryptedLogGroup(
            self,
            "query_logs",
            LogGroupProps(context=ctx, name=ctx.path(Kind.LOG_GROUP, "dns-queries"), key=props.keys.logs),
        )
        query_logs = Route53ResolverQueryLogConfig(
            self,
            "query_log_config",
            name=ctx.name(Kind.GENERIC, "dns-queries"),
            destination_arn=self.log_group.log_group_arn,
        )
        Route53ResolverQueryLogConfigAssociation(
            self, "query_log_association", resolver_query_log_config_id=query_logs.id, resource_id=props.vpc_id
        )
