"""The requirements register: complete against the seed documents, well-formed, cited by tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from platform_tooling.evidence import plugin
from platform_tooling.evidence.register import (
    DOCUMENTS,
    load_register,
    marked_ids,
    register_markdown,
    register_path,
    seeds_folder,
)
from platform_tooling.evidence.seeds import SEEDS, seed_ids

ROOT = register_path().parents[2]


def test_seed_parser_finds_each_documents_items() -> None:
    ids, shared = seed_ids(seeds_folder())
    per_kind = Counter(
        i.rsplit("-", 1)[0] + ("-" + i.rsplit("-", 1)[1][0] if i.rsplit("-", 1)[1][0] in "CD" else "") for i in ids
    )
    # Counted by hand in the documents under docs/requirements/seeds: numbered items, constraint bullets, deployment bullets.
    assert per_kind == {
        "PAY": 12, "PAY-C": 5,
        "SEC": 12, "SEC-C": 10, "SEC-D": 9,
        "DR": 4, "DR-C": 21,
        "PEER": 12, "PEER-C": 10,
        "PCI": 9, "PCI-C": 10,
        "DEP": 10,
    }  # fmt: skip
    assert set(DOCUMENTS) == {seed.prefix for seed in SEEDS} | {"DEP"}
    assert shared[0] == "Resource Naming"
    assert shared[-1] == "Cross-Resource References"


def test_register_lists_exactly_the_seed_requirements() -> None:
    expected, _ = seed_ids(seeds_folder())
    found = [r.id for r in load_register()]
    assert expected
    assert sorted(set(expected) - set(found)) == []
    assert sorted(set(found) - set(expected)) == []


def test_declined_and_open_requirements_say_why() -> None:
    register = load_register()
    unfinished = [r for r in register if r.status != "built"]
    assert unfinished
    assert all(len(r.reason) >= 20 for r in unfinished)
    assert all(r.decision for r in register if r.status == "declined" and r.id != "DEP-6")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('id = "PAY-1"\nsummary = "x"\npackage = "nowhere"\nstatus = "built"', "package 'nowhere'"),
        ('id = "PAY-1"\nsummary = "x"\npackage = "tooling"\nstatus = "done"', "status 'done'"),
        ('id = "PAY-1"\nsummary = "x"\npackage = "tooling"\nstatus = "open"', "reason of at least 20"),
        ('id = "PAY1"\nsummary = "x"\npackage = "tooling"\nstatus = "built"', "does not match"),
        ('id = "PAY-1"\nsummary = "x"\npackage = "tooling"\nstatus = "built"\nresources = ["s3"]', "aws_*"),
        ('id = "PAY-1"\nsummary = "x"\npackage = "tooling"\nstatus = "built"\nowner = "me"', "unknown key 'owner'"),
        ('id = "PAY-1"\nsummary = "x"\npackage = "tooling"\nstatus = "built"\nrules = "TLS12"', "rules must be a list"),
    ],
)
def test_fails_on_a_malformed_entry(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "docs" / "requirements" / "register.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f"[[requirement]]\n{entry}\n")
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        load_register(path, packages={"tooling"})


def test_fails_on_a_duplicate_id(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "requirements" / "register.toml"
    path.parent.mkdir(parents=True)
    entry = '[[requirement]]\nid = "PAY-1"\nsummary = "x"\npackage = "tooling"\nstatus = "built"\n'
    path.write_text(entry + entry)
    with pytest.raises(ValueError, match="duplicate id 'PAY-1'"):
        load_register(path, packages={"tooling"})


def test_committed_markdown_is_generated_from_the_register() -> None:
    committed = (ROOT / "docs" / "requirements" / "register.md").read_text(encoding="utf-8")
    assert committed == register_markdown(load_register()), "run nox -s evidence to regenerate register.md"


def test_every_built_requirement_is_named_by_a_test_and_only_built_ones_are() -> None:
    marked = marked_ids()
    register = {r.id: r for r in load_register()}
    assert marked
    assert sorted(i for i, r in register.items() if r.status == "built" and i not in marked) == []
    assert sorted(i for i in marked if i in register and register[i].status != "built") == []
    assert sorted(set(marked) - set(register)) == []


class _Item(SimpleNamespace):
    def iter_markers(self, name: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(args=args) for args in self.marks] if name == plugin.MARKER else []

    def get_closest_marker(self, name: str) -> SimpleNamespace | None:
        return SimpleNamespace(args=self.marks[0]) if name == plugin.MARKER and self.marks else None


@pytest.mark.parametrize(
    ("marks", "message"),
    [([("PAY-99",)], "unknown requirement id 'PAY-99'"), ([()], r"requirement\(\) needs at least one id")],
)
def test_fails_collection_on_a_bad_marker(marks: list[tuple[str, ...]], message: str) -> None:
    items = [_Item(nodeid="t.py::test_x", marks=marks)]
    with pytest.raises(pytest.UsageError, match=message):
        plugin.pytest_collection_modifyitems(SimpleNamespace(), items)  # type: ignore[arg-type]


def test_known_marker_passes_collection() -> None:
    items = [_Item(nodeid="t.py::test_ok", marks=[("PAY-1",)])]
    plugin.pytest_collection_modifyitems(SimpleNamespace(), items)  # type: ignore[arg-type]
    assert plugin.requirement_ids(items[0]) == ["PAY-1"]  # type: ignore[arg-type]
