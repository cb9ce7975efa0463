"""Where one side's VPC flow logs are kept (the flow logs themselves are PrivateVpc's).

- S3: a KMS-encrypted, versioned bucket (``SecureBucket``) for retention and investigation,
  expiring after ``flow_log_bucket_retention_days`` and moving to STANDARD_IA after 30 days, with
  its own S3 access-log bucket.
- CloudWatch Logs: a KMS-encrypted log group the metric filters and alarms read.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.moves import moved_from, path_in_stack
from shared_constructs.naming import Kind
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket, access_log_bucket

from network_peering.settings import Settings, SideName


@dataclass(frozen=True, kw_only=True)
class FlowLogStorageProps:
    """Props of :class:`FlowLogStorage`: the side, built in its ``context``, and its ``key``."""

    context: AppContext[Settings]
    side: SideName
    key: Key


class FlowLogStorage(Construct):
    """The flow-log bucket (and its access-log bucket) and the flow-log group of one side."""

    def __init__(self, scope: Construct, id: str, props: FlowLogStorageProps) -> None:
        super().__init__(scope, id)
        ctx, side, settings = props.context, props.side, props.context.settings
        self.access_logs = access_log_bucket(
            self,
            "access_logs",
            ctx,
            name=f"{side}-access-logs",
            expiration_days=settings.flow_log_bucket_retention_days,
            noncurrent_expiration_days=90,
        )
        self.bucket = SecureBucket(
            self,
            "bucket",
            BucketProps(
                context=ctx,
                name=f"{side}-flow-logs",
                key=props.key,
                access_log_bucket=self.access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="expire",
                        expiration_days=settings.flow_log_bucket_retention_days,
                        transitions=((30, "STANDARD_IA"),),
                    ),
                ),
            ),
        )
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            LogGroupProps(context=ctx, name=ctx.path(Kind.LOG_GROUP, side, "flow-logs"), key=props.key),
        )
        # The group was built here by hand before EncryptedLogGroup took it over: keep its state.
        moved_from(self.log_group.log_group, f"{path_in_stack(self)}/group")
