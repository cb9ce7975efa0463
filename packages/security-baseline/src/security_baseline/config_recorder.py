"""AWS Config: the recorder (created or adopted), its role, delivery channel and snapshots bucket."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.config_configuration_recorder import (
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
)
from cdktf_cdktf_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktf_cdktf_provider_aws.config_delivery_channel import (
    ConfigDeliveryChannel,
    ConfigDeliveryChannelSnapshotDeliveryProperties,
)
from shared_constructs.cdk import Construct, ITerraformDependable
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import Key
from shared_constructs.naming import Kind
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

from security_baseline.settings import ConfigRecorderSettings, Settings

CONFIG_ROLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
"""The AWS-managed policy that lets Config read resource configurations."""
SERVICE = "config.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class RecorderProps:
    """Props of :class:`ConfigRecorder`.

    ``home``: record global resources (IAM) here; only the home region does, so that they are
    recorded once.
    """

    context: AppContext[Settings]
    config: ConfigRecorderSettings
    home: bool
    key: Key
    access_logs: SecureBucket


class ConfigRecorder(Construct):
    """The region's Config recorder recording all supported resources, delivering to an encrypted bucket.

    ``adopt`` mode creates nothing here: the existing recorder keeps its role and channel.
    ``ready`` lists what rules must wait for (empty when adopted).
    """

    def __init__(self, scope: Construct, id: str, props: RecorderProps) -> None:
        super().__init__(scope, id)
        self.ready: list[ITerraformDependable] = []
        self.recorder: ConfigConfigurationRecorder | None = None
        self.snapshots_bucket: SecureBucket | None = None
        if props.config.mode == "adopt":
            self.recorder_name = props.config.recorder_name or ""
            return
        ctx = props.context
        self.recorder_name = ctx.name(Kind.GENERIC, "recorder")
        bucket = self._snapshots_bucket(props)
        self.snapshots_bucket = bucket
        self.role = self._role(props, bucket)
        self.recorder = ConfigConfigurationRecorder(
            self,
            "recorder",
            name=self.recorder_name,
            role_arn=self.role.role_arn,
            recording_group=ConfigConfigurationRecorderRecordingGroup(
                all_supported=True, include_global_resource_types=props.home
            ),
        )
        channel = ConfigDeliveryChannel(
            self,
            "channel",
            name=ctx.name(Kind.GENERIC, "delivery"),
            s3_bucket_name=bucket.bucket_name,
            s3_kms_key_arn=props.key.key_arn,
            snapshot_delivery_properties=ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency=props.config.delivery_frequency
            ),
            # Config checks that the role can write to the bucket when the channel is created.
            depends_on=[self.recorder, bucket.policy, *self.role.attachments],
        )
        # Config refuses to start recording before a delivery channel exists.
        status = ConfigConfigurationRecorderStatus(
            self, "status", name=self.recorder.name, is_enabled=True, depends_on=[channel]
        )
        self.ready = [status]

    def _snapshots_bucket(self, props: RecorderProps) -> SecureBucket:
        """The bucket Config delivers snapshots to; Config's service principal may check and write it."""
        account = props.context.account
        bucket = SecureBucket(
            self,
            "snapshots",
            BucketProps(
                context=props.context,
                name="config-snapshots",
                key=props.key,
                access_log_bucket=props.access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="expire-old-versions", noncurrent_expiration_days=props.config.snapshot_noncurrent_days
                    ),
                ),
            ),
        )
        source = {"aws:SourceAccount": account}
        bucket.add_to_policy(
            Statement(
                sid="ConfigBucketCheck",
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                principals={"Service": SERVICE},
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": source},
            ),
            Statement(
                sid="ConfigDelivery",
                actions=["s3:PutObject"],
                principals={"Service": SERVICE},
                resources=[_snapshots_prefix(bucket, account)],
                conditions={"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}},
            ),
        )
        props.key.grant_service("ConfigEncryptSnapshots", SERVICE, ("kms:Decrypt", "kms:GenerateDataKey"))
        return bucket

    def _role(self, props: RecorderProps, bucket: SecureBucket) -> LeastPrivilegeRole:
        """The role Config reads configurations with and delivers snapshots as."""
        account = props.context.account
        role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=props.context,
                name="config-recorder",
                description="Lets AWS Config read resource configurations and deliver snapshots",
                trust_policy=assume_role_policy(
                    services=[SERVICE], conditions={"StringEquals": {"aws:SourceAccount": account}}
                ),
                managed_policy_arns=[CONFIG_ROLE_POLICY_ARN],
                statements=[
                    Statement(sid="CheckBucket", actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]),
                    Statement(
                        sid="DeliverSnapshots", actions=["s3:PutObject"], resources=[_snapshots_prefix(bucket, account)]
                    ),
                ],
            ),
        )
        props.key.grant(role, ("kms:Decrypt", "kms:GenerateDataKey"))
        return role


def _snapshots_prefix(bucket: SecureBucket, account: str) -> str:
    """Where Config writes an account's snapshots in the bucket."""
    return f"{bucket.bucket_arn}/AWSLogs/{account}/Config/*"
