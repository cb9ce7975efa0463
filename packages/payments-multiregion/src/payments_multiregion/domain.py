"""The regional API's public name: a TLS 1.2 custom domain with a DNS-validated certificate, this
region's latency record, and the health check that withdraws the record when the region fails.

Every region's certificate for the same name asks for the same validation record (records are
written with ``allow_overwrite``). Draining a region (``in_service = false``) inverts its health
check, so Route 53 stops answering with it while everything keeps running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordLatencyRoutingPolicy,
)
from shared_constructs.cdk import TerraformResourceLifecycle
from shared_constructs.naming import Kind

if TYPE_CHECKING:
    from payments_multiregion.api import PaymentsApi


@dataclass(frozen=True)
class CustomDomain:
    """What :func:`add_custom_domain` built."""

    domain: ApiGatewayDomainName
    health_check: Route53HealthCheck
    latency_record: Route53Record


def add_custom_domain(api: PaymentsApi, *, zone_id: str, health_alarm_name: str) -> CustomDomain:
    """Give ``api`` its custom domain, latency record and health check (module docstring), built
    in ``api``'s own scope; the health check follows the canary alarm ``health_alarm_name``."""
    ctx = api.context
    dns, region = ctx.settings.dns, ctx.region
    certificate = AcmCertificate(
        api,
        "certificate",
        domain_name=dns.api_name,
        validation_method="DNS",
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
    )
    option = certificate.domain_validation_options.get(0)
    validation_record = Route53Record(
        api,
        "certificate_validation_record",
        zone_id=zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=60,
        allow_overwrite=True,
    )
    validated = AcmCertificateValidation(
        api,
        "certificate_validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[validation_record.fqdn],
    )
    domain = ApiGatewayDomainName(
        api,
        "domain",
        domain_name=dns.api_name,
        regional_certificate_arn=validated.certificate_arn,
        security_policy="TLS_1_2",
        endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
    )
    ApiGatewayBasePathMapping(
        api, "mapping", api_id=api.api.id, stage_name=api.stage.stage_name, domain_name=domain.domain_name
    )
    # Route 53 reads the canary alarm's state: no checker calls the API, so nothing from outside
    # can make the check fail. Before the alarm has data, the check keeps its last status (healthy
    # when new), so a fresh deployment is not withdrawn from DNS while its canary starts.
    health_check = Route53HealthCheck(
        api,
        "health_check",
        type="CLOUDWATCH_METRIC",
        cloudwatch_alarm_name=health_alarm_name,
        cloudwatch_alarm_region=region,
        insufficient_data_health_status="LastKnownStatus",
        invert_healthcheck=not ctx.settings.for_region(region).in_service,
        tags={"Name": ctx.name(Kind.GENERIC, "api-health")},
    )
    latency_record = Route53Record(
        api,
        "latency_record",
        zone_id=zone_id,
        name=dns.api_name,
        type="A",
        set_identifier=region,
        latency_routing_policy=Route53RecordLatencyRoutingPolicy(region=region),
        health_check_id=health_check.id,
        alias=Route53RecordAlias(
            name=domain.regional_domain_name, zone_id=domain.regional_zone_id, evaluate_target_health=True
        ),
    )
    return CustomDomain(domain, health_check, latency_record)
