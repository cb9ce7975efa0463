"""Suppressions: a rule id and a reason, written into the resource's ``//`` comment block.

Terraform ignores a ``"//"`` property in JSON configuration, so the suppression travels with the
synthesized resource, where reviewers and the policy report see it.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformElement

MIN_REASON = 10


def suppress(resource: TerraformElement, rule_id: str, reason: str) -> None:
    """Exempt ``resource`` from rule ``rule_id``; ``reason`` must be at least 10 characters."""
    if not rule_id or not rule_id.replace("_", "").isalnum() or not rule_id.isupper():
        raise ValueError(f"rule id must be an upper-case rule identifier, got {rule_id!r}")
    if len(reason.strip()) < MIN_REASON:
        raise ValueError(f"suppression of {rule_id} needs a reason of at least {MIN_REASON} characters, got {reason!r}")
    existing: list[dict[str, str]] = getattr(resource, "_platform_suppressions", [])
    existing = [s for s in existing if s["rule"] != rule_id] + [{"rule": rule_id, "reason": reason.strip()}]
    object.__setattr__(resource, "_platform_suppressions", existing)
    resource.add_override("//.suppressions", existing)


def suppressions_of(config: dict[str, Any]) -> dict[str, str]:
    """The suppressions recorded on a synthesized resource: rule id to reason."""
    comment = config.get("//")
    if not isinstance(comment, dict):
        return {}
    return {s["rule"]: s["reason"] for s in comment.get("suppressions", []) if isinstance(s, dict)}
