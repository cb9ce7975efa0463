"""Compliance monitoring: AWS Config rules for encryption and the PCI tag set, and EventBridge
rules that send critical security events to the security team's topic.

The Config recorder is security-baseline's (docs/decisions/0002-account-singletons.md); these rules
evaluate against it. The topic comes from security-baseline's published outputs
(``shared_constructs.contracts.security_baseline``): its policy lets ``events.amazonaws.com`` of
this account publish and its key lets EventBridge use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from shared_constructs.cdk import Construct
from shared_constructs.config_rules import ConfigRule, ConfigRuleProps, ManagedRule
from shared_constructs.context import AppContext
from shared_constructs.naming import Kind

from pci_platform.config import Settings

PCI_TAGS = ("DataClassification", "Environment", "Owner")
"""The tag set the PCI data-processing requirements ask on every resource (all of them required
tags of the platform, ``shared_constructs.tagging.REQUIRED_TAGS``)."""
TAG_RULE = "pci-tags"
ENCRYPTION_RULES: dict[str, tuple[str, str]] = {
    "s3-kms-encryption": ("S3_DEFAULT_ENCRYPTION_KMS", "Buckets encrypt with KMS by default"),
    "s3-sse-enabled": ("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "Buckets have default encryption"),
    "s3-tls-only": ("S3_BUCKET_SSL_REQUESTS_ONLY", "Bucket policies refuse requests without TLS"),
    "log-groups-encrypted": ("CLOUDWATCH_LOG_GROUP_ENCRYPTED", "Log groups are encrypted with KMS"),
    "kms-rotation": ("CMK_BACKING_KEY_ROTATION_ENABLED", "Customer-managed keys rotate"),
    "secrets-cmk": ("SECRETSMANAGER_USING_CMK", "Secrets are encrypted with a customer-managed key"),
    "secrets-rotation": ("SECRETSMANAGER_ROTATION_ENABLED_CHECK", "Secrets rotate automatically"),
    "lambda-in-vpc": ("LAMBDA_INSIDE_VPC", "Functions run inside a VPC"),
    "vpc-flow-logs": ("VPC_FLOW_LOGS_ENABLED", "VPCs have flow logs"),
}
"""Config rule (name part) -> (AWS managed rule identifier, what it checks)."""


def critical_event_patterns(config_rule_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """EventBridge patterns of the critical security events, by rule name part."""

    def api_calls(source: str, names: Sequence[str]) -> dict[str, Any]:
        return {
            "source": [source],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": [f"{source.removeprefix('aws.')}.amazonaws.com"], "eventName": sorted(names)},
        }

    return {
        "config-noncompliant": {
            "source": ["aws.config"],
            "detail-type": ["Config Rules Compliance Change"],
            "detail": {
                "configRuleName": sorted(config_rule_names),
                "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
            },
        },
        "network-changes": api_calls(
            "aws.ec2",
            [
                "AttachInternetGateway",
                "AuthorizeSecurityGroupEgress",
                "AuthorizeSecurityGroupIngress",
                "CreateInternetGateway",
                "CreateNatGateway",
                "CreateRoute",
                "DeleteFlowLogs",
                "ReplaceRoute",
                "RevokeSecurityGroupEgress",
                "RevokeSecurityGroupIngress",
            ],
        ),
        "firewall-changes": api_calls(
            "aws.network-firewall",
            [
                "DeleteFirewall",
                "DeleteFirewallPolicy",
                "DeleteRuleGroup",
                "DisassociateSubnets",
                "UpdateFirewallPolicy",
                "UpdateLoggingConfiguration",
                "UpdateRuleGroup",
            ],
        ),
        "key-tampering": api_calls(
            "aws.kms", ["DisableKey", "DisableKeyRotation", "PutKeyPolicy", "ScheduleKeyDeletion"]
        ),
        "storage-tampering": api_calls(
            "aws.s3",
            [
                "DeleteBucketEncryption",
                "DeleteBucketPolicy",
                "PutBucketAcl",
                "PutBucketPolicy",
                "PutBucketPublicAccessBlock",
            ],
        ),
        "access-denied": {
            "source": ["aws.ec2", "aws.kms", "aws.s3", "aws.secretsmanager", "aws.network-firewall"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"errorCode": ["AccessDenied", "Client.UnauthorizedOperation", "UnauthorizedOperation"]},
        },
        "secret-rotation-failed": {
            "source": ["aws.secretsmanager"],
            "detail-type": ["AWS Service Event via CloudTrail"],
            "detail": {"eventName": ["RotationAbandoned", "RotationFailed"]},
        },
    }


def encryption_rules() -> tuple[ManagedRule, ...]:
    """The encryption rules of :data:`ENCRYPTION_RULES`."""
    return tuple(
        ManagedRule(name=name, identifier=identifier, description=description)
        for name, (identifier, description) in ENCRYPTION_RULES.items()
    )


def tag_rule(tags: Mapping[str, Sequence[str]], resource_types: Sequence[str]) -> ManagedRule:
    """The PCI tag set on ``resource_types``, each tag with one of the values ``tags`` allows
    (REQUIRED_TAGS takes several values separated by commas)."""
    parameters = {}
    for i, tag in enumerate(PCI_TAGS, start=1):
        parameters[f"tag{i}Key"] = tag
        if tags.get(tag):
            parameters[f"tag{i}Value"] = ",".join(tags[tag])
    return ManagedRule(
        name=TAG_RULE,
        identifier="REQUIRED_TAGS",
        description=f"Resources carry the PCI tag set {', '.join(PCI_TAGS)}",
        parameters=parameters,
        resource_types=resource_types,
    )


@dataclass(frozen=True, kw_only=True)
class ComplianceProps:
    """Props of :class:`ComplianceMonitoring`: critical events go to ``topic_arn``; ``tags`` gives the
    values the PCI tag rule accepts for each tag."""

    context: AppContext[Settings]
    topic_arn: str
    tags: Mapping[str, Sequence[str]]


class ComplianceMonitoring(Construct):
    """Config rules (``config_rules``) and critical-event rules (``event_rules``) to ``topic_arn``.

    The tag rule's scope is every taggable type of the finished stack: call :meth:`add_tag_rule` last."""

    def __init__(self, scope: Construct, id: str, props: ComplianceProps) -> None:
        super().__init__(scope, id)
        ctx = self._context = props.context
        self._tags = props.tags
        self.config_rules: dict[str, ConfigRule] = {}
        self.config_rule_names: dict[str, str] = {}
        for managed in encryption_rules():
            self.config_rules[managed.name] = ConfigRule(
                self, managed.construct_id, ConfigRuleProps(context=ctx, rule=managed)
            )
            self.config_rule_names[managed.name] = ctx.name(Kind.CONFIG_RULE, managed.name)
        self.config_rule_names[TAG_RULE] = ctx.name(Kind.CONFIG_RULE, TAG_RULE)
        self.event_rules: dict[str, CloudwatchEventRule] = {}
        for name, pattern in critical_event_patterns(list(self.config_rule_names.values())).items():
            rule = CloudwatchEventRule(
                self,
                f"{name}_rule",
                name=ctx.name(Kind.EVENT_RULE, name),
                description=f"Critical security event: {name.replace('-', ' ')}",
                event_pattern=json.dumps(pattern),
            )
            CloudwatchEventTarget(
                self, f"{name}_target", rule=rule.name, arn=props.topic_arn, target_id="security-topic"
            )
            self.event_rules[name] = rule

    def add_tag_rule(self, resource_types: Sequence[str]) -> ConfigRule:
        """The PCI tag rule on ``resource_types`` (Config types, :func:`pci_platform.tag_scope.config_scope`)."""
        if not resource_types:
            raise ValueError("add_tag_rule: no resource types to evaluate")
        managed = tag_rule(self._tags, resource_types)
        rule = ConfigRule(self, managed.construct_id, ConfigRuleProps(context=self._context, rule=managed))
        self.config_rules[managed.name] = rule
        return rule
