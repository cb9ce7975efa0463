"""A regional WAF web ACL in front of the payments API stage: AWS managed rules for common
exploits and known bad inputs, a per-IP rate limit, and logs to a KMS-encrypted log group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration
from shared_constructs.cdk import Construct
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind

from payments_multiregion.names import Names
from payments_multiregion.settings import Settings

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAnonymousIpList",
)
# Merchants call the API from servers at hosting providers: count those, block anonymizers only.
COUNTED_RULES = {"AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",)}


def _managed(group: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"name": group, "vendor_name": "AWS"}
    if group in COUNTED_RULES:
        statement["rule_action_override"] = [
            {"name": rule, "action_to_use": {"count": {}}} for rule in COUNTED_RULES[group]
        ]
    return {"managed_rule_group_statement": statement}


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


@dataclass(frozen=True, kw_only=True)
class WafProps:
    """``rate_limit``: requests per client IP in any 5 minutes before WAF blocks it."""

    settings: Settings
    names: Names
    region: str
    key: Key
    stage_arn: str
    rate_limit: int


class ApiFirewall(Construct):
    """Web ACL, its association with the API stage and its logging."""

    def __init__(self, scope: Construct, id: str, props: WafProps) -> None:
        super().__init__(scope, id)
        name = props.names.namer.name(Kind.WAF, "api", region=props.region)
        rules = [
            Wafv2WebAclRule(
                name=group,
                priority=index + 1,
                override_action=Wafv2WebAclRuleOverrideAction(none={}),
                statement=_managed(group),
                visibility_config=_visibility(group),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rate: dict[str, Any] = {"rate_based_statement": {"limit": props.rate_limit, "aggregate_key_type": "IP"}}
        rules.append(
            Wafv2WebAclRule(
                name="per-ip-rate-limit",
                priority=len(rules) + 1,
                action=Wafv2WebAclRuleAction(block={}),
                statement=rate,
                visibility_config=_visibility("per-ip-rate-limit"),
            )
        )
        self.web_acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            scope="REGIONAL",
            description="Payments API: managed rules and per-IP rate limit",
            default_action=Wafv2WebAclDefaultAction(allow={}),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        Wafv2WebAclAssociation(self, "association", resource_arn=props.stage_arn, web_acl_arn=self.web_acl.arn)
        # WAF delivers only to log groups whose name starts with aws-waf-logs-.
        logs = EncryptedLogGroup(
            self,
            "logs",
            LogGroupProps(
                settings=props.settings,
                name=f"aws-waf-logs-{props.names.namer.name(Kind.GENERIC, 'api', region=props.region)}",
                key=props.key,
                region=props.region,
            ),
        )
        Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=self.web_acl.arn, log_destination_configs=[logs.log_group_arn]
        )
