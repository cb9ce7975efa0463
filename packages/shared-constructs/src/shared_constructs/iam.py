"""Least-privilege IAM: statements that refuse wildcard actions, and roles built from them.

An ``Allow`` statement must name every action (no ``*`` and no ``service:*`` or ``service:Get*``);
the builder raises at construction time. ``Deny`` statements may use wildcards, because a broad
deny only narrows access (the standard deny-non-TLS bucket statement uses ``s3:*``).

Roles get customer-managed policies only (no inline policies, PCI DSS 7.2): statements added
with :meth:`LeastPrivilegeRole.add_statements` or the ``grant_*`` helpers of other constructs
are rendered into one managed policy when the stack is synthesized.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import jsii
from cdktf import IResolveContext, IStringProducer, Lazy
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from shared_constructs.cdk import Construct, Node
from shared_constructs.context import AppContext
from shared_constructs.naming import Kind
from shared_constructs.settings import BaseSettings

Conditions = Mapping[str, Mapping[str, str | Sequence[str] | bool]]


class Grantee(Protocol):
    """Anything permissions can be granted to (a :class:`LeastPrivilegeRole`)."""

    @property
    def node(self) -> Node: ...

    @property
    def role_arn(self) -> str: ...

    def add_statements(self, *statements: Statement) -> None: ...


class WildcardActionError(ValueError):
    """An Allow statement names a wildcard action."""


def _check_actions(actions: Sequence[str], effect: str, sid: str) -> None:
    if not actions:
        raise ValueError(f"statement {sid or '(no sid)'}: needs at least one action")
    for action in actions:
        if effect == "Allow" and "*" in action:
            raise WildcardActionError(
                f"statement {sid or '(no sid)'}: wildcard action {action!r} is not allowed; "
                "list the exact actions (for example 's3:GetObject')"
            )
        if action != "*" and ":" not in action:
            raise ValueError(f"statement {sid or '(no sid)'}: action {action!r} is not 'service:Action'")


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One IAM policy statement.

    ``resources``: ARNs (tokens welcome). Default: none, which renders no ``Resource`` element:
    right for a trust policy (IAM refuses one there), wrong anywhere else. ``["*"]`` is never
    assumed; pass it explicitly where AWS offers no resource-level permission (and say why in the
    README).
    ``principals``: for resource policies, e.g. ``{"Service": ["logs.amazonaws.com"]}``.
    """

    actions: Sequence[str]
    resources: Sequence[str] = ()
    effect: Literal["Allow", "Deny"] = "Allow"
    sid: str = ""
    principals: Mapping[str, Sequence[str] | str] | None = None
    conditions: Conditions | None = None
    not_principals: Mapping[str, Sequence[str] | str] | None = None

    def __post_init__(self) -> None:
        _check_actions(self.actions, self.effect, self.sid)
        if self.sid and not self.sid.isalnum():
            raise ValueError(f"sid must be alphanumeric, got {self.sid!r}")

    def to_json(self) -> dict[str, Any]:
        """The statement as an IAM JSON object (keys in IAM's conventional order)."""
        doc: dict[str, Any] = {}
        if self.sid:
            doc["Sid"] = self.sid
        doc["Effect"] = self.effect
        if self.principals is not None:
            doc["Principal"] = {k: _one_or_list(v) for k, v in self.principals.items()}
        if self.not_principals is not None:
            doc["NotPrincipal"] = {k: _one_or_list(v) for k, v in self.not_principals.items()}
        doc["Action"] = _one_or_list(sorted(set(self.actions)))
        if self.resources:
            doc["Resource"] = _one_or_list(list(self.resources))
        if self.conditions:
            doc["Condition"] = {
                op: {key: _one_or_list(v) if not isinstance(v, bool) else str(v).lower() for key, v in values.items()}
                for op, values in self.conditions.items()
            }
        return doc


def _one_or_list(value: str | Sequence[str]) -> str | list[str]:
    if isinstance(value, str):
        return value
    items = list(value)
    return items[0] if len(items) == 1 else items


def policy_document(statements: Sequence[Statement]) -> str:
    """A policy document JSON string (version 2012-10-17) from ``statements``."""
    if not statements:
        raise ValueError("a policy document needs at least one statement")
    rendered: list[dict[str, Any]] = []
    for statement in statements:
        doc = statement.to_json()
        if doc not in rendered:  # the same grant made twice is one statement
            rendered.append(doc)
    sids = [d["Sid"] for d in rendered if "Sid" in d]
    duplicates = sorted({s for s in sids if sids.count(s) > 1})
    if duplicates:
        raise ValueError(f"duplicate statement ids: {', '.join(duplicates)}")
    return json.dumps({"Version": "2012-10-17", "Statement": rendered})


