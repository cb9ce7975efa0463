"""Customer-managed KMS keys with rotation, an alias, and a least-privilege key policy.

One way to let something use a key (docs/decisions/0015-one-way-to-grant-key-use.md):
:meth:`Key.grant` for a role, :meth:`Key.grant_service` for an AWS service principal,
:meth:`Key.grant_account_via_service` for the account's principals through one service. A role
granted use of a key whose policy does not delegate to IAM (``root_can_use=False``) is named in
the key policy and given the IAM statement in the same call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as _KmsKey
from cdktf_cdktf_provider_aws.kms_replica_key import KmsReplicaKey

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import Conditions, Grantee, Statement, lazy_string, policy_document
from shared_constructs.lifecycle import protect
from shared_constructs.naming import Kind
from shared_constructs.policy.rules_keys import AUTOSCALING_ACTIONS, AUTOSCALING_ROLE
from shared_constructs.settings import BaseSettings

KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
)
"""Every key-administration action, named one by one (the platform allows no wildcard actions)."""
ENCRYPT_DECRYPT: tuple[str, ...] = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
DECRYPT: tuple[str, ...] = ("kms:Decrypt", "kms:DescribeKey")
ENCRYPT: tuple[str, ...] = ("kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
READ_BACK_SERVICES: tuple[str, ...] = ("secretsmanager", "ssm")
"""Services through which Terraform reads back what it wrote (SecureString values, secret versions)."""


class KeyPolicy:
    """A key policy built from named grants; the account root may administer the key.

    ``root_can_use``: when True (default), the account root may also use the key, which lets IAM
    policies in the account grant use (AWS's default delegation). Set False to restrict use to the
    principals and services named here (PCI DSS 3.6: keys used only by named roles); the deployer
    (``deployer_role_arn``, required then) is named for what Terraform reads back through Secrets
    Manager and Systems Manager, which IAM can no longer grant it.
    """

    def __init__(self, account: str, *, root_can_use: bool = True, deployer_role_arn: str | None = None) -> None:
        self.account = account
        self.delegates_to_iam = root_can_use
        """True when IAM policies of the account can grant use of the key (the root may use it)."""
        root = f"arn:aws:iam::{account}:root"
        actions = KEY_ADMIN_ACTIONS + (ENCRYPT_DECRYPT if root_can_use else ())
        self._statements: list[Statement] = [
            Statement(sid="KeyAdministration", actions=actions, principals={"AWS": [root]}, resources=["*"])
        ]
        if not root_can_use:
            if not deployer_role_arn:
                raise ValueError(
                    "a key that keeps the account root from using it must name the deployer "
                    "(deployer_role_arn=settings.deployer_role_arn)"
                )
            self.allow_principals(
                "DeployerReadsBack",
                [deployer_role_arn],
                DECRYPT,
                conditions={"StringLike": {"kms:ViaService": [f"{s}.*.amazonaws.com" for s in READ_BACK_SERVICES]}},
            )

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(self._statements)

    def allow_principals(
        self,
        sid: str,
        principal_arns: Sequence[str],
        actions: Sequence[str] = ENCRYPT_DECRYPT,
        conditions: Conditions | None = None,
    ) -> KeyPolicy:
        """Let the named IAM principals (role ARNs) use the key.

        Granting again under the same ``sid`` (the same principals and conditions) adds the actions
        to that statement.
        """
        principals = {"AWS": list(principal_arns)}
        for index, existing in enumerate(self._statements):
            if existing.sid != sid:
                continue
            if existing.principals != principals or existing.conditions != conditions:
                raise ValueError(f"key policy statement {sid!r} exists for other principals or conditions")
            merged = sorted({*existing.actions, *actions})
            self._statements[index] = Statement(
                sid=sid, actions=merged, principals=principals, resources=["*"], conditions=conditions
            )
            return self
        self._statements.append(
            Statement(sid=sid, actions=actions, principals=principals, resources=["*"], conditions=conditions)
        )
        return self

    def allow_service(
        self,
        sid: str,
        service: str,
        actions: Sequence[str] = ENCRYPT_DECRYPT,
        *,
        source_account: bool = True,
        via_service: str | None = None,
        conditions: Conditions | None = None,
    ) -> KeyPolicy:
        """Let an AWS service principal (``logs.us-east-1.amazonaws.com``) use the key.

        ``source_account`` adds ``aws:SourceAccount`` = this account (confused-deputy guard);
        ``via_service`` adds ``kms:ViaService`` for services that call KMS on a caller's behalf.
        """
        merged: dict[str, dict[str, str | Sequence[str] | bool]] = {k: dict(v) for k, v in (conditions or {}).items()}
        if source_account:
            merged.setdefault("StringEquals", {})["aws:SourceAccount"] = self.account
        if via_service:
            merged.setdefault("StringEquals", {})["kms:ViaService"] = via_service
        statement = Statement(
            sid=sid, actions=actions, principals={"Service": [service]}, resources=["*"], conditions=merged or None
        )
        # Two constructs on one key may need the same service grant (two queues EventBridge sends
        # to): one statement serves both, and a repeated Sid would be ambiguous.
        if statement not in self._statements:
            self._statements.append(statement)
        return self

    def allow_autoscaling_volumes(self) -> KeyPolicy:
        """Let EC2 Auto Scaling's service-linked role encrypt the volumes of the instances it launches.

        AWS names that role, not the caller, when it launches from a launch template with encrypted
        volumes; the role must exist when the policy is set (AWS creates it with the account's first
        Auto Scaling group, or ``aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com``).
        """
        role = f"arn:aws:iam::{self.account}{AUTOSCALING_ROLE}"
        volume_actions = tuple(a for a in AUTOSCALING_ACTIONS if a != "kms:CreateGrant")
        self.allow_principals("AutoScalingVolumes", [role], volume_actions)
        return self.allow_principals(
            "AutoScalingGrants", [role], ("kms:CreateGrant",), conditions={"Bool": {"kms:GrantIsForAWSResource": True}}
        )

    def add(self, statement: Statement) -> KeyPolicy:
        """Add any statement (for example an explicit deny)."""
        self._statements.append(statement)
        return self

    def render(self) -> str:
        return policy_document(self._statements)


@dataclass(frozen=True, kw_only=True)
class KeyProps:
    """Props of :class:`Key`.

    ``name``: resource part of the alias (``alias/<service>-<name>[-<region>]-<suffix>``).
    ``policy``: Default: a :class:`KeyPolicy` for the context's account (root administers and may
    delegate use through IAM); grant with the key's ``grant*`` methods before synthesis.
    ``multi_region``: a multi-Region primary key, for :meth:`Key.add_replica`. Default: False.
    ``deletion_window_days``: Default 7, or 30 when ``settings.protect_stateful``.
    ``regional_name``: the region's code in the alias. Default True.
    """

    context: AppContext[BaseSettings]
    name: str
    description: str
    policy: KeyPolicy | None = None
    multi_region: bool = False
    deletion_window_days: int | None = None
    regional_name: bool = True
    tags: dict[str, str] = field(default_factory=dict)


class Key(Construct):
    """A customer-managed KMS key with rotation on and an alias."""

    def __init__(self, scope: Construct, id: str, props: KeyProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        window = props.deletion_window_days or (30 if ctx.settings.protect_stateful else 7)
        if not 7 <= window <= 30:
            raise ValueError(f"deletion_window_days must be 7-30, got {window}")
        self.policy = props.policy or KeyPolicy(ctx.account)
        self.key = _KmsKey(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=window,
            multi_region=props.multi_region or None,
            policy=lazy_string(self.policy.render),
            provider=ctx.provider,
            tags=props.tags or None,
        )
        protect(self.key, ctx.settings)
        self.alias_name = ctx.name(Kind.KMS_ALIAS, props.name, regional=props.regional_name)
        self.alias = KmsAlias(self, "alias", name=self.alias_name, target_key_id=self.key.key_id, provider=ctx.provider)
        self.key_arn = self.key.arn
        self.key_id = self.key.key_id
        self.region = ctx.region
        self._props = props

    def add_replica(self, id: str, *, context: AppContext[BaseSettings]) -> Replica:
        """A replica of this multi-Region key in the region (and provider) of ``context``, with the
        same policy."""
        if not self.key.multi_region:
            raise ValueError("add_replica needs a key created with multi_region=True")
        return Replica(self, id, primary=self, context=context)

    def grant(
        self,
        grantee: Grantee,
        actions: Sequence[str] = ENCRYPT_DECRYPT,
        *,
        via_service: str | None = None,
        label: str = "",
        sid: str = "",
    ) -> None:
        """Let ``grantee`` (a role) call ``actions`` on this key.

        The role's policy gets the statement (``sid``: its Sid, default generated); when this key's
        policy does not delegate use to IAM, the key policy names the role too (one statement per
        role, ``Use<label or role path>``).
        ``via_service``: only through that service in the key's region (``kms:ViaService``, for
        example ``"secretsmanager"`` decrypting a secret on the role's behalf): in the key policy
        when it names the role, else in the role's statement.
        """
        conditions = self._via(via_service)
        if self.policy.delegates_to_iam:
            grantee.add_statements(Statement(sid=sid, actions=actions, resources=[self.key_arn], conditions=conditions))
            return
        key_sid = "Use" + re.sub(r"[^A-Za-z0-9]", "", (label or grantee.node.path).title())[-50:]
        self.policy.allow_principals(key_sid, [grantee.role_arn], actions, conditions=conditions)
        grantee.add_statements(Statement(sid=sid, actions=actions, resources=[self.key_arn]))

    def grant_service(
        self,
        sid: str,
        service: str,
        actions: Sequence[str] = ENCRYPT_DECRYPT,
        *,
        source_account: bool = True,
        conditions: Conditions | None = None,
    ) -> None:
        """Let an AWS service principal (``logs.us-east-1.amazonaws.com``) use this key.

        ``source_account``: only on behalf of this account (``aws:SourceAccount``, the
        confused-deputy guard); turn it off where the service sends an encryption context or a
        source ARN that ``conditions`` pins instead.
        """
        self.policy.allow_service(sid, service, actions, source_account=source_account, conditions=conditions)

    def grant_account_via_service(self, sid: str, service: str, actions: Sequence[str]) -> None:
        """Let principals of this account use the key through ``service`` only (``kms:ViaService``):
        for services that create grants or encrypt on the caller's behalf (Systems Manager writing a
        SecureString, Network Firewall encrypting its rules)."""
        via = self._via(service) or {}
        root = f"arn:aws:iam::{self.policy.account}:root"
        condition = {"StringEquals": {"kms:CallerAccount": self.policy.account, **via["StringEquals"]}}
        self.policy.add(
            Statement(sid=sid, actions=actions, resources=["*"], principals={"AWS": root}, conditions=condition)
        )

    def _via(self, service: str | None) -> dict[str, dict[str, str | Sequence[str] | bool]] | None:
        if service is None:
            return None
        return {"StringEquals": {"kms:ViaService": f"{service}.{self.region}.amazonaws.com"}}


class Replica(Construct):
    """A replica key of a multi-Region :class:`Key` in the region of ``context``."""

    def __init__(self, scope: Construct, id: str, *, primary: Key, context: AppContext[BaseSettings]) -> None:
        super().__init__(scope, id)
        self.key = KmsReplicaKey(
            self,
            "key",
            primary_key_arn=primary.key_arn,
            description=f"Replica of {primary.alias_name} in {context.region}",
            deletion_window_in_days=primary.key.deletion_window_in_days,
            policy=lazy_string(primary.policy.render),
            provider=context.provider,
        )
        protect(self.key, context.settings)
        self.alias = KmsAlias(
            self,
            "alias",
            name=context.name(Kind.KMS_ALIAS, primary._props.name, regional=primary._props.regional_name),
            target_key_id=self.key.key_id,
            provider=context.provider,
        )
        self.key_arn = self.key.arn
