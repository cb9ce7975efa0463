"""The state stack: the bucket every package's Terraform state lives in, its key, one policy per team.

Bootstrap: this stack is first applied with local state (the default backend), then its state is
moved into the bucket it created (README, "Deploying"). From then on it is deployed like every
other package, with ``STATE_BACKEND=s3``; each stack keeps its own state under its package's
prefix (docs/decisions/0012-state-outputs-and-contracts.md), which is what a team's policy limits.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from shared_constructs.cdk import Construct
from shared_constructs.iam import Statement, policy_document
from shared_constructs.kms import Key, KeyProps
from shared_constructs.naming import Kind
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket, access_log_bucket

from state_backend.settings import Settings, TeamAccess

PACKAGE = "state-backend"
STACK = "state-backend"
STATE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
"""What Terraform does to a state file and its lock file (``use_lockfile``: ``<key>.tflock``)."""
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


def team_statements(access: TeamAccess, bucket_arn: str, key_arn: str) -> list[Statement]:
    """What one team's policy allows: its packages' state keys, its producers' read-only, the key."""
    prefixes = [*access.packages, *access.reads]
    statements = [
        Statement(
            sid="ListOwnPrefixes",
            actions=["s3:ListBucket"],
            resources=[bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{p}/*" for p in prefixes]}},
        ),
        Statement(
            sid="WriteOwnState",
            actions=list(STATE_ACTIONS),
            resources=[f"{bucket_arn}/{p}/*" for p in access.packages],
        ),
        Statement(sid="UseStateKey", actions=list(KEY_ACTIONS), resources=[key_arn]),
    ]
    if access.reads:
        statements.insert(
            2,
            Statement(
                sid="ReadProducerState",
                actions=["s3:GetObject"],
                resources=[f"{bucket_arn}/{p}/*" for p in access.reads],
            ),
        )
    return statements


class StateStack(PlatformStack[Settings]):
    """The state bucket (versioned, customer-managed key, TLS only, old versions expired), its
    access-log bucket, and one IAM policy per team limited to its packages' key prefixes."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(scope, STACK, settings=settings, package=PACKAGE, region=settings.region, service="tfstate")
        ctx = self.context
        key = Key(self, "key", KeyProps(context=ctx, name="state", description="Terraform state"))
        logs = access_log_bucket(self, "access_logs", ctx)
        bucket = SecureBucket(
            self,
            "state",
            BucketProps(
                context=ctx,
                name="state",
                key=key,
                access_log_bucket=logs,
                lifecycle=(
                    LifecycleRule(
                        id="expire-old-state-versions", noncurrent_expiration_days=settings.noncurrent_version_days
                    ),
                ),
            ),
        )
        self.output("state_bucket_name", bucket.bucket_name, description="STATE_BUCKET of every package")
        self.output("state_key_arn", key.key_arn, description="Key that encrypts every state file")
        for team, access in sorted(settings.teams.items()):
            policy = IamPolicy(
                self,
                f"team_{team}",
                name=ctx.name(Kind.IAM_POLICY, f"{team}-state", regional=False),
                description=f"Terraform state of team {team}: {', '.join(access.packages)}",
                policy=policy_document(team_statements(access, bucket.bucket_arn, key.key_arn)),
            )
            self.output(f"{team}_state_policy_arn", policy.arn, description=f"Attach to team {team}'s deployer roles")
