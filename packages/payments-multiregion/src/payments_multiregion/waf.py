"""The rules of the regional web ACL in front of the payments API stage (``shared_constructs.waf``):
AWS managed rules for common exploits, known bad inputs and anonymizers, and a per-IP rate limit."""

from __future__ import annotations

from shared_constructs.waf import WafRule, managed_rule_group, rate_limit

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAnonymousIpList",
)
COUNTED_RULES = {"AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",)}
"""Merchants call the API from servers at hosting providers: count those, block anonymizers only."""
RATE_RULE = "per-ip-rate-limit"


def api_rules(rate_limit_per_ip: int) -> list[WafRule]:
    """The managed rule groups in order (each its own metric), then the per-IP rate limit."""
    rules: list[WafRule] = [
        managed_rule_group(group, index + 1, group, metric=group, count=COUNTED_RULES.get(group, ()))
        for index, group in enumerate(MANAGED_RULE_GROUPS)
    ]
    rules.append(rate_limit(RATE_RULE, len(rules) + 1, rate_limit_per_ip, metric=RATE_RULE))
    return rules
