"""Policy documents AWS accepts: trust, identity and resource policies, and their size limits.

What IAM, KMS, S3, SNS, SQS and the other services check when a document is sent (and what moto
does not): the grammar of every statement; a trust policy names a principal, holds no ``Resource``
and only the STS actions a trust policy may grant; an identity policy names no principal, names a
resource in every statement, uses actions that exist, resource ARNs that fit the action and
condition keys of the action's service; a resource policy names a principal and opens to ``*`` only
under a condition that limits it to an account, organization or source. Actions, ARN patterns and
condition keys come from the IAM service reference (:mod:`shared_constructs.policy.iam_reference`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from shared_constructs.policy import iam_reference as ref
from shared_constructs.policy.arns import UncheckableArnError, fits
from shared_constructs.policy.model import (
    COMPLIANT,
    NOT_APPLICABLE,
    Context,
    Resource,
    Result,
    as_list,
    non_compliant,
    policy_documents,
)

TRUST, IDENTITY, RESOURCE = "trust", "identity", "resource"
POLICY_DOCUMENTS: dict[str, tuple[str, str]] = {
    "aws_iam_role": ("assume_role_policy", TRUST),
    "aws_iam_policy": ("policy", IDENTITY),
    "aws_iam_role_policy": ("policy", IDENTITY),
    "aws_iam_user_policy": ("policy", IDENTITY),
    "aws_iam_group_policy": ("policy", IDENTITY),
    "aws_s3_bucket_policy": ("policy", RESOURCE),
    "aws_kms_key": ("policy", RESOURCE),
    "aws_kms_replica_key": ("policy", RESOURCE),
    "aws_sns_topic_policy": ("policy", RESOURCE),
    "aws_sqs_queue": ("policy", RESOURCE),
    "aws_sqs_queue_policy": ("policy", RESOURCE),
    "aws_cloudwatch_event_bus_policy": ("policy", RESOURCE),
    "aws_secretsmanager_resource_policy": ("policy", RESOURCE),
    "aws_cloudwatch_log_resource_policy": ("policy_document", RESOURCE),
    "aws_api_gateway_rest_api_policy": ("policy", RESOURCE),
    "aws_vpc_endpoint": ("policy", RESOURCE),
}
"""Resource type -> (attribute holding a policy document, kind of document)."""
KINDS: dict[str, tuple[str, ...]] = {
    kind: tuple(t for t, (_, k) in POLICY_DOCUMENTS.items() if k == kind) for kind in (TRUST, IDENTITY, RESOURCE)
}

SIZE_LIMITS: dict[str, tuple[int, str]] = {
    "aws_iam_role": (2048, "trust policy (IAM default quota)"),
    "aws_iam_policy": (6144, "managed policy"),
    "aws_iam_role_policy": (10240, "inline role policy"),
    "aws_kms_key": (32768, "key policy"),
    "aws_kms_replica_key": (32768, "key policy"),
    "aws_s3_bucket_policy": (20480, "bucket policy"),
}
"""Resource type -> (characters AWS accepts, what the document is). Whitespace outside strings does
not count; every Terraform reference counts as :data:`REFERENCE_SIZE` characters."""
REFERENCE_SIZE = 100
"""The length a ``${...}`` reference is assumed to resolve to (a long ARN), so estimates err high."""

TRUST_ACTIONS = frozenset(
    a.lower()
    for a in (
        "sts:AssumeRole",
        "sts:AssumeRoleWithSAML",
        "sts:AssumeRoleWithWebIdentity",
        "sts:SetContext",
        "sts:SetSourceIdentity",
        "sts:TagSession",
    )
)
LIMITING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceOwner",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "kms:CallerAccount",
    )
)
"""Condition keys that limit ``Principal: "*"`` to an account, organization or source."""
_OPERATOR = re.compile(
    r"^(?:(?:ForAllValues|ForAnyValue):)?(?:String(?:Not)?Equals(?:IgnoreCase)?|String(?:Not)?Like|"
    r"Numeric(?:Not)?Equals|Numeric(?:Less|Greater)Than(?:Equals)?|Date(?:Not)?Equals|"
    r"Date(?:Less|Greater)Than(?:Equals)?|Bool|BinaryEquals|(?:Not)?IpAddress|Arn(?:Not)?(?:Equals|Like))"
    r"(?:IfExists)?$|^Null$"
)
_POSITIVE = re.compile(r"^(?:ForAnyValue:)?(?:StringEquals(?:IgnoreCase)?|StringLike|ArnEquals|ArnLike)$")
_MAX_DETAILS = 4


def _documents(resource: Resource) -> list[dict[str, Any]]:
    attribute, _ = POLICY_DOCUMENTS[resource.type]
    return policy_documents(resource.config.get(attribute))


def _statements(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if isinstance(statement, dict):
            yield str(statement.get("Sid") or f"#{index}"), statement


def _verdict(problems: list[str]) -> Result:
    if not problems:
        return COMPLIANT
    extra = f" (+{len(problems) - _MAX_DETAILS} more)" if len(problems) > _MAX_DETAILS else ""
    return non_compliant("; ".join(problems[:_MAX_DETAILS]) + extra)


def grammar(document: dict[str, Any]) -> list[str]:
    """Problems every policy service reports: version, effect, action and condition syntax."""
    problems = []
    if document.get("Version") not in ("2012-10-17", "2008-10-17"):
        problems.append(f"Version {document.get('Version')!r} is not 2012-10-17")
    if not as_list(document.get("Statement")):
        problems.append("no Statement")
    for sid, statement in _statements(document):
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{sid}: Effect {statement.get('Effect')!r}")
        if ("Action" in statement) == ("NotAction" in statement):
            problems.append(f"{sid}: needs exactly one of Action and NotAction")
        for operator in statement.get("Condition", {}) or {}:
            if not _OPERATOR.match(operator):
                problems.append(f"{sid}: unknown condition operator {operator!r}")
    return problems


def _action_problems(sid: str, statement: dict[str, Any], *, check_resources: bool) -> list[str]:
    """Unknown actions, resources that fit no resource type of their action, unknown condition keys."""
    problems: list[str] = []
    services: set[str] = set()
    resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    for name in as_list(statement.get("Action")) + as_list(statement.get("NotAction")):
        prefix = str(name).partition(":")[0].lower()
        if "*" in name or "?" in name:
            if not ref.matching_actions(name):
                problems.append(f"{sid}: {name} matches no IAM action")
            services.add(prefix)
            continue
        info = ref.action(name)
        if info is None:
            if name not in ref.NEWER_ACTIONS:
                problems.append(f"{sid}: {name} is not an IAM action")
            services.add(prefix)
            continue
        services.add(info.service)
        if check_resources:
            problems += _resource_problems(sid, info, resources)
    for keys in (statement.get("Condition") or {}).values():
        for key in keys if isinstance(keys, dict) else {}:
            if not ref.condition_key_known(key, services):
                problems.append(f"{sid}: condition key {key!r} is neither global nor one of {sorted(services)}")
    return problems


def _resource_problems(sid: str, info: ref.ActionInfo, resources: list[str]) -> list[str]:
    """An action needs one resource of its statement that fits it (IAM ignores the others, so one
    statement may name a bucket and its objects); ``*`` only where the action takes nothing else."""
    types = ", ".join(t for t, _ in info.arn_patterns)
    if "*" in resources:
        if info.wildcard_only or info.full_name in ref.WILDCARD_RESOURCE_ACTIONS:
            return []
        return [f"{sid}: {info.full_name} on '*': name its {types} instead"]
    if info.wildcard_only:
        return [f"{sid}: {info.full_name} supports only '*', not {', '.join(resources)}"]
    try:
        if any(fits(r, pattern) for r in resources for _, pattern in info.arn_patterns):
            return []
    except UncheckableArnError as exc:
        return [f"{sid}: cannot check the resources of {info.full_name}: {exc}"]
    return [f"{sid}: none of {', '.join(resources)} fits a resource type of {info.full_name} ({types})"]


def _principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of every principal of a statement; ``("*", "*")`` for ``Principal: "*"``."""
    principal = statement.get("Principal")
    if principal == "*":
        return [("*", "*")]
    if not isinstance(principal, dict):
        return []
    return [(kind, str(v)) for kind, values in principal.items() for v in as_list(values)]


