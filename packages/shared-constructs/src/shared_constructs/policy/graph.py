"""Indexes over one synthesized stack that cross-resource rules share (built once per stack).

References are Terraform's ``${type.name.attribute}`` (``${data.type.name.attribute}`` for data
sources); what they point at is looked up in the same stack. What lives in another stack (a key
addressed by alias, a remote-state output) cannot be followed and is left to that stack's checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from shared_constructs.policy.model import Resource, StackView, as_list, policy_documents

REFERENCE = re.compile(r"\$\{(?P<address>(?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.(?P<attribute>[A-Za-z0-9_]+))?")
ROOT_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::(?:\d{12}|\$\{[^}]+\}):root$|^\d{12}$")


def addresses_in(value: Any) -> list[str]:
    """Every address a (possibly nested) attribute value refers to."""
    found: list[str] = []
    if isinstance(value, str):
        found += [m["address"] for m in REFERENCE.finditer(value)]
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "//":
                found += addresses_in(item)
    elif isinstance(value, list):
        for item in value:
            found += addresses_in(item)
    return found


def target(stack: StackView, value: Any) -> Resource | None:
    """The resource a value that is one reference (``${aws_subnet.a.id}``) points at."""
    if isinstance(value, str):
        match = REFERENCE.match(value)
        if match and value.endswith("}"):
            return stack.get(match["address"])
    return None


def targets(stack: StackView, values: Any) -> list[Resource]:
    """The resources a list of references points at (unresolvable entries are left out)."""
    return [r for r in (target(stack, v) for v in as_list(values)) if r is not None]


def referrers(stack: StackView, address: str) -> list[Resource]:
    """Resources (and data sources) of the stack whose configuration refers to ``address``."""

    def build() -> dict[str, list[Resource]]:
        index: dict[str, list[Resource]] = {}
        for resource in [*stack.resources(), *stack.data_sources()]:
            for found in sorted(set(addresses_in(dict(resource.config)))):
                index.setdefault(found, []).append(resource)
        return index

    return stack.memo("referrers", build).get(address, [])


def region_of(resource: Resource) -> str:
    """The region of the provider ``resource`` uses (its ``provider`` alias, else the default one)."""
    alias = str(resource.config.get("provider", "aws")).partition(".")[2]
    for provider in resource.stack.providers():
        if provider.type == "provider.aws" and (provider.config.get("alias") or "") == alias:
            return str(provider.config.get("region", ""))
    return ""


def statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in as_list(document.get("Statement")):
        if isinstance(statement, dict):
            yield statement


def role_statements(stack: StackView, role: Resource) -> list[dict[str, Any]]:
    """The statements of every identity policy of ``role``: attached managed policies of the stack
    and inline role policies."""

    def build() -> dict[str, list[dict[str, Any]]]:
        index: dict[str, list[dict[str, Any]]] = {}
        for attachment in stack.resources("aws_iam_role_policy_attachment"):
            owner, policy = (
                target(stack, attachment.config.get("role")),
                target(stack, attachment.config.get("policy_arn")),
            )
            if owner is not None and policy is not None:
                for document in policy_documents(policy.config.get("policy")):
                    index.setdefault(owner.address, []).extend(statements(document))
        for inline in stack.resources("aws_iam_role_policy"):
            owner = target(stack, inline.config.get("role"))
            if owner is not None:
                for document in policy_documents(inline.config.get("policy")):
                    index.setdefault(owner.address, []).extend(statements(document))
        return index

    return stack.memo("role_statements", build).get(role.address, [])


def conditions(statement: dict[str, Any]) -> dict[str, list[str]]:
    """Condition key (lower case) -> values, over the positive operators of a statement."""
    found: dict[str, list[str]] = {}
    for operator, keys in (statement.get("Condition") or {}).items():
        if "Not" in operator or not isinstance(keys, dict):
            continue
        for key, values in keys.items():
            found.setdefault(key.lower(), []).extend(str(v) for v in as_list(values))
    return found
