"""AWS Config managed rules and the remediation function that fixes what is safe to fix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.config_config_rule import ConfigConfigRule, ConfigConfigRuleSource
from shared_constructs.cdk import Construct
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import Statement
from shared_constructs.kms import Key, account_id
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps
from shared_constructs.naming import Kind, Namer
from shared_constructs.tagging import REQUIRED_TAGS

from security_baseline.settings import Settings

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
MAX_REQUIRED_TAGS = 6
"""The REQUIRED_TAGS managed rule accepts tag1Key .. tag6Key."""


@dataclass(frozen=True)
class ManagedRule:
    """One AWS managed Config rule: our short name, AWS's identifier, why, and the automatic fix."""

    name: str
    identifier: str
    description: str
    remediation: str = ""
    """Action of the remediation function (``s3_public_access_block``, ``required_tags``); empty:
    reported for a person."""
    parameters: dict[str, str] = field(default_factory=dict)


def managed_rules() -> tuple[ManagedRule, ...]:
    """The rules every region evaluates (payment-platform-security.md 9; pci-data-processing.md 8)."""
    if len(REQUIRED_TAGS) > MAX_REQUIRED_TAGS:
        raise ValueError(f"REQUIRED_TAGS checks at most {MAX_REQUIRED_TAGS} keys, got {list(REQUIRED_TAGS)}")
    tag_params = {f"tag{i}Key": key for i, key in enumerate(REQUIRED_TAGS, start=1)}
    return (
        ManagedRule("encrypted-volumes", "ENCRYPTED_VOLUMES", "Attached EBS volumes are encrypted"),
        ManagedRule("rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", "RDS storage is encrypted"),
        ManagedRule("vpc-flow-logs", "VPC_FLOW_LOGS_ENABLED", "Every VPC has flow logs"),
        ManagedRule(
            "required-tags",
            "REQUIRED_TAGS",
            "Resources carry the platform's required tags",
            remediation="required_tags",
            parameters=tag_params,
        ),
        ManagedRule("s3-ssl-only", "S3_BUCKET_SSL_REQUESTS_ONLY", "Bucket policies refuse requests without TLS"),
        ManagedRule("s3-encryption", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "Buckets encrypt by default"),
        ManagedRule(
            "s3-public-access",
            "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
            "Buckets block public access",
            remediation="s3_public_access_block",
        ),
        ManagedRule("log-groups-encrypted", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "Log groups use a KMS key"),
        ManagedRule(
            "kms-not-pending-deletion",
            "KMS_CMK_NOT_SCHEDULED_FOR_DELETION",
            "No customer-managed key is scheduled for deletion",
        ),
        ManagedRule(
            "peering-dns-resolution", "VPC_PEERING_DNS_RESOLUTION_CHECK", "VPC peering resolves private DNS names"
        ),
    )


@dataclass(frozen=True, kw_only=True)
class RulesProps:
    """Props of :class:`ComplianceRules`.

    ``depends_on``: what must exist before rules are created (the enabled recorder). Default: none
    (an adopted recorder records already).
    ``report_topic``: where the remediation function reports what it cannot fix.
    """

    settings: Settings
    namer: Namer
    region: str
    key: Key
    report_topic: EncryptedTopic
    depends_on: Sequence[Any] = ()


class ComplianceRules(Construct):
    """The managed Config rules of a region and the remediation function behind them."""

    def __init__(self, scope: Construct, id: str, props: RulesProps) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, ConfigConfigRule] = {}
        actions: dict[str, str] = {}
        for rule in managed_rules():
            name = props.namer.name(Kind.CONFIG_RULE, rule.name, region=props.region)
            self.rules[rule.name] = ConfigConfigRule(
                self,
                rule.name.replace("-", "_"),
                name=name,
                description=rule.description,
                source=ConfigConfigRuleSource(owner="AWS", source_identifier=rule.identifier),
                input_parameters=json.dumps(rule.parameters, sort_keys=True) if rule.parameters else None,
                depends_on=list(props.depends_on) or None,
            )
            if rule.remediation:
                actions[name] = rule.remediation
        self.rule_names = [r.name for r in self.rules.values()]
        self.function = self._remediation_function(props, actions)

    def _remediation_function(self, props: RulesProps, actions: dict[str, str]) -> PythonFunction:
        defaults = props.settings.tag_defaults()
        # EventBridge invokes the function asynchronously: events that keep failing are kept here and
        # raise an alarm on the report topic, instead of being dropped after two retries.
        self.dead_letters = EncryptedQueue(
            self,
            "dead_letters",
            QueueProps(
                settings=props.settings,
                namer=props.namer,
                name="remediation-dlq",
                region=props.region,
                key=props.key,
                dead_letter=False,
                retention_s=1209600,
            ),
        )
        CloudwatchMetricAlarm(
            self,
            "dead_letters_alarm",
            alarm_name=props.namer.name(Kind.ALARM, "remediation-dlq", region=props.region),
            alarm_description="Compliance events the remediation function could not handle",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letters.queue_name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[props.report_topic.topic_arn],
        )
        function = PythonFunction(
            self,
            "remediation",
            FunctionProps(
                settings=props.settings,
                namer=props.namer,
                name="remediation",
                description="Fixes safe Config non-compliance (public access block, missing tags); reports the rest",
                source=LAMBDAS / "remediation",
                handler="handler.handler",
                key=props.key,
                region=props.region,
                reserved_concurrency=props.settings.remediation.reserved_concurrency,
                services=("ec2", "s3", "sns"),
                dead_letter_queue=self.dead_letters,
                timeout_s=60,
                environment={
                    "RULE_ACTIONS": json.dumps(actions, sort_keys=True),
                    "TAG_DEFAULTS": json.dumps(defaults, sort_keys=True),
                    "REQUIRED_TAG_KEYS": ",".join(REQUIRED_TAGS),
                    "REPORT_TOPIC_ARN": props.report_topic.topic_arn,
                },
            ),
        )
        account = account_id(self)
        role = function.role
        role.add_statements(
            # The buckets and resources to fix are whichever Config reports, so resources are patterns.
            Statement(
                sid="FixBuckets",
                actions=["s3:GetBucketTagging", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging"],
                resources=["arn:aws:s3:::*"],
            ),
            Statement(
                sid="TagEc2Resources",
                actions=["ec2:CreateTags"],
                resources=[f"arn:aws:ec2:{props.region}:{account}:*/*"],
                # Only the required tag keys can be written: the function cannot retag anything else.
                conditions={"ForAllValues:StringEquals": {"aws:TagKeys": list(REQUIRED_TAGS)}},
            ),
            # EC2 Describe calls have no resource-level permissions: AWS requires "*".
            Statement(
                sid="DescribeEc2Resources",
                actions=[
                    "ec2:DescribeInstances",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeTags",
                    "ec2:DescribeVolumes",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            ),
        )
        props.report_topic.grant_publish(role)
        return function
