"""Private DNS with failover: ``<record>.<zone>`` answers with the load balancer while it is healthy.

A private hosted zone cannot use endpoint health checks (Route 53 checkers live on the internet),
so each record's health check follows a CloudWatch alarm. The PRIMARY's is the load balancer's 5XX
alarm. The SECONDARY record points at the standby endpoint from configuration (a DR site's internal
load balancer) with a health check on the standby's alarm (``dns.standby_alarm_name``), or, when none
is configured, at the same load balancer with a health check on the same 5XX alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordFailoverRoutingPolicy,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone, Route53ZoneVpc
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.naming import Kind

from pci_platform.config import Settings


@dataclass(frozen=True, kw_only=True)
class DnsProps:
    """Props of :class:`FailoverDns` (names from ``settings.dns``): the VPC the zone serves, the
    load balancer the records point at, and the ``alarm`` that marks the primary unhealthy."""

    context: AppContext[Settings]
    vpc_id: str
    alb: Lb
    alarm: CloudwatchMetricAlarm


class FailoverDns(Construct):
    """The private zone, the alarm-based health check and the two failover records."""

    def __init__(self, scope: Construct, id: str, props: DnsProps) -> None:
        super().__init__(scope, id)
        ctx, config, alb = props.context, props.context.settings.dns, props.alb
        self._context = ctx
        region = ctx.region
        self.zone = Route53Zone(
            self,
            "zone",
            name=config.zone_name,
            comment="PCI platform private zone",
            vpc=[Route53ZoneVpc(vpc_id=props.vpc_id, vpc_region=region)],
            force_destroy=True,
        )
        self.health_check = self._health_check("primary_health", "payments-primary", props.alarm.alarm_name)
        self.standby_health_check = self._health_check(
            "secondary_health", "payments-secondary", config.standby_alarm_name or props.alarm.alarm_name
        )
        self.fqdn = f"{config.record_name}.{config.zone_name}"
        alias = Route53RecordAlias(name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True)
        Route53Record(
            self,
            "primary",
            zone_id=self.zone.zone_id,
            name=self.fqdn,
            type="A",
            set_identifier="primary",
            failover_routing_policy=Route53RecordFailoverRoutingPolicy(type="PRIMARY"),
            health_check_id=self.health_check.id,
            alias=alias,
        )
        if config.standby_dns_name:
            Route53Record(
                self,
                "secondary",
                zone_id=self.zone.zone_id,
                name=self.fqdn,
                type="CNAME",
                ttl=60,
                set_identifier="secondary",
                records=[config.standby_dns_name],
                failover_routing_policy=Route53RecordFailoverRoutingPolicy(type="SECONDARY"),
                health_check_id=self.standby_health_check.id,
            )
        else:
            Route53Record(
                self,
                "secondary",
                zone_id=self.zone.zone_id,
                name=self.fqdn,
                type="A",
                set_identifier="secondary",
                failover_routing_policy=Route53RecordFailoverRoutingPolicy(type="SECONDARY"),
                health_check_id=self.standby_health_check.id,
                alias=Route53RecordAlias(name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=False),
            )
        self.zone_id = self.zone.zone_id

    def _health_check(self, id: str, name: str, alarm_name: str) -> Route53HealthCheck:
        """A health check that follows ``alarm_name`` (unhealthy while it is in ALARM)."""
        ctx = self._context
        return Route53HealthCheck(
            self,
            id,
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=alarm_name,
            cloudwatch_alarm_region=ctx.region,
            insufficient_data_health_status="LastKnownStatus",
            tags={"Name": ctx.name(Kind.GENERIC, name)},
        )
