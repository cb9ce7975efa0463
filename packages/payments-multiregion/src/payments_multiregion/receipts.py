"""The regional receipts bucket: tiered and expired by lifecycle, optionally under S3 Object Lock.

Object Lock (``receipts.object_lock_mode``) gives every receipt version a default retention, so
that no one (GOVERNANCE: no one without ``s3:BypassGovernanceRetention``; COMPLIANCE: no one at all,
root included) can delete or overwrite it before ``receipts.object_lock_days``. S3 enables Object
Lock at bucket creation: switching it on for an existing bucket replaces the bucket, so choose it
before the bucket holds receipts. Every region gets the same setting, because S3 replicates
locked objects only to buckets that have Object Lock too.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import Key
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket, access_log_bucket

from payments_multiregion.names import RECEIPTS
from payments_multiregion.settings import Settings


def receipts_bucket(scope: Construct, context: AppContext[Settings], key: Key) -> SecureBucket:
    """The receipts bucket of ``context``'s region (with its access-log bucket), encrypted with ``key``."""
    knobs = context.settings.for_region(context.region)
    access_logs = access_log_bucket(scope, "access_logs", context, noncurrent_expiration_days=90)
    bucket = SecureBucket(
        scope,
        "receipts",
        BucketProps(
            context=context,
            name=RECEIPTS,
            key=key,
            access_log_bucket=access_logs,
            lifecycle=(
                LifecycleRule(
                    id="tier-and-expire-receipts",
                    prefix="receipts/",
                    transitions=(
                        (knobs.receipts_ia_days, "STANDARD_IA"),
                        (knobs.receipts_glacier_days, "GLACIER"),
                    ),
                    expiration_days=knobs.receipts_expiration_days,
                    noncurrent_expiration_days=90,
                ),
                # Whole bucket: incomplete multipart uploads are aborted wherever they are.
                LifecycleRule(id="abort-incomplete-uploads", noncurrent_expiration_days=None),
            ),
        ),
    )
    lock = context.settings.receipts
    if lock.object_lock_mode is not None:
        bucket.bucket.object_lock_enabled = True
        S3BucketObjectLockConfigurationA(
            scope,
            "receipts_object_lock",
            bucket=bucket.bucket_id,
            rule=S3BucketObjectLockConfigurationRuleA(
                default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                    mode=lock.object_lock_mode, days=lock.object_lock_days
                )
            ),
            depends_on=[bucket.versioning],
        )
    return bucket
