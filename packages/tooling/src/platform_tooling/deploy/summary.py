"""Readable plan summaries from ``terraform show -json``: text for a terminal, Markdown for a review.

Per stack: how many resources are added, changed, destroyed and replaced, and each change with
the attributes it touches (those that force a replacement marked). Replacements and destroys of
stateful resources (:data:`platform_tooling.deploy.stateful.STATEFUL`) come first, across all
stacks, under "Data at risk". On a target that returns less than AWS (the emulator), changes
explained by its tolerated drift are counted apart and do not count as changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from platform_tooling.deploy.stateful import loses

KINDS = ("add", "change", "destroy", "replace")


@dataclass(frozen=True)
class Change:
    """One planned resource change."""

    address: str
    type: str
    kind: str
    """``add``, ``change``, ``destroy`` or ``replace``."""
    attributes: tuple[str, ...] = ()
    """Top-level attributes whose value changes (or becomes known only after apply)."""
    forces_replacement: tuple[str, ...] = ()
    """Attribute paths Terraform names as forcing the replacement."""

    @property
    def data_loss(self) -> str | None:
        """What is lost when a stateful resource is replaced or destroyed, else ``None``."""
        return loses(self.type) if self.kind in ("destroy", "replace") else None

    def line(self) -> str:
        detail = ""
        if self.forces_replacement:
            detail = f" (forced by {', '.join(self.forces_replacement)})"
        elif self.attributes and self.kind == "change":
            detail = f" ({', '.join(self.attributes)})"
        return f"{self.kind:<7} {self.address}{detail}"


@dataclass
class StackPlan:
    """The summary of one stack's plan (or why it could not be planned)."""

    package: str
    stack: str
    changes: list[Change] = field(default_factory=list)
    tolerated: list[Change] = field(default_factory=list)
    """Changes explained by the target's tolerated drift (the emulator's), not counted."""
    refused: str | None = None
    """Why the stack was not planned (a producer has not published what it reads)."""

    @property
    def label(self) -> str:
        return f"{self.package}/{self.stack}"

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def no_changes(self) -> bool:
        return self.refused is None and not self.changes

    @property
    def at_risk(self) -> list[Change]:
        return [c for c in self.changes if c.data_loss]

    def counts(self) -> str:
        if self.refused is not None:
            return "not planned"
        if self.no_changes:
            return "no changes" + (f" ({len(self.tolerated)} tolerated emulator drift)" if self.tolerated else "")
        return ", ".join(f"{self.count(k)} to {k}" for k in KINDS)


def _kind(actions: Sequence[str]) -> str | None:
    if "delete" in actions and "create" in actions:
        return "replace"
    return {"create": "add", "update": "change", "delete": "destroy"}.get(actions[0]) if actions else None


def _changed(change: Mapping[str, Any]) -> tuple[str, ...]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    keys = set(before) | set(after) | set(unknown)
    return tuple(sorted(k for k in keys if before.get(k) != after.get(k) or unknown.get(k) is True))


def _path(parts: Iterable[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def summarize(
    package: str,
    stack: str,
    plan: Mapping[str, Any],
    *,
    tolerated: Callable[[Mapping[str, Any]], bool] | None = None,
) -> StackPlan:
    """The summary of ``plan`` (``terraform show -json`` of a saved plan) for ``package``/``stack``.

    ``tolerated``: says whether a resource change is the target's known drift (not counted).
    """
    result = StackPlan(package, stack)
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") == "data":
            continue
        change = rc.get("change", {})
        kind = _kind(change.get("actions", []))
        if kind is None:
            continue
        forced = tuple(_path(p) for p in change.get("replace_paths", []) or [])
        item = Change(rc["address"], rc["type"], kind, _changed(change) if kind == "change" else (), forced)
        if tolerated is not None and kind in ("change", "replace") and tolerated(rc):
            result.tolerated.append(item)
        else:
            result.changes.append(item)
    return result


_STREAM_KINDS = {"create": "add", "update": "change", "delete": "destroy", "replace": "replace"}


def from_messages(package: str, stack: str, messages: Iterable[Mapping[str, Any]]) -> StackPlan:
    """The summary of the plan an ``apply -auto-approve -json`` made and applied, from its
    ``planned_change`` messages: each change's address, type and kind (the stream names no
    attributes; reads and no-ops are left out, as in :func:`summarize`)."""
    result = StackPlan(package, stack)
    for message in messages:
        if message.get("type") != "planned_change":
            continue
        change = message.get("change", {})
        kind = _STREAM_KINDS.get(str(change.get("action")))
        resource = change.get("resource", {})
        if kind is not None:
            result.changes.append(Change(str(resource.get("addr")), str(resource.get("resource_type")), kind))
    return result


def text(plans: Sequence[StackPlan]) -> str:
    """A plain-text summary of ``plans`` (in the order given: the deployment order)."""
    lines: list[str] = []
    risks = [(p, c) for p in plans for c in p.at_risk]
    if risks:
        lines.append("DATA AT RISK (stateful resources replaced or destroyed):")
        lines += [f"  {c.kind} {p.label} {c.address}: loses {c.data_loss}" for p, c in risks]
        lines.append("")
    for plan in plans:
        lines.append(f"{plan.label}: {plan.counts()}")
        if plan.refused is not None:
            lines.append(f"  refused: {plan.refused}")
        lines += [f"  {c.line()}" for c in plan.changes]
    return "\n".join(lines) + "\n"


def markdown(plans: Sequence[StackPlan], *, title: str = "Plan") -> str:
    """A Markdown summary of ``plans`` for a pull-request comment."""
    lines = [f"### {title}", ""]
    risks = [(p, c) for p in plans for c in p.at_risk]
    if risks:
        lines += ["> [!CAUTION]", "> **Data at risk**: stateful resources replaced or destroyed", ">"]
        lines += [f"> - `{c.kind}` **{p.label}** `{c.address}`: loses {c.data_loss}" for p, c in risks]
        lines.append("")
    lines += ["| stack | add | change | destroy | replace |", "|---|---|---|---|---|"]
    for plan in plans:
        if plan.refused is not None:
            lines.append(f"| {plan.label} | refused: {plan.refused} | | | |")
        else:
            lines.append(f"| {plan.label} | " + " | ".join(str(plan.count(k)) for k in KINDS) + " |")
    for plan in plans:
        if plan.changes:
            lines += ["", f"<details><summary>{plan.label}</summary>", "", "```"]
            lines += [c.line() for c in plan.changes]
            lines += ["```", "</details>"]
    return "\n".join(lines) + "\n"
