"""Run a rule pack over synthesized stacks; report violations and suppressions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared_constructs.policy.model import Context, Finding, Outcome, Rule, StackView
from shared_constructs.policy.packs import BASELINE
from shared_constructs.policy.suppress import suppressions_of


class PolicyViolationError(Exception):
    """Raised when stacks break rules; ``findings`` lists every violation."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        super().__init__("\n".join(f.line() for f in self.findings))


@dataclass
class Report:
    """Every non-compliant finding, split into violations and suppressed ones (with reasons)."""

    violations: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    evaluated: int = 0

    def to_json(self) -> dict[str, Any]:
        def row(f: Finding) -> dict[str, str]:
            return {
                "rule": f.rule.id,
                "control": f.rule.control,
                "stack": f.stack,
                "resource": f.address,
                "detail": f.result.detail,
                "reason": f.reason,
            }

        return {
            "evaluated": self.evaluated,
            "violations": [row(f) for f in self.violations],
            "suppressions": [row(f) for f in self.suppressed],
        }

    def summary(self) -> str:
        return f"{self.evaluated} checks, {len(self.violations)} violations, {len(self.suppressed)} suppressed"


def _applies(rule: Rule, type_: str) -> bool:
    return "*" in rule.types or type_ in rule.types


def evaluate(stacks: Mapping[str, Mapping[str, Any]], context: Context, pack: Sequence[Rule] = BASELINE) -> Report:
    """Evaluate ``pack`` over every resource and provider block of ``stacks``."""
    report = Report()
    for stack_name in sorted(stacks):
        view = StackView(stack_name, stacks[stack_name])
        for resource in [*view.providers(), *view.resources()]:
            suppressed = suppressions_of(dict(resource.config))
            for rule in pack:
                if not _applies(rule, resource.type):
                    continue
                result = rule.check(resource, context)
                if result.outcome is Outcome.NOT_APPLICABLE:
                    continue
                report.evaluated += 1
                if result.outcome is Outcome.COMPLIANT:
                    continue
                if rule.id in suppressed:
                    report.suppressed.append(Finding(rule, stack_name, resource.address, result, suppressed[rule.id]))
                else:
                    report.violations.append(Finding(rule, stack_name, resource.address, result))
    return report


def check(stacks: Mapping[str, Mapping[str, Any]], context: Context, pack: Sequence[Rule] = BASELINE) -> Report:
    """Like :func:`evaluate`, but raise :class:`PolicyViolationError` when anything is violated."""
    report = evaluate(stacks, context, pack)
    if report.violations:
        raise PolicyViolationError(report.violations)
    return report
