"""The requirements register (``docs/requirements/register.toml``): loaded, checked, rendered."""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

STATUSES = ("built", "declined", "open")
ID = re.compile(r"^(PAY|SEC|DR|PEER|PCI|DEP)-([CD]?)(\d+)$")
FIELDS = {"id", "summary", "package", "status", "resources", "rules", "note", "reason", "decision"}


def repo_root(start: Path) -> Path:
    """The repository holding ``start`` (the folder with ``packages/`` and ``pyproject.toml``).

    Kept free of the synthesis modules: the pytest plugin loads this before any test imports
    the provider bindings."""
    for folder in start.resolve().parents:
        if (folder / "packages").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError(f"no repository above {start}")


DOCUMENTS = {
    "PAY": "payments-multiregion.md",
    "SEC": "payment-platform-security.md",
    "DR": "financial-dr-multiregion-ts.md",
    "PEER": "cross-account-vpc-peering.md",
    "PCI": "pci-data-processing.md",
    "DEP": "deployment sections shared by payments-multiregion.md and cross-account-vpc-peering.md",
}
"""Id prefix -> the seed document (under ``docs/requirements/seeds``) it numbers."""


def register_path(root: Path | None = None) -> Path:
    return (root or repo_root(Path(__file__))) / "docs" / "requirements" / "register.toml"


def seeds_folder(root: Path | None = None) -> Path:
    return (root or repo_root(Path(__file__))) / "docs" / "requirements" / "seeds"


@dataclass(frozen=True)
class Requirement:
    """One register entry."""

    id: str
    summary: str
    package: str
    status: str
    resources: tuple[str, ...] = ()
    """Terraform resource types of the owning package's stacks that carry the requirement."""
    rules: tuple[str, ...] = ()
    """Policy rules that guard it beyond those reading ``resources`` (rules over every resource
    type or over the provider block, such as the tag and naming rules)."""
    note: str = ""
    reason: str = ""
    """Why it is declined, or what is missing while it is open."""
    decision: str = ""

    @property
    def sort_key(self) -> tuple[str, str, int]:
        match = ID.match(self.id)
        if match is None:
            return (self.id, "", 0)
        return (match.group(1), match.group(2), int(match.group(3)))


def _problems(entry: dict[str, object], packages: set[str], index: int) -> list[str]:
    where = f"register entry {index} ({entry.get('id', '?')})"
    found = [f"{where}: unknown key {key!r}, expected one of {sorted(FIELDS)}" for key in entry if key not in FIELDS]
    for key in ("id", "summary", "package", "status"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            found.append(f"{where}: {key!r} must be a non-empty string")
    if isinstance(entry.get("id"), str) and not ID.match(str(entry["id"])):
        found.append(f"{where}: id {entry['id']!r} does not match {ID.pattern}")
    if entry.get("package") not in packages:
        found.append(f"{where}: package {entry.get('package')!r} is not one of {sorted(packages)}")
    status = entry.get("status")
    if status not in STATUSES:
        found.append(f"{where}: status {status!r} is not one of {STATUSES}")
    if status in ("declined", "open") and len(str(entry.get("reason", ""))) < 20:
        found.append(f"{where}: a {status} requirement needs a reason of at least 20 characters")
    if status == "built" and entry.get("reason"):
        found.append(f"{where}: a built requirement has no reason (use note)")
    summary = str(entry.get("summary", ""))
    if len(summary) > 160 or "\n" in summary:
        found.append(f"{where}: summary must be one line of at most 160 characters")
    rules = entry.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) and r.isupper() for r in rules):
        found.append(f"{where}: rules must be a list of policy rule ids")
    resources = entry.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) and r.startswith("aws_") for r in resources):
        found.append(f"{where}: resources must be a list of aws_* resource types")
    return found


def load_register(path: Path | None = None, packages: set[str] | None = None) -> list[Requirement]:
    """The register's requirements, sorted by id; raises ValueError listing every problem."""
    path = path or register_path()
    root = path.parents[2]
    packages = packages or {p.parent.name for p in root.glob("packages/*/pyproject.toml")}
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("requirement", [])
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: cannot read the register: {error}") from error
    problems: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        problems += _problems(entry, packages, index)
        if entry.get("id") in seen:
            problems.append(f"register entry {index}: duplicate id {entry['id']!r}")
        seen.add(str(entry.get("id")))
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    found = [
        Requirement(**{**entry, "resources": tuple(entry.get("resources", [])), "rules": tuple(entry.get("rules", []))})  # type: ignore[arg-type]
        for entry in entries
    ]
    return sorted(found, key=lambda r: r.sort_key)


def known_ids(path: Path | None = None) -> set[str]:
    return {r.id for r in load_register(path)}


def register_markdown(requirements: list[Requirement]) -> str:
    """The register as a Markdown table (generated; docs/requirements/register.md)."""
    counts = {status: sum(r.status == status for r in requirements) for status in STATUSES}
    lines = [
        "# Requirements register",
        "",
        "Generated from `register.toml` by `nox -s evidence`; do not edit by hand. Ids and the seed",
        "documents they come from are explained in the header of `register.toml`.",
        "",
        f"{len(requirements)} requirements: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + ".",
        "",
        "| ids | document | requirements | " + " | ".join(STATUSES) + " |",
        "|---|---|---|" + "---|" * len(STATUSES),
    ]
    for prefix, document in DOCUMENTS.items():
        chosen = [r for r in requirements if r.id.startswith(prefix + "-")]
        lines.append(
            f"| {prefix} | {document} | {len(chosen)} | "
            + " | ".join(str(sum(r.status == s for r in chosen)) for s in STATUSES)
            + " |"
        )
    lines += [
        "",
        "| id | requirement | package | status | reason or note |",
        "|---|---|---|---|---|",
    ]
    for r in requirements:
        detail = r.reason or r.note
        if r.decision:
            detail = f"{detail} ({r.decision})"
        lines.append(f"| {r.id} | {_cell(r.summary)} | {r.package} | {r.status} | {_cell(detail)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def marked_ids(root: Path | None = None) -> dict[str, set[Path]]:
    """Requirement id -> test files whose tests carry ``requirement(id)``, read without importing
    them (importing a package's tests loads the provider bindings)."""
    root = root or repo_root(Path(__file__))
    found: dict[str, set[Path]] = {}
    for path in sorted(root.glob("packages/*/tests/**/test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "requirement":
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, set()).add(path)
    return found
