"""AWS WAF (v2, regional): a web ACL in front of a load balancer or an API stage, with its logs.

Rules are written in the provider's block shape (Terraform JSON) with the builders below and set
with an override: the Python bindings convert only the first levels of nested dictionaries, and
WAF statements nest deeper. Default action: allow; every rule publishes its metric and samples.
Logs go to an encrypted CloudWatch log group or to an encrypted S3 bucket, both named
``aws-waf-logs-...`` as WAF requires; ``blocked_only`` keeps only the requests a rule blocked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.settings import BaseSettings
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

WafRule = Mapping[str, Any]
"""One rule of a web ACL in the provider's block shape (build it with the functions below)."""


def visibility(metric: str) -> dict[str, Any]:
    """CloudWatch metrics and sampled requests under ``metric``."""
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def managed_rule_group(
    name: str, priority: int, group: str, *, metric: str, count: Sequence[str] = ()
) -> dict[str, Any]:
    """AWS managed rule group ``group`` (``AWSManagedRulesCommonRuleSet``...), its own actions kept;
    the rules named in ``count`` only count (for rules a known client would trip)."""
    statement: dict[str, Any] = {"name": group, "vendor_name": "AWS"}
    if count:
        statement["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in count]
    return {
        "name": name,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": visibility(metric),
    }


def rate_limit(name: str, priority: int, limit: int, *, metric: str, window_s: int | None = None) -> dict[str, Any]:
    """Block a client IP above ``limit`` requests in the evaluation window (Default: 5 minutes)."""
    statement: dict[str, Any] = {"limit": limit, "aggregate_key_type": "IP"}
    if window_s is not None:
        statement["evaluation_window_sec"] = window_s
    return block(name, priority, {"rate_based_statement": statement}, metric=metric)


def block(name: str, priority: int, statement: Mapping[str, Any], *, metric: str) -> dict[str, Any]:
    """Block requests matching ``statement`` (a WAF statement in block shape)."""
    return {
        "name": name,
        "priority": priority,
        "action": {"block": {}},
        "statement": dict(statement),
        "visibility_config": visibility(metric),
    }


@dataclass(frozen=True, kw_only=True)
class WafLogBucket:
    """Logs to an S3 bucket ``aws-waf-logs-<service>-<name>-<region>-<suffix>`` (SSE-KMS with the
    ACL's key, access-logged to ``access_log_bucket``), deleted after ``expiration_days``.

    ``glacier_days``: move logs to Glacier after that many days. Default: never.
    """

    access_log_bucket: SecureBucket
    expiration_days: int = 365
    glacier_days: int | None = None
    noncurrent_expiration_days: int = 30


@dataclass(frozen=True, kw_only=True)
class WebAclProps:
    """Props of :class:`WebAcl`.

    ``name``: resource part of the ACL's name (its metric too) and of its log destination's name.
    ``rules``: the rules, in priority order. ``key``: encrypts the logs.
    ``resource_arn``: what the ACL protects (an ALB, an API Gateway stage). Default: nothing yet
    (an ACL shared later, or associated by another stack).
    ``log_bucket``: log to S3 as described. Default: a CloudWatch log group
    ``aws-waf-logs-<service>-<name>-<region>-<suffix>`` with the settings' retention.
    ``blocked_only``: log only blocked requests. Default False (every request).
    """

    context: AppContext[BaseSettings]
    name: str
    description: str
    rules: Sequence[WafRule]
    key: Key
    resource_arn: str | None = None
    log_bucket: WafLogBucket | None = None
    blocked_only: bool = False
    scope: Literal["REGIONAL"] = "REGIONAL"


class WebAcl(Construct):
    """The web ACL, its association with the protected resource, and its logging."""

    def __init__(self, scope: Construct, id: str, props: WebAclProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        priorities = [rule["priority"] for rule in props.rules]
        if not props.rules or len(set(priorities)) != len(priorities):
            raise ValueError(f"web ACL {props.name!r}: needs rules with distinct priorities, got {priorities}")
        self.name = ctx.name(Kind.WAF, props.name)
        self.log_destination_arn = self._logs(props)
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=self.name,
            scope=props.scope,
            description=props.description,
            default_action={"allow": {}},
            visibility_config=visibility(self.name),
            provider=ctx.provider,
        )
        self.rules = [dict(rule) for rule in props.rules]
        self.acl.add_override("rule", self.rules)
        self.acl_arn = self.acl.arn
        if props.resource_arn is not None:
            Wafv2WebAclAssociation(
                self, "association", resource_arn=props.resource_arn, web_acl_arn=self.acl.arn, provider=ctx.provider
            )
        blocked = {
            "default_behavior": "DROP",
            "filter": [
                {
                    "behavior": "KEEP",
                    "requirement": "MEETS_ANY",
                    "condition": [{"actionCondition": {"action": "BLOCK"}}],
                }
            ],
        }
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[self.log_destination_arn],
            logging_filter=blocked if props.blocked_only else None,
            provider=ctx.provider,
        )

    def _logs(self, props: WebAclProps) -> str:
        ctx = props.context
        if props.log_bucket is None:
            self.log_group: EncryptedLogGroup | None = EncryptedLogGroup(
                self,
                "logs",
                LogGroupProps(context=ctx, name=f"aws-waf-logs-{ctx.name(Kind.GENERIC, props.name)}", key=props.key),
            )
            self.log_bucket: SecureBucket | None = None
            return self.log_group.log_group_arn
        config = props.log_bucket
        self.log_group = None
        self.log_bucket = SecureBucket(
            self,
            "logs",
            BucketProps(
                context=ctx,
                name=props.name,
                key=props.key,
                name_kind=Kind.WAF_LOG_BUCKET,
                access_log_bucket=config.access_log_bucket,
                lifecycle=(
                    LifecycleRule(
                        id="compliance-retention",
                        expiration_days=config.expiration_days,
                        transitions=((config.glacier_days, "GLACIER"),) if config.glacier_days else (),
                        noncurrent_expiration_days=config.noncurrent_expiration_days,
                    ),
                ),
            ),
        )
        self.log_bucket.allow_log_delivery()
        return self.log_bucket.bucket_arn
