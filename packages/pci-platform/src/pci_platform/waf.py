"""The rules of the AWS WAF web ACL on the payment load balancer (``shared_constructs.waf``).

Rules in priority order (lower runs first):

0. ``geo-block`` (only when countries are configured): block requests from those countries.
1. ``payment-api-method``: on the payment path, block any method other than POST.
2. ``payment-api-size``: on the payment path, block bodies over the configured size (payment
   requests are small JSON documents).
3. ``rate-limit``: block a client IP above the configured requests per 5 minutes (default 1000).
4. ``sql-injection``: AWS managed ``AWSManagedRulesSQLiRuleSet``.
5. ``cross-site-scripting``: AWS managed ``AWSManagedRulesCommonRuleSet`` (its XSS rules among them).
6. ``known-bad-inputs``: AWS managed ``AWSManagedRulesKnownBadInputsRuleSet`` (Log4j and similar).

Default action: allow. Blocked requests only are logged (a logging filter keeps ``BLOCK``) to the
``aws-waf-logs-`` bucket, encrypted with the cardholder key (request URIs and headers may carry
payment data), kept for a year (PCI DSS 10.5.1) and moved to Glacier after 90 days.
"""

from __future__ import annotations

from typing import Any

from shared_constructs.waf import WafRule, block, managed_rule_group, rate_limit

from pci_platform.config import WafSettings


def _path_starts_with(path: str) -> dict[str, Any]:
    return {
        "byte_match_statement": {
            "field_to_match": {"uri_path": {}},
            "positional_constraint": "STARTS_WITH",
            "search_string": path,
            "text_transformation": [{"priority": 0, "type": "LOWERCASE"}],
        }
    }


def waf_rules(config: WafSettings, payment_path: str, prefix: str) -> list[WafRule]:
    """The web ACL's rules (see module docstring); ``prefix`` starts every rule's metric name."""
    rules: list[WafRule] = []
    if config.blocked_countries:
        rules.append(
            block(
                "geo-block",
                0,
                {"geo_match_statement": {"country_codes": sorted(config.blocked_countries)}},
                metric=f"{prefix}-geo-block",
            )
        )
    not_post = {
        "not_statement": {
            "statement": [
                {
                    "byte_match_statement": {
                        "field_to_match": {"method": {}},
                        "positional_constraint": "EXACTLY",
                        "search_string": "POST",
                        "text_transformation": [{"priority": 0, "type": "NONE"}],
                    }
                }
            ]
        }
    }
    too_large = {
        "size_constraint_statement": {
            "field_to_match": {"body": {"oversize_handling": "MATCH"}},
            "comparison_operator": "GT",
            "size": config.max_payment_body_bytes,
            "text_transformation": [{"priority": 0, "type": "NONE"}],
        }
    }
    # Two rules, not one: the provider nests logical statements three levels deep at most.
    on_path = _path_starts_with(payment_path)
    rules.append(
        block(
            "payment-api-method",
            1,
            {"and_statement": {"statement": [on_path, not_post]}},
            metric=f"{prefix}-payment-api-method",
        )
    )
    rules.append(
        block(
            "payment-api-size",
            2,
            {"and_statement": {"statement": [on_path, too_large]}},
            metric=f"{prefix}-payment-api-size",
        )
    )
    rules.append(rate_limit("rate-limit", 3, config.rate_limit, metric=f"{prefix}-rate-limit", window_s=300))
    for priority, (name, group) in enumerate(
        (
            ("sql-injection", "AWSManagedRulesSQLiRuleSet"),
            ("cross-site-scripting", "AWSManagedRulesCommonRuleSet"),
            ("known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
        ),
        start=4,
    ):
        rules.append(managed_rule_group(name, priority, group, metric=f"{prefix}-{name}"))
    return rules