def _unknown_services(sid: str, statement: dict[str, Any]) -> list[str]:
    return [
        f"{sid}: {value} is not an AWS service principal"
        for kind, value in _principals(statement)
        if kind == "Service" and not ref.service_principal_known(value)
    ]


def trust_policy(resource: Resource, ctx: Context) -> Result:
    """A role's trust policy: a principal, no Resource, STS trust actions, real service principals."""
    if resource.type != "aws_iam_role":
        return NOT_APPLICABLE
    documents = _documents(resource)
    if not documents:
        return non_compliant("assume_role_policy is not a JSON policy document")
    problems: list[str] = []
    for document in documents:
        problems += grammar(document)
        for sid, statement in _statements(document):
            if "Principal" not in statement:
                problems.append(f"{sid}: no Principal")
            problems += [
                f"{sid}: prohibited field {f}" for f in ("NotPrincipal", "Resource", "NotResource") if f in statement
            ]
            wrong = [a for a in as_list(statement.get("Action")) if str(a).lower() not in TRUST_ACTIONS]
            if wrong:
                problems.append(f"{sid}: {wrong} cannot appear in a trust policy")
            problems += _unknown_services(sid, statement)
            problems += [p for p in _action_problems(sid, statement, check_resources=False) if "condition key" in p]
    return _verdict(problems)


