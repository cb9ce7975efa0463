"""Facts the synthesized JSON cannot show by itself, recorded in a resource's ``//`` comment block.

- ``//.services``: the AWS services (boto3 client names) code running on a function or host calls;
  the reachability rule checks each one has a network path from its subnets.
- ``//.encrypts``: on a key, what it encrypts that the stack only reads (a secret referenced by a
  data source); the key-usage rule then checks the deployer can read it back. (Recorded on the key:
  CDKTF writes a data source's ``//`` block itself.)
- ``//.identifier``: on a custom Config rule, its stable identifier (``PEERING_SG_AUTHORIZED_PORTS``);
  its ``source_identifier`` is only the function's ARN, so evidence maps controls by this name.

Terraform ignores ``"//"`` in JSON configuration, as it does for suppressions
(:mod:`shared_constructs.policy.suppress`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import TerraformElement

_SERVICE = re.compile(r"^[a-z][a-z0-9-]*$")
RULE_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]*$")
"""What a custom Config rule's identifier looks like (as AWS names its managed rules)."""


def declare_services(resource: TerraformElement, services: Sequence[str]) -> None:
    """Record that code running on ``resource`` calls ``services`` (boto3 client names such as
    ``"sqs"``, ``"events"``, ``"firehose"``; an empty list declares that it calls none)."""
    bad = [s for s in services if not isinstance(s, str) or not _SERVICE.fullmatch(s)]
    if bad:
        raise ValueError(f"services must be boto3 client names such as 'sqs', got {bad}")
    resource.add_override("//.services", sorted(set(services)))


def services_of(config: Mapping[str, Any]) -> list[str] | None:
    """The services recorded on a synthesized resource, or None when it declares none."""
    comment = config.get("//")
    services = comment.get("services") if isinstance(comment, dict) else None
    return [str(s) for s in services] if isinstance(services, list) else None


def declare_encrypts(key: TerraformElement, references: Sequence[str]) -> None:
    """Record on ``key`` (a KMS key resource) that it encrypts what ``references`` point at, such as
    ``secret.arn`` of a data source of an existing secret."""
    existing: list[str] = getattr(key, "_platform_encrypts", [])
    existing = sorted({*existing, *references})
    object.__setattr__(key, "_platform_encrypts", existing)
    key.add_override("//.encrypts", existing)


def encrypts_of(config: Mapping[str, Any]) -> list[str]:
    """What :func:`declare_encrypts` recorded on a synthesized key (references), or an empty list."""
    comment = config.get("//")
    found = comment.get("encrypts") if isinstance(comment, dict) else None
    return [str(r) for r in found] if isinstance(found, list) else []


def declare_rule_identifier(rule: TerraformElement, identifier: str) -> None:
    """Record the stable identifier of a custom Config rule (upper snake case, as AWS names its
    managed rules)."""
    if not RULE_IDENTIFIER.fullmatch(identifier):
        raise ValueError(
            f"custom Config rule identifier: got {identifier!r}; expected upper snake case such as 'MY_RULE'"
        )
    rule.add_override("//.identifier", identifier)


def rule_identifier_of(config: Mapping[str, Any]) -> str | None:
    """The identifier :func:`declare_rule_identifier` recorded on a synthesized rule, or None."""
    comment = config.get("//")
    found = comment.get("identifier") if isinstance(comment, dict) else None
    return str(found) if isinstance(found, str) else None
