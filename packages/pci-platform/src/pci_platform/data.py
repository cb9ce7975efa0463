"""S3 storage: cardholder data buckets, the flow-log bucket and the access-log bucket.

Every bucket is versioned, private, TLS-only (1.2+) and access-logged. Data buckets use the key
of their classification (full card numbers: cardholder; truncated: processed), refuse uploads without the SSE-KMS header and refuse deleting object versions
unless the request was made with MFA. True S3 MFA Delete can only be switched on with the
bucket owner's root credentials and an MFA device (not by Terraform under a role), so the
platform enforces the same intent through the bucket policy; see the README.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import Statement
from shared_constructs.kms import Key
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket, access_log_bucket

from pci_platform.config import Settings
from pci_platform.security import PlatformKeys

MFA_PROTECTED_ACTIONS = ("s3:DeleteObjectVersion",)
"""Deleting an object version destroys history: denied without MFA on the data buckets. (Versioning
and lifecycle changes are not included: Terraform, running under a role without MFA, must be able
to update and destroy those configurations.)"""


def deny_without_mfa(bucket: SecureBucket) -> Statement:
    """Deny deleting object versions unless the request carries MFA (``aws:MultiFactorAuthPresent``)."""
    return Statement(
        sid="DenyVersionDeletionWithoutMfa",
        effect="Deny",
        actions=MFA_PROTECTED_ACTIONS,
        resources=[bucket.bucket_arn, f"{bucket.bucket_arn}/*"],
        principals={"AWS": "*"},
        conditions={"BoolIfExists": {"aws:MultiFactorAuthPresent": False}},
    )


@dataclass(frozen=True, kw_only=True)
class DataProps:
    """Props of :class:`DataStores`: the ``keys``; flow logs are kept ``network.flow_log_retention_days``."""

    context: AppContext[Settings]
    keys: PlatformKeys


class DataStores(Construct):
    """The package's buckets: ``access_logs``, ``flow_logs``, ``cardholder`` and ``processed``."""

    def __init__(self, scope: Construct, id: str, props: DataProps) -> None:
        super().__init__(scope, id)
        ctx, keys = props.context, props.keys
        self.access_logs = access_log_bucket(self, "access_logs", ctx)
        self.flow_logs = SecureBucket(
            self,
            "flow_logs",
            BucketProps(
                context=ctx,
                name="flow-logs",
                key=keys.logs,
                access_log_bucket=self.access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="expire-flow-logs",
                        expiration_days=ctx.settings.network.flow_log_retention_days,
                        noncurrent_expiration_days=1,
                    ),
                ),
            ),
        )
        self.flow_logs.allow_log_delivery()
        self.cardholder = self._data_bucket(ctx, "cardholder", "cardholder-data", keys.cardholder)
        self.processed = self._data_bucket(ctx, "processed", "processed-data", keys.processed)

    def _data_bucket(self, ctx: AppContext[Settings], id: str, name: str, key: Key) -> SecureBucket:
        bucket = SecureBucket(
            self,
            id,
            BucketProps(
                context=ctx,
                name=name,
                key=key,
                access_log_bucket=self.access_logs,
                require_encryption_header=True,
                lifecycle=(LifecycleRule(id="expire-noncurrent", noncurrent_expiration_days=365),),
            ),
        )
        bucket.add_to_policy(deny_without_mfa(bucket))
        return bucket

    @property
    def data_buckets(self) -> list[SecureBucket]:
        """The buckets that hold cardholder data (published for CloudTrail data events)."""
        return [self.cardholder, self.processed]

    @property
    def buckets(self) -> dict[str, SecureBucket]:
        """Every bucket by its role."""
        return {
            "access_logs": self.access_logs,
            "flow_logs": self.flow_logs,
            "cardholder": self.cardholder,
            "processed": self.processed,
        }
