"""The rules table of the README, generated from the pack (a test keeps the README in step)."""

from __future__ import annotations

from collections.abc import Sequence

from shared_constructs.policy.model import Rule
from shared_constructs.policy.packs import BASELINE


def rules_markdown(pack: Sequence[Rule] = BASELINE) -> str:
    """A markdown table: rule id, severity, control, what it reports."""
    lines = ["| rule | severity | control | reports |", "|---|---|---|---|"]
    lines += [f"| `{r.id}` | {r.severity} | {r.control} | {r.message} |" for r in pack]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(rules_markdown(), end="")
