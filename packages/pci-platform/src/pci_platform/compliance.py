"""Compliance monitoring: AWS Config rules for encryption and the PCI tag set, and EventBridge
rules that send critical security events to the security team's topic.

The Config recorder is security-baseline's (DECISIONS.md 4); these rules evaluate against it. The
topic comes from security-baseline's published outputs (contracts.md): its policy lets
``events.amazonaws.com`` of this account publish and its key lets EventBridge use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.config_config_rule import ConfigConfigRule, ConfigConfigRuleScope, ConfigConfigRuleSource
from shared_constructs.cdk import Construct
from shared_constructs.naming import Kind, Namer

PCI_TAGS = ("DataClassification", "Environment", "Owner")
"""The tag set pci-data-processing.md requires on every resource."""
TAGGED_RESOURCE_TYPES = (
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::Lambda::Function",
    "AWS::S3::Bucket",
)
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


class ComplianceMonitoring(Construct):
    """Config rules (``config_rules``) and critical-event rules (``event_rules``) to ``topic_arn``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namer: Namer,
        region: str,
        topic_arn: str,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.config_rules: dict[str, ConfigConfigRule] = {}
        self.config_rule_names: dict[str, str] = {}
        for name, (identifier, description) in ENCRYPTION_RULES.items():
            self._config_rule(namer, region, name, identifier, description)
        tag_parameters = {f"tag{i}Key": tag for i, tag in enumerate(PCI_TAGS, start=1)}
        for i, tag in enumerate(PCI_TAGS, start=1):
            if tags and tag in tags:
                tag_parameters[f"tag{i}Value"] = tags[tag]
        self._config_rule(
            namer,
            region,
            "pci-tags",
            "REQUIRED_TAGS",
            f"Resources carry the PCI tag set {', '.join(PCI_TAGS)}",
            parameters=tag_parameters,
            resource_types=TAGGED_RESOURCE_TYPES,
        )
        rule_names = list(self.config_rule_names.values())
        self.event_rules: dict[str, CloudwatchEventRule] = {}
        for name, pattern in critical_event_patterns(rule_names).items():
            rule = CloudwatchEventRule(
                self,
                f"{name}_rule",
                name=namer.name(Kind.EVENT_RULE, name, region=region),
                description=f"Critical security event: {name.replace('-', ' ')}",
                event_pattern=json.dumps(pattern),
            )
            CloudwatchEventTarget(self, f"{name}_target", rule=rule.name, arn=topic_arn, target_id="security-topic")
            self.event_rules[name] = rule

    def _config_rule(
        self,
        namer: Namer,
        region: str,
        name: str,
        identifier: str,
        description: str,
        *,
        parameters: Mapping[str, str] | None = None,
        resource_types: Sequence[str] = (),
    ) -> None:
        self.config_rule_names[name] = namer.name(Kind.CONFIG_RULE, name, region=region)
        self.config_rules[name] = ConfigConfigRule(
            self,
            name.replace("-", "_"),
            name=self.config_rule_names[name],
            description=description,
            source=ConfigConfigRuleSource(owner="AWS", source_identifier=identifier),
            input_parameters=json.dumps(dict(parameters)) if parameters else None,
            scope=ConfigConfigRuleScope(compliance_resource_types=list(resource_types)) if resource_types else None,
        )
