"""S3 storage: cardholder data buckets, the flow-log bucket and the access-log bucket.

Every bucket is versioned, private, TLS-only (1.2+) and access-logged. Data buckets use the key
of their classification (full card numbers: cardholder; truncated: processed) and refuse uploads
without the SSE-KMS header. Raw cardholder objects expire after ``data.cardholder_retention_days``
and their old versions ``data.cardholder_noncurrent_days`` later (PCI DSS 3.2.1: kept no longer
than needed; S3 lifecycle actions are not subject to the bucket policy).

Deleting object versions needs MFA (``aws:MultiFactorAuthPresent``) for every principal where
``protect_stateful`` is on. In destroyable sandboxes the configured deployer role is the one
exception, so that ``terraform destroy`` can empty the buckets (``force_destroy``); every other
principal still needs MFA. True S3 MFA Delete can only be switched on with the bucket owner's root
credentials and an MFA device (not by Terraform under a role): it stays the operator's (README).
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


def deny_without_mfa(bucket: SecureBucket, *, exempt_role_arn: str | None = None) -> Statement:
    """Deny deleting object versions unless the request carries MFA (``aws:MultiFactorAuthPresent``),
    for every principal but ``exempt_role_arn`` (its sessions, by ``aws:PrincipalArn``) when given."""
    conditions: dict[str, dict[str, str | bool]] = {"BoolIfExists": {"aws:MultiFactorAuthPresent": False}}
    if exempt_role_arn is not None:
        conditions["ArnNotEquals"] = {"aws:PrincipalArn": exempt_role_arn}
    return Statement(
        sid="DenyVersionDeletionWithoutMfa",
        effect="Deny",
        actions=MFA_PROTECTED_ACTIONS,
        resources=[bucket.bucket_arn, f"{bucket.bucket_arn}/*"],
        principals={"AWS": "*"},
        conditions=conditions,
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
        retention = ctx.settings.data
        self.cardholder = self._data_bucket(
            ctx,
            "cardholder",
            "cardholder-data",
            keys.cardholder,
            LifecycleRule(
                id="expire-cardholder-data",
                expiration_days=retention.cardholder_retention_days,
                noncurrent_expiration_days=retention.cardholder_noncurrent_days,
            ),
        )
        self.processed = self._data_bucket(
            ctx,
            "processed",
            "processed-data",
            keys.processed,
            LifecycleRule(id="expire-noncurrent", noncurrent_expiration_days=365),
        )

    def _data_bucket(
        self, ctx: AppContext[Settings], id: str, name: str, key: Key, lifecycle: LifecycleRule
    ) -> SecureBucket:
        bucket = SecureBucket(
            self,
            id,
            BucketProps(
                context=ctx,
                name=name,
                key=key,
                access_log_bucket=self.access_logs,
                require_encryption_header=True,
                lifecycle=(lifecycle,),
            ),
        )
        exempt = None if ctx.settings.protect_stateful else ctx.settings.deployer_role_arn
        bucket.add_to_policy(deny_without_mfa(bucket, exempt_role_arn=exempt))
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
