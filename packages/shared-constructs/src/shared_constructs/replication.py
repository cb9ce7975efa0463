"""S3 cross-region replication between SSE-KMS buckets (SecureBucket), keys addressed by alias.

Buckets are named by :class:`BucketRef` (name, region, key alias), built from a
:class:`~shared_constructs.storage.SecureBucket` in the same stack or from deterministic names of
another stack's bucket. Keys are addressed by alias, which S3 accepts for ``ReplicaKmsKeyID``;
IAM cannot name a key by alias, so the role's KMS statements cover the region's keys narrowed to
the one carrying the alias (``kms:ResourceAliases``) and to calls made through S3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.regions import short_region
from shared_constructs.settings import BaseSettings
from shared_constructs.storage import SecureBucket


@dataclass(frozen=True, kw_only=True)
class BucketRef:
    """A versioned SSE-KMS bucket by name: ``key_alias`` is ``alias/<name>`` of its key."""

    name: str
    region: str
    account: str
    key_alias: str

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"

    @property
    def key_alias_arn(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account}:{self.key_alias}"

    @classmethod
    def of(cls, bucket: SecureBucket, *, region: str, account: str) -> BucketRef:
        """The reference of a :class:`SecureBucket` encrypted with a platform key."""
        if bucket.key is None:
            raise ValueError(f"bucket {bucket.bucket_name!r}: replication needs an SSE-KMS bucket")
        return cls(name=bucket.bucket_name, region=region, account=account, key_alias=bucket.key.alias_name)


def _key_statement(sid: str, ref: BucketRef, actions: Sequence[str]) -> Statement:
    return Statement(
        sid=sid,
        actions=actions,
        resources=[f"arn:aws:kms:{ref.region}:{ref.account}:key/*"],
        conditions={
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": [ref.key_alias]},
            "StringEquals": {"kms:ViaService": f"s3.{ref.region}.amazonaws.com"},
        },
    )


def _role_statements(source: BucketRef, destinations: Sequence[BucketRef], object_lock: bool) -> list[Statement]:
    """Read the source's versions, write the replicas, decrypt with the source key, encrypt with theirs."""
    # Objects under Object Lock replicate with their retention and legal hold, which S3 reads as the role.
    lock = ("s3:GetObjectLegalHold", "s3:GetObjectRetention") if object_lock else ()
    return [
        Statement(
            sid="ReadSourceConfiguration",
            actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
            resources=[source.arn],
        ),
        Statement(
            sid="ReadSourceVersions",
            actions=[
                *lock,
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            resources=[f"{source.arn}/*"],
        ),
        Statement(
            sid="WriteReplicas",
            actions=[
                "s3:ObjectOwnerOverrideToBucketOwner",
                "s3:ReplicateDelete",
                "s3:ReplicateObject",
                "s3:ReplicateTags",
            ],
            resources=[f"{d.arn}/*" for d in destinations],
        ),
        _key_statement("DecryptSource", source, ("kms:Decrypt",)),
        *[
            _key_statement(
                f"EncryptReplicas{short_region(d.region).title()}",
                d,
                ("kms:Encrypt", "kms:GenerateDataKey"),
            )
            for d in destinations
        ],
    ]


def _rule(
    index: int, destination: BucketRef, prefix: str, delete_markers: bool
) -> S3BucketReplicationConfigurationRule:
    """One rule per destination: every SSE-KMS object (and delete marker when asked), re-encrypted with its key."""
    return S3BucketReplicationConfigurationRule(
        id=f"to-{short_region(destination.region)}",
        priority=index + 1,
        status="Enabled",
        filter=S3BucketReplicationConfigurationRuleFilter(prefix=prefix),
        delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
            status="Enabled" if delete_markers else "Disabled"
        ),
        source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
            sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                status="Enabled"
            )
        ),
        destination=S3BucketReplicationConfigurationRuleDestination(
            bucket=destination.arn,
            storage_class="STANDARD",
            encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                replica_kms_key_id=destination.key_alias_arn
            ),
        ),
    )


@dataclass(frozen=True, kw_only=True)
class ReplicationProps:
    """Props of :class:`Replication`.

    ``context``: the source bucket's region and provider (the role and the configuration live there).
    ``prefix``: replicate only keys under it. Default: the whole bucket.
    ``role_name``: resource part of the role's name. Default ``replication``.
    ``delete_markers``: replicate delete markers too. Default False: a delete in one region (by
    mistake or by an attacker) does not hide the object in every other region.
    ``object_lock``: the buckets use S3 Object Lock; the role may read retention and legal hold.
    Default False.
    """

    context: AppContext[BaseSettings]
    source: BucketRef
    destinations: Sequence[BucketRef]
    prefix: str = ""
    role_name: str = "replication"
    delete_markers: bool = False
    object_lock: bool = False


class Replication(Construct):
    """Replicates ``source`` to every destination (one rule each), re-encrypting with their keys."""

    def __init__(self, scope: Construct, id: str, props: ReplicationProps) -> None:
        super().__init__(scope, id)
        source, destinations = props.source, list(props.destinations)
        if not destinations:
            raise ValueError(f"bucket {source.name!r}: replication needs at least one destination")
        if props.context.region != source.region:
            raise ValueError(
                f"bucket {source.name!r} is in {source.region}; its replication needs that region's context, "
                f"got {props.context.region}"
            )
        self.role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=props.context,
                name=props.role_name,
                description=f"Replicates {source.name} to {', '.join(d.region for d in destinations)}",
                trust_policy=assume_role_policy(services=["s3.amazonaws.com"]),
                statements=_role_statements(source, destinations, props.object_lock),
            ),
        )
        self.configuration = S3BucketReplicationConfigurationA(
            self,
            "configuration",
            bucket=source.name,
            role=self.role.role_arn,
            provider=props.context.provider,
            rule=[_rule(index, d, props.prefix, props.delete_markers) for index, d in enumerate(destinations)],
        )
