"""The web ACL in front of each regional API stage."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref, resources

from ..conftest import REGIONS, SHORT


@pytest.mark.parametrize("region", REGIONS)
def test_web_acl_protects_the_stage_with_managed_rules_and_rate_limit(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    acl = only(stack, "aws_wafv2_web_acl", name=f"payments-api-{SHORT[region]}-dev")
    assert acl["scope"] == "REGIONAL"
    assert acl["default_action"] == {"allow": {}}
    rules = {r["name"]: r for r in acl["rule"]}
    assert [r["priority"] for r in acl["rule"]] == [1, 2, 3, 4]
    for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        assert rules[group]["statement"] == {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}}
        assert rules[group]["override_action"] == {"none": {}}
    anonymous = rules["AWSManagedRulesAnonymousIpList"]["statement"]["managed_rule_group_statement"]
    assert anonymous["rule_action_override"] == [{"name": "HostingProviderIPList", "action_to_use": {"count": {}}}]
    assert rules["per-ip-rate-limit"]["statement"] == {
        "rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}
    }
    assert rules["per-ip-rate-limit"]["action"] == {"block": {}}
    acl_name = name_of(stack, "aws_wafv2_web_acl", name=f"payments-api-{SHORT[region]}-dev")
    association = next(iter(resources(stack, "aws_wafv2_web_acl_association").values()))
    assert association["web_acl_arn"] == ref("aws_wafv2_web_acl", acl_name, "arn")
    assert association["resource_arn"] == ref(
        "aws_api_gateway_stage", name_of(stack, "aws_api_gateway_stage", stage_name="v1"), "arn"
    )
    logging = next(iter(resources(stack, "aws_wafv2_web_acl_logging_configuration").values()))
    group = name_of(stack, "aws_cloudwatch_log_group", name=f"aws-waf-logs-payments-api-{SHORT[region]}-dev")
    assert logging["log_destination_configs"] == [ref("aws_cloudwatch_log_group", group, "arn")]
