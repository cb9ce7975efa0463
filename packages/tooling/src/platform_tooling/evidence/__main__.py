"""``python -m platform_tooling.evidence [package ...]``: run the tests, write the evidence.

Runs the unit, snapshot, policy and handler tests of the selected packages (all by default),
plus the test files elsewhere that are marked with one of their requirements, in this process:
the synthesis each test session makes (or takes from the synthesis cache) is reused for the
matrices and diagrams, never made twice. Writes ``docs/requirements/register.md``,
``docs/evidence/<package>/matrix.{md,json}``, the diagrams and, when every package is selected,
``docs/evidence/controls.{md,json}``. Exits non-zero when a test failed or a requirement that is
not declined has no passing test, listing each.

``--controls-only``: rewrite only the control view, from the committed matrices (their tests and
outcomes, dated as the newest of them) and the current synthesis, without running the tests: for
when one package's evidence was regenerated and the all-package view must follow.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from platform_tooling.evidence.register import Requirement, load_register, marked_ids, register_markdown, repo_root

# The matrix, diagram and synthesis modules load the provider bindings: they are imported after
# pytest has started, so that pytest can still rewrite the assertions of what it imports.

ROOT = repo_root(Path(__file__))
EVIDENCE = ROOT / "docs" / "evidence"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def marked_files(ids: set[str]) -> list[Path]:
    """Test files (of any package) whose tests carry a requirement marker naming one of ``ids``."""
    return sorted({path for id_, paths in marked_ids(ROOT).items() if id_ in ids for path in paths})


def run_tests(packages: Sequence[str], register: Sequence[Requirement]) -> tuple[int, list[Any]]:
    """pytest over the packages' tests and the other files marked with their requirements."""
    ids = {r.id for r in register if r.package in packages}
    paths = {ROOT / "packages" / p / "tests" for p in packages if (ROOT / "packages" / p / "tests").is_dir()}
    paths |= {p for p in marked_files(ids) if not any(folder in p.parents for folder in paths)}
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "evidence.json"
        code = pytest.main(
            ["-m", "not emulator", "-q", "-p", "no:cacheprovider", f"--evidence-report={report}",
             f"--rootdir={ROOT}", *sorted(str(p) for p in paths)]
        )  # fmt: skip
        from platform_tooling.evidence import matrix

        results = matrix.read_results(json.loads(report.read_text(encoding="utf-8"))) if report.is_file() else []
    return int(code), results


def stacks_of(package: str) -> Mapping[str, Mapping[str, Any]]:
    """The dev synthesis of an app package (from this process's session cache); none for a library."""
    from platform_tooling.testing.synthesis import synthesize

    if not (ROOT / "packages" / package / "cdktf.json").is_file():
        return {}
    return synthesize(package).stacks


def controls_only(owners: Sequence[str]) -> int:
    """Rewrite ``docs/evidence/controls.{md,json}`` from the committed matrices (see the module)."""
    from platform_tooling.evidence import controls

    committed = {}
    for package in owners:
        path = EVIDENCE / package / "matrix.json"
        if not path.is_file():
            print(f"evidence: {path.relative_to(ROOT)} is missing; run nox -s evidence -- {package}", file=sys.stderr)
            return 2
        committed[package] = json.loads(path.read_text(encoding="utf-8"))
    rows = [row for document in committed.values() for row in document["requirements"]]
    run_date = max(str(document["run_date"]) for document in committed.values())
    view = controls.control_view({p: stacks_of(p) for p in owners}, rows)
    _write(EVIDENCE / "controls.json", controls.controls_json(view, run_date))
    _write(EVIDENCE / "controls.md", controls.controls_markdown(view, run_date))
    print(f"evidence: control view rewritten from {len(committed)} committed matrices ({run_date})")
    return 0


def main(argv: Sequence[str]) -> int:
    register = load_register()
    owners = sorted({r.package for r in register})
    if list(argv) == ["--controls-only"]:
        return controls_only(owners)
    known = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))
    unknown = [name for name in argv if name not in known]
    if unknown:
        print(f"evidence: unknown package(s) {unknown}; expected some of {known}", file=sys.stderr)
        return 2
    # Packages that own no requirement (the tooling) have no matrix.
    packages = [name for name in owners if name in argv] or owners
    code, results = run_tests(packages, register)
    from platform_tooling.evidence import controls, diagrams, matrix

    run_date = dt.datetime.now(dt.UTC).date().isoformat()
    _write(ROOT / "docs" / "requirements" / "register.md", register_markdown(register))
    stacks = {p: stacks_of(p) for p in packages}
    rows = []
    for package in packages:
        found = matrix.package_matrix(package, register, stacks[package], results)
        rows += found["requirements"]
        _write(EVIDENCE / package / "matrix.json", matrix.matrix_json(found, run_date))
        _write(EVIDENCE / package / "matrix.md", matrix.matrix_markdown(found, run_date))
    for path, text in diagrams.render_all({p: s for p, s in stacks.items() if s}).items():
        _write(ROOT / path, text)
    if packages == owners:
        view = controls.control_view(stacks, rows)
        _write(EVIDENCE / "controls.json", controls.controls_json(view, run_date))
        _write(EVIDENCE / "controls.md", controls.controls_markdown(view, run_date))
    missing = matrix.gaps(rows)
    for line in missing:
        print(f"evidence: not proven: {line}", file=sys.stderr)
    print(f"evidence: {len(rows) - len(missing)}/{len(rows)} requirements declined or proven by a passing test; "
          f"written under {EVIDENCE.relative_to(ROOT)}")  # fmt: skip
    return 1 if code != 0 or missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
