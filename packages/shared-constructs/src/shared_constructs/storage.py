"""A secure S3 bucket: versioned, SSE-KMS with a bucket key, private, TLS-only, logged, with lifecycle.

Secure by default. The one opt-out, ``encryption="sse-s3"``, is for what AWS delivers only to SSE-S3
buckets (S3 and ALB access logs, decision 0020); its reason is recorded as a policy suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import Grantee, Statement, lazy_string, policy_document
from shared_constructs.kms import DECRYPT, ENCRYPT_DECRYPT, Key
from shared_constructs.lifecycle import protect
from shared_constructs.naming import Kind
from shared_constructs.policy.suppress import suppress
from shared_constructs.settings import BaseSettings

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket")
WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")


@dataclass(frozen=True, kw_only=True)
class LifecycleRule:
    """One lifecycle rule. Every bucket also aborts incomplete multipart uploads after 7 days.

    ``expiration_days`` / ``noncurrent_expiration_days``: delete objects / old versions after N days (never / 90).
    ``transitions``: (days, storage class) pairs, e.g. ``((0, "INTELLIGENT_TIERING"),)``.
    ``prefix``: only keys under this prefix. Default: the whole bucket.
    """

    id: str
    expiration_days: int | None = None
    noncurrent_expiration_days: int | None = 90
    transitions: Sequence[tuple[int, str]] = ()
    prefix: str = ""


@dataclass(frozen=True, kw_only=True)
class BucketProps:
    """Props of :class:`SecureBucket`.

    ``name``: resource part of the name (service, region and suffix are added).
    ``key``: the customer-managed key for SSE-KMS. Required unless ``encryption="sse-s3"``.
    ``encryption``: ``"sse-kms"`` (default) or ``"sse-s3"`` with ``sse_s3_reason``.
    ``access_log_bucket``: where S3 server access logs go. Default: none, which needs
    ``access_log_exemption`` (a reason; only log-archive buckets themselves qualify).
    ``lifecycle``: Default: one rule that expires noncurrent versions after 90 days.
    ``require_encryption_header``: deny PutObject without the SSE-KMS header. Default False:
    deny only a *different* encryption header, so that AWS services delivering logs (which rely on
    default encryption) are not refused.
    ``name_kind``: Default :attr:`Kind.S3_BUCKET`; :attr:`Kind.WAF_LOG_BUCKET` adds ``aws-waf-logs-``.
    ``regional_name``: the region's code in the name. Default True.
    ``statements``: bucket policy statements besides the platform's. Default: none.
    """

    context: AppContext[BaseSettings]
    name: str
    key: Key | None = None
    encryption: Literal["sse-kms", "sse-s3"] = "sse-kms"
    sse_s3_reason: str = ""
    access_log_bucket: SecureBucket | None = None
    access_log_exemption: str = ""
    lifecycle: Sequence[LifecycleRule] = (LifecycleRule(id="expire-noncurrent"),)
    require_encryption_header: bool = False
    name_kind: Kind = Kind.S3_BUCKET
    regional_name: bool = True
    statements: Sequence[Statement] = field(default_factory=tuple)


def _check(props: BucketProps) -> None:
    if props.encryption == "sse-kms" and props.key is None:
        raise ValueError(f"bucket {props.name!r}: sse-kms needs a key")
    if props.encryption == "sse-s3" and len(props.sse_s3_reason) < 10:
        raise ValueError(f"bucket {props.name!r}: sse-s3 needs sse_s3_reason of at least 10 characters")
    if props.access_log_bucket is None and len(props.access_log_exemption) < 10:
        raise ValueError(f"bucket {props.name!r}: give access_log_bucket, or access_log_exemption with a reason")


class SecureBucket(Construct):
    """An S3 bucket with the platform's storage controls (see module docstring)."""

    policy: S3BucketPolicy

    def __init__(self, scope: Construct, id: str, props: BucketProps) -> None:
        super().__init__(scope, id)
        _check(props)
        ctx = props.context
        self._context = ctx
        self.key = props.key
        self.bucket_name = ctx.name(props.name_kind, props.name, regional=props.regional_name)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=self.bucket_name,
            force_destroy=not ctx.settings.protect_stateful,
            provider=ctx.provider,
        )
        protect(self.bucket, ctx.settings)
        self.bucket_arn = self.bucket.arn
        self.bucket_id = self.bucket.id
        self._block_public_access(ctx.provider)
        self._encrypt(props)
        self._log_access(props)
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[self._rule(r) for r in props.lifecycle],
            depends_on=[self.versioning],
            provider=ctx.provider,
        )
        self._log_delivery = False
        self._statements: list[Statement] = list(props.statements)
        self._statements.extend(self._baseline_statements(props))
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=lazy_string(lambda: policy_document(self._statements)),
            provider=ctx.provider,
        )

    def _block_public_access(self, provider: AwsProvider | None) -> None:
        """No public access, no ACLs (the owner owns every object), every version kept."""
        S3BucketPublicAccessBlock(
            self,
            "public_access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            provider=provider,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
            provider=provider,
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            provider=provider,
        )

    def _encrypt(self, props: BucketProps) -> None:
        if props.key is not None and props.encryption == "sse-kms":
            by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=props.key.key_arn
            )
        else:
            by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="AES256"
            )
            suppress(self.bucket, "S3_CMK_ENCRYPTION", props.sse_s3_reason)
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default,
                    bucket_key_enabled=props.encryption == "sse-kms" or None,
                )
            ],
            provider=props.context.provider,
        )

    def _log_access(self, props: BucketProps) -> None:
        if props.access_log_bucket is None:
            suppress(self.bucket, "S3_ACCESS_LOGGING", props.access_log_exemption)
            return
        S3BucketLoggingA(
            self,
            "logging",
            bucket=self.bucket.id,
            target_bucket=props.access_log_bucket.bucket.id,
            target_prefix=f"{self.bucket_name}/",
            provider=props.context.provider,
            # S3 checks the target's policy for the logging service when logging is enabled.
            depends_on=[props.access_log_bucket.policy],
        )
        props.access_log_bucket.allow_access_logs_from(self)

    def _baseline_statements(self, props: BucketProps) -> list[Statement]:
        arns = [self.bucket.arn, f"{self.bucket.arn}/*"]
        statements = [
            Statement(
                sid="DenyInsecureTransport",
                effect="Deny",
                actions=["s3:*"],
                resources=arns,
                principals={"AWS": "*"},
                conditions={"Bool": {"aws:SecureTransport": False}},
            ),
            Statement(
                sid="DenyOutdatedTls",
                effect="Deny",
                actions=["s3:*"],
                resources=arns,
                principals={"AWS": "*"},
                conditions={"NumericLessThan": {"s3:TlsVersion": "1.2"}},
            ),
        ]
        if props.encryption == "sse-kms":
            statements.append(
                Statement(
                    sid="DenyOtherEncryption",
                    effect="Deny",
                    actions=["s3:PutObject"],
                    resources=[f"{self.bucket.arn}/*"],
                    principals={"AWS": "*"},
                    # Both conditions must hold: a header is sent AND it is not SSE-KMS. A request
                    # without the header gets the bucket's default SSE-KMS encryption (AWS services
                    # delivering logs send none); "...IfExists" would deny those.
                    conditions={
                        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                        "Null": {"s3:x-amz-server-side-encryption": "false"},
                    },
                )
            )
            if props.require_encryption_header:
                statements.append(
                    Statement(
                        sid="DenyUnencryptedUpload",
                        effect="Deny",
                        actions=["s3:PutObject"],
                        resources=[f"{self.bucket.arn}/*"],
                        principals={"AWS": "*"},
                        conditions={"Null": {"s3:x-amz-server-side-encryption": "true"}},
                    )
                )
        return statements

    @staticmethod
    def _rule(rule: LifecycleRule) -> S3BucketLifecycleConfigurationRule:
        return S3BucketLifecycleConfigurationRule(
            id=rule.id,
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=rule.prefix)],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
            ],
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=rule.expiration_days)]
            if rule.expiration_days
            else None,
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=rule.noncurrent_expiration_days
                )
            ]
            if rule.noncurrent_expiration_days
            else None,
            transition=[
                S3BucketLifecycleConfigurationRuleTransition(days=d, storage_class=c) for d, c in rule.transitions
            ]
            or None,
        )

    def add_to_policy(self, *statements: Statement) -> None:
        """Add statements to the bucket policy (for example a service's delivery permission)."""
        self._statements.extend(statements)

    def allow_access_logs_from(self, source: SecureBucket) -> None:
        """Let S3 server access logging deliver ``source``'s logs here."""
        sid = "AccessLogs" + "".join(ch for ch in source.node.id.title() if ch.isalnum())
        self.add_to_policy(
            Statement(
                sid=sid,
                actions=["s3:PutObject"],
                resources=[f"{self.bucket.arn}/{source.bucket_name}/*"],
                principals={"Service": "logging.s3.amazonaws.com"},
                conditions={"ArnLike": {"aws:SourceArn": source.bucket.arn}},
            )
        )

    def allow_log_delivery(self) -> None:
        """Let AWS log delivery (``delivery.logs.amazonaws.com``: VPC flow logs, Network Firewall,
        WAF) write under ``AWSLogs/<this account>/``, and use the bucket's key. Idempotent."""
        if self._log_delivery:
            return
        self._log_delivery = True
        account = self._context.account
        service = {"Service": "delivery.logs.amazonaws.com"}
        source = {"aws:SourceAccount": account}
        self.add_to_policy(
            Statement(
                sid="LogDeliveryWrite",
                actions=["s3:PutObject"],
                principals=service,
                resources=[f"{self.bucket.arn}/AWSLogs/{account}/*"],
                conditions={"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}},
            ),
            Statement(
                sid="LogDeliveryCheck",
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                principals=service,
                resources=[self.bucket.arn],
                conditions={"StringEquals": source},
            ),
        )
        if self.key is not None:
            self.key.grant_service(
                "LogDeliveryUse", "delivery.logs.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey")
            )

    def grant_read(self, grantee: Grantee) -> None:
        """Read objects (and decrypt them)."""
        grantee.add_statements(Statement(actions=READ_ACTIONS, resources=[self.bucket.arn, f"{self.bucket.arn}/*"]))
        if self.key is not None:
            self.key.grant(grantee, DECRYPT)

    def grant_write(self, grantee: Grantee, *, prefix: str = "") -> None:
        """Write objects (and encrypt them); with ``prefix`` (``"settlement/"``), only under it."""
        if prefix and (prefix.startswith("/") or not prefix.endswith("/") or "*" in prefix):
            raise ValueError(f"bucket write prefix: got {prefix!r}; expected a key prefix such as 'settlement/'")
        grantee.add_statements(Statement(actions=WRITE_ACTIONS, resources=[f"{self.bucket.arn}/{prefix}*"]))
        if self.key is not None:
            self.key.grant(grantee, ENCRYPT_DECRYPT)


