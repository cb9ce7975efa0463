"""S3 storage: cardholder data buckets, the flow-log bucket and the access-log bucket.

Every bucket is versioned, private, TLS-only (1.2+) and access-logged. Data buckets use the
cardholder key, refuse uploads without the SSE-KMS header and refuse deleting object versions
unless the request was made with MFA. True S3 MFA Delete can only be switched on with the
bucket owner's root credentials and an MFA device (not by Terraform under a role), so the
platform enforces the same intent through the bucket policy; see the README.
"""

from __future__ import annotations

from shared_constructs.cdk import Construct
from shared_constructs.iam import Statement
from shared_constructs.naming import Namer
from shared_constructs.settings import BaseSettings
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket, access_log_bucket

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


class DataStores(Construct):
    """The package's buckets: ``access_logs``, ``flow_logs``, ``cardholder`` and ``processed``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: BaseSettings,
        namer: Namer,
        region: str,
        keys: PlatformKeys,
        flow_log_days: int,
    ) -> None:
        super().__init__(scope, id)
        self.access_logs = access_log_bucket(self, "access_logs", settings=settings, namer=namer, region=region)
        self.flow_logs = SecureBucket(
            self,
            "flow_logs",
            BucketProps(
                settings=settings,
                namer=namer,
                name="flow-logs",
                region=region,
                key=keys.logs,
                access_log_bucket=self.access_logs,
                lifecycle=(
                    LifecycleRule(id="expire-flow-logs", expiration_days=flow_log_days, noncurrent_expiration_days=1),
                ),
            ),
        )
        self.flow_logs.allow_log_delivery()
        self.cardholder = self._data_bucket("cardholder", "cardholder-data", settings, namer, region, keys)
        self.processed = self._data_bucket("processed", "processed-data", settings, namer, region, keys)

    def _data_bucket(
        self, id: str, name: str, settings: BaseSettings, namer: Namer, region: str, keys: PlatformKeys
    ) -> SecureBucket:
        bucket = SecureBucket(
            self,
            id,
            BucketProps(
                settings=settings,
                namer=namer,
                name=name,
                region=region,
                key=keys.cardholder,
                access_log_bucket=self.access_logs,
                require_encryption_header=True,
                lifecycle=(LifecycleRule(id="expire-noncurrent", noncurrent_expiration_days=365),),
            ),
        )
        bucket.add_to_policy(deny_without_mfa(bucket))
        return bucket

    @property
    def buckets(self) -> dict[str, SecureBucket]:
        """Every bucket by its role."""
        return {
            "access_logs": self.access_logs,
            "flow_logs": self.flow_logs,
            "cardholder": self.cardholder,
            "processed": self.processed,
        }
