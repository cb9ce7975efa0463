"""AWS Config managed rules and the remediation function that fixes what is safe to fix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared_constructs.cdk import Construct, ITerraformDependable
from shared_constructs.config_rules import ConfigRule, ConfigRuleProps, ManagedRule
from shared_constructs.context import AppContext
from shared_constructs.functions import AsyncInvocation, FunctionProps, PythonFunction
from shared_constructs.iam import Statement
from shared_constructs.kms import Key
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps
from shared_constructs.monitoring import Alarm, AlarmProps
from shared_constructs.naming import Kind
from shared_constructs.tagging import APP_TAG, MANAGED_BY_TAG, NEEDS_CLASSIFICATION_TAG, REQUIRED_TAGS

from security_baseline.settings import Settings

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
MAX_REQUIRED_TAGS = 6
"""The REQUIRED_TAGS managed rule accepts tag1Key .. tag6Key."""
REMEDIATIONS: dict[str, str] = {
    "required-tags": "required_tags",
    "s3-public-access": "s3_public_access_block",
}
"""Rule (name part) -> the remediation function's action for it; other rules are reported for a person."""
REMEDIATION_TAG_KEYS = (MANAGED_BY_TAG, APP_TAG, NEEDS_CLASSIFICATION_TAG)
"""Tag keys the remediation function may write: of the required keys only those it can know, and the
marker naming the keys a person must set. Remediation never attests a classification, an owner or a
cost center (docs/decisions/0019-remediation-never-attests.md), and its role cannot either."""


def managed_rules() -> tuple[ManagedRule, ...]:
    """The rules every region evaluates (the platform's security and PCI requirements)."""
    if len(REQUIRED_TAGS) > MAX_REQUIRED_TAGS:
        raise ValueError(f"REQUIRED_TAGS checks at most {MAX_REQUIRED_TAGS} keys, got {list(REQUIRED_TAGS)}")
    tag_params = {f"tag{i}Key": key for i, key in enumerate(REQUIRED_TAGS, start=1)}
    return (
        rule("encrypted-volumes", "ENCRYPTED_VOLUMES", "Attached EBS volumes are encrypted"),
        rule("rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", "RDS storage is encrypted"),
        rule("vpc-flow-logs", "VPC_FLOW_LOGS_ENABLED", "Every VPC has flow logs"),
        rule("required-tags", "REQUIRED_TAGS", "Resources carry the platform's required tags", tag_params),
        rule("s3-ssl-only", "S3_BUCKET_SSL_REQUESTS_ONLY", "Bucket policies refuse requests without TLS"),
        rule("s3-encryption", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "Buckets encrypt by default"),
        rule("s3-public-access", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", "Buckets block public access"),
        rule("log-groups-encrypted", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "Log groups use a KMS key"),
        rule(
            "kms-not-pending-deletion",
            "KMS_CMK_NOT_SCHEDULED_FOR_DELETION",
            "No customer-managed key is scheduled for deletion",
        ),
        rule("peering-dns-resolution", "VPC_PEERING_DNS_RESOLUTION_CHECK", "VPC peering resolves private DNS names"),
    )


def rule(name: str, identifier: str, description: str, parameters: dict[str, str] | None = None) -> ManagedRule:
    """One managed rule of :func:`managed_rules`."""
    return ManagedRule(name=name, identifier=identifier, description=description, parameters=parameters or {})


@dataclass(frozen=True, kw_only=True)
class RulesProps:
    """Props of :class:`ComplianceRules`.

    ``depends_on``: what must exist before rules are created (the enabled recorder). Default: none
    (an adopted recorder records already).
    ``report_topic``: where the remediation function reports what it cannot fix.
    """

    context: AppContext[Settings]
    key: Key
    report_topic: EncryptedTopic
    depends_on: Sequence[ITerraformDependable] = ()


class ComplianceRules(Construct):
    """The managed Config rules of a region and the remediation function behind them."""

    def __init__(self, scope: Construct, id: str, props: RulesProps) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, ConfigRule] = {}
        actions: dict[str, str] = {}
        for managed in managed_rules():
            self.rules[managed.name] = ConfigRule(
                self,
                managed.construct_id,
                ConfigRuleProps(context=props.context, rule=managed, depends_on=props.depends_on),
            )
            if managed.name in REMEDIATIONS:
                actions[props.context.name(Kind.CONFIG_RULE, managed.name)] = REMEDIATIONS[managed.name]
        self.function = self._remediation_function(props, actions)

    def _dead_letter_queue(self, props: RulesProps) -> EncryptedQueue:
        """The remediation function's failure destination, with an alarm on the report topic."""
        ctx = props.context
        # EventBridge invokes the function asynchronously and the handler raises on transient AWS
        # errors: Lambda retries twice, then the event is kept here (as the on-failure destination,
        # once, with its error) and raises an alarm on the report topic instead of being dropped.
        # Events may wait up to Lambda's six hours while the reserved concurrency is busy.
        self.dead_letters = EncryptedQueue(
            self,
            "dead_letters",
            QueueProps(context=ctx, name="remediation-dlq", key=props.key, dead_letter=False, retention_s=1209600),
        )
        Alarm(
            self,
            "dead_letters_alarm",
            AlarmProps(
                context=ctx,
                name="remediation-dlq",
                description="Compliance events the remediation function could not handle",
                watch=self.dead_letters.metric_visible_messages(),
                threshold=1,
                actions=[props.report_topic.topic_arn],
                notify_ok=False,
            ),
        )
        return self.dead_letters

    def _remediation_function(self, props: RulesProps, actions: dict[str, str]) -> PythonFunction:
        ctx = props.context
        dead_letters = self._dead_letter_queue(props)
        function = PythonFunction(
            self,
            "remediation",
            FunctionProps(
                context=ctx,
                name="remediation",
                description="Fixes safe Config non-compliance (public access block, missing tags); reports the rest",
                source=LAMBDAS / "remediation",
                handler="handler.handler",
                key=props.key,
                reserved_concurrency=ctx.settings.remediation.reserved_concurrency,
                services=("ec2", "s3", "sns"),
                dead_letter_queue=dead_letters,
                asynchronous=AsyncInvocation(max_retries=2, max_event_age_s=21600),
                timeout_s=60,
                environment={
                    "RULE_ACTIONS": json.dumps(actions, sort_keys=True),
                    "REQUIRED_TAG_KEYS": ",".join(REQUIRED_TAGS),
                    "REPORT_TOPIC_ARN": props.report_topic.topic_arn,
                },
            ),
        )
        account = ctx.account
        role = function.role
        role.add_statements(
            # The buckets and resources to fix are whichever Config reports, so resources are patterns;
            # bucket ARNs carry no account, so the condition keeps the function to this account's.
            Statement(
                sid="FixBuckets",
                actions=[
                    "s3:GetBucketPublicAccessBlock",
                    "s3:GetBucketTagging",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketTagging",
                ],
                resources=["arn:aws:s3:::*"],
                conditions={"StringEquals": {"s3:ResourceAccount": account}},
            ),
            Statement(
                sid="TagEc2Resources",
                actions=["ec2:CreateTags"],
                resources=[f"arn:aws:ec2:{ctx.region}:{account}:*/*"],
                # Only the keys the function may write: it cannot retag anything else.
                conditions={"ForAllValues:StringEquals": {"aws:TagKeys": list(REMEDIATION_TAG_KEYS)}},
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
