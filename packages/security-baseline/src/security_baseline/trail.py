"""The account's multi-region CloudTrail: validated, KMS-encrypted, to S3 and to CloudWatch Logs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.messaging import EncryptedTopic, TopicProps
from shared_constructs.naming import Kind
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

from security_baseline.settings import Settings

SERVICE = "cloudtrail.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class TrailProps:
    """Props of :class:`AccountTrail` (created in the home region only)."""

    context: AppContext[Settings]
    key: Key
    access_logs: SecureBucket
    organization_id: str | None = None
    """The organization's id (organizations mode, management account): the trail becomes the
    organization trail, logging every member account. Default: the account's own trail."""


def trail_archive(
    scope: Construct,
    ctx: AppContext[Settings],
    *,
    name: str,
    key: Key,
    access_logs: SecureBucket,
    trail_arn: str,
    organization_id: str | None = None,
) -> SecureBucket:
    """A trail's archive bucket (construct id ``archive`` under ``scope``): encrypted with ``key``,
    access-logged, kept as ``archive_lifecycle`` says, and open to CloudTrail's delivery for
    ``trail_arn`` only (:func:`allow_delivery`)."""
    bucket = SecureBucket(
        scope,
        "archive",
        BucketProps(
            context=ctx, name=name, key=key, access_log_bucket=access_logs, lifecycle=archive_lifecycle(ctx.settings)
        ),
    )
    allow_delivery(bucket, key, trail_arn, ctx.account, organization_id)
    return bucket


class AccountTrail(Construct):
    """One multi-region trail with log-file validation, a log archive bucket and a log group."""

    def __init__(self, scope: Construct, id: str, props: TrailProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.trail_name = ctx.name(Kind.TRAIL, "account", regional=False)
        # Built from the name, not read from the trail: the bucket and key policies must exist first.
        self.trail_arn = ctx.arn("cloudtrail", f"trail/{self.trail_name}")
        self.archive = trail_archive(
            self,
            ctx,
            name="log-archive",
            key=props.key,
            access_logs=props.access_logs,
            trail_arn=self.trail_arn,
            organization_id=props.organization_id,
        )
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            LogGroupProps(context=ctx, name=ctx.path(Kind.LOG_GROUP, "cloudtrail"), key=props.key),
        )
        self.logs_role = LeastPrivilegeRole(
            self,
            "logs_role",
            RoleProps(
                context=ctx,
                name="trail-logs",
                description="Lets CloudTrail deliver events to its CloudWatch Logs log group",
                trust_policy=assume_role_policy(
                    services=[SERVICE], conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}}
                ),
                statements=[
                    Statement(
                        sid="DeliverEvents",
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[f"{self.log_group.log_group_arn}:log-stream:*"],
                    )
                ],
            ),
        )
        # Log-file delivery notifications: integrity tooling subscribes here (CIS 3.x, checkov CKV_AWS_252);
        # kept apart from the security topic, which would otherwise get one message per delivered file.
        self.deliveries = EncryptedTopic(
            self,
            "deliveries",
            TopicProps(context=ctx, name="trail-deliveries", key=props.key),
        )
        self.deliveries.allow_publish_from_service(SERVICE, source_arns=[self.trail_arn])
        self.trail = Cloudtrail(
            self,
            "trail",
            name=self.trail_name,
            s3_bucket_name=self.archive.bucket_name,
            kms_key_id=props.key.key_arn,
            is_multi_region_trail=True,
            is_organization_trail=props.organization_id is not None,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=f"{self.log_group.log_group_arn}:*",
            cloud_watch_logs_role_arn=self.logs_role.role_arn,
            sns_topic_name=self.deliveries.topic_name,
            # CloudTrail checks bucket, key, log-group and topic access when the trail is created.
            depends_on=[self.archive.policy, props.key.key, *self.logs_role.attachments, self.deliveries.policy],
        )
        self.log_group_name = self.log_group.log_group_name


def archive_lifecycle(settings: Settings) -> tuple[LifecycleRule, ...]:
    """Trail log files: Glacier Instant Retrieval after 90 days, deleted after the configured days."""
    return (
        LifecycleRule(
            id="expire-trail-logs",
            expiration_days=settings.trail.archive_expiration_days,
            noncurrent_expiration_days=30,
            transitions=((90, "GLACIER_IR"),),
        ),
    )


def allow_delivery(
    bucket: SecureBucket, key: Key, trail_arn: str, account: str, organization_id: str | None = None
) -> None:
    """Bucket and key policy statements CloudTrail needs to deliver ``trail_arn``'s log files
    (AWS's documented minimum); an organization trail also writes under the organization's id."""
    prefixes = [account] if organization_id is None else [account, organization_id]
    source_arn = {"aws:SourceArn": trail_arn}
    bucket.add_to_policy(
        Statement(
            sid="CloudTrailAclCheck",
            actions=["s3:GetBucketAcl"],
            principals={"Service": SERVICE},
            resources=[bucket.bucket_arn],
            conditions={"StringEquals": source_arn},
        ),
        Statement(
            sid="CloudTrailWrite",
            actions=["s3:PutObject"],
            principals={"Service": SERVICE},
            resources=[f"{bucket.bucket_arn}/AWSLogs/{prefix}/*" for prefix in prefixes],
            conditions={"StringEquals": {**source_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
        ),
    )
    key.grant_service(
        "CloudTrailEncryptLogs",
        SERVICE,
        ("kms:GenerateDataKey",),
        source_account=False,
        conditions={
            "StringEquals": source_arn,
            "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"},
        },
    )
    key.grant_service(
        "CloudTrailDescribeKey",
        SERVICE,
        ("kms:DescribeKey",),
        source_account=False,
        conditions={"StringEquals": source_arn},
    )