@jsii.implements(IStringProducer)
class _Produce:
    def __init__(self, fn: Callable[[], str]) -> None:
        self._fn = fn

    def produce(self, context: IResolveContext) -> str:
        return self._fn()


def lazy_string(fn: Callable[[], str]) -> str:
    """A string computed when the stack is synthesized (after every ``add_*`` and ``grant_*``)."""
    return Lazy.string_value(_Produce(fn))


def assume_role_policy(
    *,
    services: Sequence[str] = (),
    accounts: Sequence[str] = (),
    conditions: Conditions | None = None,
) -> str:
    """A trust policy for AWS service principals and/or account principals (by ARN)."""
    principals: dict[str, Sequence[str]] = {}
    if services:
        principals["Service"] = sorted(services)
    if accounts:
        principals["AWS"] = sorted(accounts)
    if not principals:
        raise ValueError("a trust policy needs at least one service or account principal")
    return policy_document([Statement(actions=["sts:AssumeRole"], principals=principals, conditions=conditions)])


@dataclass(frozen=True, kw_only=True)
class RoleProps:
    """Props of :class:`LeastPrivilegeRole`.

    ``name``: the resource part of the role name (the namer adds service, region and suffix).
    ``trust_policy``: from :func:`assume_role_policy`.
    ``managed_policy_arns``: AWS-managed policies to attach. Default: none.
    ``statements``: the first statements of the role's own managed policy. Default: none; add more
    with ``add_statements`` or ``grant_*``. A role that ends with no statement gets no policy.
    ``regional_name``: the region's code in the role's name (IAM names are global, so a role made
    per region needs it). Default True.
    The role lives in the context's provider (account).
    """

    context: AppContext[BaseSettings]
    name: str
    trust_policy: str
    description: str
    managed_policy_arns: Sequence[str] = ()
    statements: Sequence[Statement] = field(default_factory=tuple)
    regional_name: bool = True
    max_session_duration: int = 3600


class LeastPrivilegeRole(Construct):
    """An IAM role whose permissions live in one customer-managed policy, with no wildcard actions."""

    def __init__(self, scope: Construct, id: str, props: RoleProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self._statements: list[Statement] = list(props.statements)
        self.role = IamRole(
            self,
            "role",
            name=ctx.name(Kind.IAM_ROLE, props.name, regional=props.regional_name),
            description=props.description,
            assume_role_policy=props.trust_policy,
            max_session_duration=props.max_session_duration,
            provider=ctx.provider,
        )
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.attachments: list[IamRolePolicyAttachment] = [
            IamRolePolicyAttachment(self, f"managed{index}", role=self.role.name, policy_arn=arn, provider=ctx.provider)
            for index, arn in enumerate(props.managed_policy_arns)
        ]
        """The role's policy attachments: ``depends_on`` these when a resource needs the permissions
        in place at creation (a Config recorder, a trail delivering to CloudWatch)."""
        self._policy_name = ctx.name(Kind.IAM_POLICY, props.name, regional=props.regional_name)
        self._provider = ctx.provider
        self.policy: IamPolicy | None = None
        """The role's own managed policy; None while the role has no statement."""
        self.policy_attachment: IamRolePolicyAttachment | None = None
        """The attachment of :attr:`policy` to the role (also in :attr:`attachments`)."""
        if self._statements:
            self._ensure_policy()

    def _ensure_policy(self) -> None:
        if self.policy is not None:
            return
        self.policy = IamPolicy(
            self,
            "policy",
            name=self._policy_name,
            description=f"Permissions of role {self._policy_name}",
            policy=lazy_string(lambda: policy_document(self._statements)),
            provider=self._provider,
        )
        self.policy_attachment = IamRolePolicyAttachment(
            self, "attach", role=self.role.name, policy_arn=self.policy.arn, provider=self._provider
        )
        self.attachments.append(self.policy_attachment)

    @property
    def statements(self) -> tuple[Statement, ...]:
        """The statements of the role's own policy so far."""
        return tuple(self._statements)

    def add_statements(self, *statements: Statement) -> None:
        """Add permissions to the role's managed policy."""
        self._statements.extend(statements)
        self._ensure_policy()
