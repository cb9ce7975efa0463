"""Pytest plugin: ``@pytest.mark.requirement("PAY-4", ...)`` names what a test proves.

Collection fails on an id the register does not know. With ``--evidence-report=FILE`` the
outcome of every marked test is written to FILE as JSON (node ids relative to the repository,
sorted; no timings), for :mod:`platform_tooling.evidence.matrix`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from platform_tooling.evidence.register import known_ids

MARKER = "requirement"
_OUTCOMES: dict[str, str] = {}
_MARKED: dict[str, list[str]] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--evidence-report",
        default=None,
        help="write the outcome of every test marked requirement(...) to this JSON file",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): register ids (docs/requirements/register.toml) this test proves"
    )


def requirement_ids(item: pytest.Item) -> list[str]:
    """The ids of every requirement marker on ``item``."""
    return sorted({str(arg) for mark in item.iter_markers(MARKER) for arg in mark.args})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a marker without ids or with an id the register does not list."""
    marked = [item for item in items if item.get_closest_marker(MARKER) is not None]
    if not marked:
        return
    known = known_ids()
    problems = []
    for item in marked:
        ids = requirement_ids(item)
        if not ids:
            problems.append(f"{item.nodeid}: requirement() needs at least one id")
        problems += [f"{item.nodeid}: unknown requirement id {i!r}" for i in ids if i not in known]
        _MARKED[item.nodeid] = ids
    if problems:
        raise pytest.UsageError("; ".join(sorted(set(problems))))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A test passes when its setup, call and teardown passed; a skip is never a pass."""
    if report.nodeid not in _MARKED:
        return
    state = _OUTCOMES.get(report.nodeid)
    if report.failed:
        state = "failed"
    elif report.skipped and state != "failed":
        state = "skipped"
    elif report.when == "call" and state is None:
        state = "passed"
    if state is not None:
        _OUTCOMES[report.nodeid] = state


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = session.config.getoption("--evidence-report")
    if not target:
        return
    tests = [
        {"test": nodeid, "requirements": ids, "outcome": _OUTCOMES.get(nodeid, "not run")}
        for nodeid, ids in sorted(_MARKED.items())
    ]
    Path(target).write_text(json.dumps({"tests": tests}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