def identity_policy(resource: Resource, ctx: Context) -> Result:
    """An identity policy: no principal, a resource in every statement, known actions, fitting ARNs,
    condition keys of the actions' services."""
    if resource.type not in KINDS[IDENTITY]:
        return NOT_APPLICABLE
    problems: list[str] = []
    for document in _documents(resource):
        problems += grammar(document)
        for sid, statement in _statements(document):
            problems += [f"{sid}: prohibited field {f}" for f in ("Principal", "NotPrincipal") if f in statement]
            if "Resource" not in statement and "NotResource" not in statement:
                problems.append(f"{sid}: no Resource")
            allow = statement.get("Effect") == "Allow"
            problems += _action_problems(sid, statement, check_resources=allow and "Resource" in statement)
    return _verdict(problems)


def _limited(statement: dict[str, Any]) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        if not _POSITIVE.match(operator) or not isinstance(keys, dict):
            continue
        if any(k.lower() in LIMITING_KEYS and v not in ("", [], "*") for k, v in keys.items()):
            return True
    return False


def resource_policy(resource: Resource, ctx: Context) -> Result:
    """A resource policy: a principal in every statement, ``*`` only when a condition limits it,
    real service principals, known actions and condition keys, a Resource element."""
    if resource.type not in KINDS[RESOURCE]:
        return NOT_APPLICABLE
    problems: list[str] = []
    for document in _documents(resource):
        problems += grammar(document)
        for sid, statement in _statements(document):
            if "Principal" not in statement and "NotPrincipal" not in statement:
                problems.append(f"{sid}: no Principal")
            if "Resource" not in statement and "NotResource" not in statement:
                problems.append(f"{sid}: no Resource")
            anyone = any(v == "*" for kind, v in _principals(statement) if kind in ("*", "AWS"))
            if anyone and statement.get("Effect") == "Allow" and not _limited(statement):
                problems.append(f"{sid}: allows Principal '*' without an account, organization or source condition")
            problems += _unknown_services(sid, statement)
            problems += _action_problems(sid, statement, check_resources=False)
    return _verdict(problems)


def document_size(text: str) -> int:
    """Characters AWS counts: compact JSON, each reference as :data:`REFERENCE_SIZE` characters."""
    try:
        compact = json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        compact = text
    return len(re.sub(r"\$\{[^}]*\}+", "x" * REFERENCE_SIZE, compact))


def policy_size(resource: Resource, ctx: Context) -> Result:
    """Documents stay within the size AWS accepts (see :data:`SIZE_LIMITS`)."""
    limit = SIZE_LIMITS.get(resource.type)
    attribute = POLICY_DOCUMENTS.get(resource.type, ("", ""))[0]
    text = resource.config.get(attribute)
    if limit is None or not isinstance(text, str):
        return NOT_APPLICABLE
    size = document_size(text)
    maximum, what = limit
    return non_compliant(f"{what} of {size} characters exceeds {maximum}") if size > maximum else COMPLIANT
