"""The README's PCI DSS table names tests that exist, and every row names at least one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[a-z_/]+\.py)::([a-z0-9_]+)`")


def table_rows() -> list[str]:
    readme = (PACKAGE / "README.md").read_text(encoding="utf-8")
    section = readme.split("## PCI DSS v4.0.1:", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| PCI DSS")]
    assert len(rows) >= 10
    return rows


def test_every_requirement_row_names_tests() -> None:
    assert all(REFERENCE.search(row) for row in table_rows())


def test_every_test_the_table_names_exists() -> None:
    named = [m.groups() for row in table_rows() for m in REFERENCE.finditer(row)]
    assert len(named) > 30
    missing = []
    for path, name in named:
        module = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
        functions = {n.name for n in module.body if isinstance(n, ast.FunctionDef)}
        if name not in functions:
            missing.append(f"{path}::{name}")
    assert missing == []