ACCESS_LOG_SSE_REASON = (
    "S3 server access log delivery supports only SSE-S3 on the target bucket "
    "(docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)"
)
ALB_ACCESS_LOG_SSE_REASON = (
    "ALB access logs support only SSE-S3 on the target bucket "
    "(docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)"
)
ACCESS_LOG_EXEMPTION = "this bucket receives the access logs; logging it to itself would loop"


def access_log_bucket(
    scope: Construct,
    id: str,
    context: AppContext[BaseSettings],
    *,
    name: str = "access-logs",
    expiration_days: int = 365,
    noncurrent_expiration_days: int = 30,
) -> SecureBucket:
    """The bucket that receives other buckets' S3 server access logs.

    SSE-S3 (decision 0020) and not logged to itself, both recorded as suppressions with their reasons.
    Logs expire after ``expiration_days`` (365: PCI DSS 10.5.1), old versions after the other setting.
    """
    return SecureBucket(
        scope,
        id,
        BucketProps(
            context=context,
            name=name,
            encryption="sse-s3",
            sse_s3_reason=ACCESS_LOG_SSE_REASON,
            access_log_exemption=ACCESS_LOG_EXEMPTION,
            lifecycle=(
                LifecycleRule(
                    id="expire-access-logs",
                    expiration_days=expiration_days,
                    noncurrent_expiration_days=noncurrent_expiration_days,
                ),
            ),
        ),
    )
