"""API custom domains, latency records and the health checks that follow each region's canary alarm."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref, resources

from ..conftest import REGIONS


@pytest.mark.requirement("PAY-7", "DR-2", "DR-3", "DR-C11")
@pytest.mark.parametrize("region", REGIONS)
def test_latency_record_with_health_check(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    record = only(stack, "aws_route53_record", name="api.payments-dev.example.com", type="A")
    assert record["set_identifier"] == region
    assert record["latency_routing_policy"] == {"region": region}
    domain = name_of(stack, "aws_api_gateway_domain_name", domain_name="api.payments-dev.example.com")
    assert record["alias"] == {
        "name": ref("aws_api_gateway_domain_name", domain, "regional_domain_name"),
        "zone_id": ref("aws_api_gateway_domain_name", domain, "regional_zone_id"),
        "evaluate_target_health": True,
    }
    checks = resources(stack, "aws_route53_health_check")
    assert len(checks) == 1
    name, check = next(iter(checks.items()))
    assert record["health_check_id"] == ref("aws_route53_health_check", name, "id")
    # Route 53 follows the canary's alarm: no checker calls the API, nothing outside can fail it.
    assert check["type"] == "CLOUDWATCH_METRIC"
    assert check["cloudwatch_alarm_name"] == ref(
        "aws_cloudwatch_metric_alarm",
        name_of(stack, "aws_cloudwatch_metric_alarm", metric_name="RegionHealthy"),
        "alarm_name",
    )
    assert check["cloudwatch_alarm_region"] == region
    assert check["insufficient_data_health_status"] == "LastKnownStatus"
    assert check["invert_healthcheck"] is False
    assert not {"fqdn", "resource_path", "request_interval", "port"} & set(check)
    assert record["zone_id"] == "${data.aws_route53_zone.zone.zone_id}"


@pytest.mark.requirement("PAY-7", "DR-C9", "DR-C19")
@pytest.mark.parametrize("region", REGIONS)
def test_custom_domain_is_regional_tls12_with_dns_validated_certificate(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    domain = only(stack, "aws_api_gateway_domain_name", domain_name="api.payments-dev.example.com")
    assert domain["security_policy"] == "TLS_1_2"
    assert domain["endpoint_configuration"] == {"types": ["REGIONAL"]}
    assert domain["regional_certificate_arn"].endswith(".certificate_arn}")
    cert = only(stack, "aws_acm_certificate", domain_name="api.payments-dev.example.com")
    assert cert["validation_method"] == "DNS"
    validation = [r for r in resources(stack, "aws_route53_record").values() if r.get("allow_overwrite")]
    assert len(validation) == 1
    assert validation[0]["ttl"] == 60


def test_global_stack_creates_the_zone_when_none_is_configured(stacks: dict[str, Any]) -> None:
    zone = only(stacks["payments-global"], "aws_route53_zone", name="payments-dev.example.com")
    assert zone["force_destroy"] is True
    lookup = stacks["payments-us-east-1"]["data"]["aws_route53_zone"]["zone"]
    assert (lookup["name"], lookup["private_zone"]) == ("payments-dev.example.com", False)
