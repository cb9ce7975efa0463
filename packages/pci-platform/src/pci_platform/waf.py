"""AWS WAF (v2, regional) on the payment load balancer.

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

from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration
from shared_constructs.cdk import Construct
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import BaseSettings
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

from pci_platform.config import WafSettings
from pci_platform.data import DataStores
from pci_platform.security import PlatformKeys


# Rules are written in Terraform's JSON shape and set with an override: the Python binding only
# converts the first levels of nested dictionaries, and WAF statements nest deeper.
def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def _path_starts_with(path: str) -> dict[str, Any]:
    return {
        "byte_match_statement": {
            "field_to_match": {"uri_path": {}},
            "positional_constraint": "STARTS_WITH",
            "search_string": path,
            "text_transformation": [{"priority": 0, "type": "LOWERCASE"}],
        }
    }


def waf_rules(config: WafSettings, payment_path: str, prefix: str) -> list[dict[str, Any]]:
    """The web ACL's rules (see module docstring), in the provider's typed-block shape."""
    rules: list[dict[str, Any]] = []
    if config.blocked_countries:
        rules.append(
            {
                "name": "geo-block",
                "priority": 0,
                "action": {"block": {}},
                "statement": {"geo_match_statement": {"country_codes": sorted(config.blocked_countries)}},
                "visibility_config": _visibility(f"{prefix}-geo-block"),
            }
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
    rules.append(
        {
            "name": "payment-api-method",
            "priority": 1,
            "action": {"block": {}},
            "statement": {"and_statement": {"statement": [_path_starts_with(payment_path), not_post]}},
            "visibility_config": _visibility(f"{prefix}-payment-api-method"),
        }
    )
    rules.append(
        {
            "name": "payment-api-size",
            "priority": 2,
            "action": {"block": {}},
            "statement": {"and_statement": {"statement": [_path_starts_with(payment_path), too_large]}},
            "visibility_config": _visibility(f"{prefix}-payment-api-size"),
        }
    )
    rules.append(
        {
            "name": "rate-limit",
            "priority": 3,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "limit": config.rate_limit,
                    "aggregate_key_type": "IP",
                    "evaluation_window_sec": 300,
                }
            },
            "visibility_config": _visibility(f"{prefix}-rate-limit"),
        }
    )
    for priority, (name, group) in enumerate(
        (
            ("sql-injection", "AWSManagedRulesSQLiRuleSet"),
            ("cross-site-scripting", "AWSManagedRulesCommonRuleSet"),
            ("known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
        ),
        start=4,
    ):
        rules.append(
            {
                "name": name,
                "priority": priority,
                "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                "visibility_config": _visibility(f"{prefix}-{name}"),
            }
        )
    return rules


class PaymentWaf(Construct):
    """The web ACL, its association with the load balancer, and logging of blocked requests."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: BaseSettings,
        namer: Namer,
        region: str,
        config: WafSettings,
        payment_path: str,
        alb_arn: str,
        keys: PlatformKeys,
        data: DataStores,
    ) -> None:
        super().__init__(scope, id)
        self.log_bucket = SecureBucket(
            self,
            "logs",
            BucketProps(
                settings=settings,
                namer=namer,
                name="payments",
                region=region,
                key=keys.cardholder,
                name_kind=Kind.WAF_LOG_BUCKET,
                access_log_bucket=data.access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="compliance-retention",
                        expiration_days=365,
                        transitions=((90, "GLACIER"),),
                        noncurrent_expiration_days=30,
                    ),
                ),
            ),
        )
        self.log_bucket.allow_log_delivery()
        name = namer.name(Kind.WAF, "payments", region=region)
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            scope="REGIONAL",
            description="Payment API protection",
            default_action={"allow": {}},
            visibility_config={
                "cloudwatch_metrics_enabled": True,
                "metric_name": name,
                "sampled_requests_enabled": True,
            },
        )
        self.rules = waf_rules(config, payment_path, name)
        self.acl.add_override("rule", self.rules)
        Wafv2WebAclAssociation(self, "association", resource_arn=alb_arn, web_acl_arn=self.acl.arn)
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[self.log_bucket.bucket_arn],
            logging_filter={
                "default_behavior": "DROP",
                "filter": [
                    {
                        "behavior": "KEEP",
                        "requirement": "MEETS_ANY",
                        "condition": [{"actionCondition": {"action": "BLOCK"}}],
                    }
                ],
            },
        )
        self.acl_arn = self.acl.arn
