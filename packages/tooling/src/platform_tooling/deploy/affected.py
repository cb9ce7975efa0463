"""``nox -s affected -- --base REF``: what a change does to each package's Terraform, decided from
the synthesized output, not from which files were touched.

The base is checked out in a temporary git worktree and synthesized there with the current
environment (its own packages first on ``PYTHONPATH``); the working tree is synthesized as
``nox -s synth`` does (the synthesis cache is reused). Then each package's stacks are compared:
resources and data sources added, removed and changed (with the attribute paths that differ,
and whether the provider replaces the resource for them, :mod:`.replacement`), outputs, and
the other blocks (providers, backend, locals). What does not reach Terraform is left out: the
``//`` metadata blocks, and asset paths whose file content is the same (cdktf's asset hash in
the path can differ while the code does not). A library change that leaves an app's Terraform
as it was does not mark that app.

Exit status: 0 (whether or not anything is affected), 2 when a tree cannot be synthesized.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_tooling.deploy.replacement import forces_replacement

_ASSET = re.compile(r"^assets/([^/]+)/[0-9A-F]{32,}/(.+)$")
_SECTIONS = ("resource", "data")


@dataclass
class ResourceChange:
    """A resource (or data source) whose configuration differs: the attribute paths that do."""

    address: str
    type: str
    paths: list[str]

    @property
    def replaces(self) -> list[str]:
        """The paths that make the provider replace the resource."""
        return [p for p in self.paths if forces_replacement(self.type, p)]


@dataclass
class StackDiff:
    """How one stack's synthesized configuration differs between the base and the working tree."""

    stack: str
    status: str = "changed"
    """``added``, ``removed`` or ``changed``."""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    """Outputs added, removed or changed (``+name``, ``-name``, ``~name``)."""
    other: list[str] = field(default_factory=list)
    """Other paths that differ (providers, backend, locals, variables)."""

    @property
    def empty(self) -> bool:
        return self.status == "changed" and not (
            self.added or self.removed or self.changed or self.outputs or self.other
        )


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def normalize(document: Mapping[str, Any], stack_dir: Path) -> dict[str, Any]:
    """``document`` as Terraform sees it: no ``//`` blocks; asset paths named by their content."""

    def assets(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: assets(v) for k, v in value.items()}
        if isinstance(value, list):
            return [assets(v) for v in value]
        if isinstance(value, str) and (match := _ASSET.match(value)):
            path = stack_dir / value
            content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
            return f"assets/{match.group(1)}/sha256:{content}/{match.group(2)}"
        return value

    return assets(_strip(dict(document)))  # type: ignore[no-any-return]


def _paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values of ``value`` by attribute path (``a.b[0].c``)."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(_paths(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, item in enumerate(value):
            found.update(_paths(item, f"{prefix}[{index}]"))
        return found
    return {prefix: value}


def _differing(base: Any, head: Any) -> list[str]:
    before, after = _paths(base), _paths(head)
    return sorted(p for p in set(before) | set(after) if before.get(p, "<absent>") != after.get(p, "<absent>"))


def _addresses(document: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    found = {}
    for section in _SECTIONS:
        for type_, items in document.get(section, {}).items():
            for name, config in items.items():
                prefix = "data." if section == "data" else ""
                found[f"{prefix}{type_}.{name}"] = (type_, config)
    return found


def diff_stack(name: str, base: Mapping[str, Any] | None, head: Mapping[str, Any] | None) -> StackDiff:
    """How ``head`` differs from ``base`` (normalized documents; ``None``: the stack is absent)."""
    result = StackDiff(name, "added" if base is None else "removed" if head is None else "changed")
    before, after = _addresses(base or {}), _addresses(head or {})
    result.added = sorted(set(after) - set(before))
    result.removed = sorted(set(before) - set(after))
    for address in sorted(set(before) & set(after)):
        paths = _differing(before[address][1], after[address][1])
        if paths:
            result.changed.append(ResourceChange(address, after[address][0], paths))
    old, new = (base or {}).get("output", {}), (head or {}).get("output", {})
    result.outputs = [f"+{o}" for o in sorted(set(new) - set(old))] + [f"-{o}" for o in sorted(set(old) - set(new))]
    result.outputs += [f"~{o}" for o in sorted(set(old) & set(new)) if old[o] != new[o]]
    if result.status != "changed":  # a whole stack added or removed: its resources say it all
        return result
    rest = ("resource", "data", "output")
    result.other = _differing(
        {k: v for k, v in (base or {}).items() if k not in rest},
        {k: v for k, v in (head or {}).items() if k not in rest},
    )
    return result


def read_tree(root: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Every app package's synthesized stacks under ``root`` (``packages/<app>/cdktf.out``), normalized."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for marker in sorted((root / "packages").glob("*/cdktf.json")):
        stacks = {}
        for path in sorted((marker.parent / "cdktf.out" / "stacks").glob("*/cdk.tf.json")):
            stacks[path.parent.name] = normalize(json.loads(path.read_text(encoding="utf-8")), path.parent)
        found[marker.parent.name] = stacks
    return found


def compare(base: Mapping[str, Mapping[str, Any]], head: Mapping[str, Mapping[str, Any]]) -> dict[str, list[StackDiff]]:
    """Package -> the stacks that differ (packages whose Terraform is the same are left out)."""
    affected: dict[str, list[StackDiff]] = {}
    for package in sorted(set(base) | set(head)):
        old, new = base.get(package, {}), head.get(package, {})
        diffs = [diff_stack(s, old.get(s), new.get(s)) for s in sorted(set(old) | set(new))]
        diffs = [d for d in diffs if not d.empty]
        if diffs:
            affected[package] = diffs
    return affected


def synthesize(tree: Path, environment: str) -> None:
    """Synthesize every app of ``tree`` for ``environment`` in a fresh process, the tree's own
    packages first on ``PYTHONPATH`` (the current environment's libraries otherwise)."""
    sources = [str(p) for p in sorted((tree / "packages").glob("*/src"))]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*sources, *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    command = [sys.executable, "-m", "platform_tooling.synth", "--env", environment]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"synthesis of {tree} failed (exit {done.returncode}):\n{tail}")


@contextmanager
def worktree(root: Path, ref: str) -> Iterator[Path]:
    """A detached git worktree of ``ref`` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="affected-base-")) / "tree"
    subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", "--quiet", str(folder), ref], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(folder)], check=False)
        shutil.rmtree(folder.parent, ignore_errors=True)


def _stack_lines(diff: StackDiff) -> list[str]:
    lines = [f"+ {a}" for a in diff.added] + [f"- {a}" for a in diff.removed]
    for change in diff.changed:
        flag = f" (replaces: {', '.join(change.replaces)})" if change.replaces else ""
        lines.append(f"~ {change.address}: {', '.join(change.paths)}{flag}")
    lines += [f"output {o}" for o in diff.outputs] + [f"~ {p}" for p in diff.other]
    return lines


def text(affected: Mapping[str, Sequence[StackDiff]], base: str) -> str:
    if not affected:
        return f"no package's Terraform differs from {base}\n"
    lines = [f"affected against {base}: {', '.join(affected)}"]
    for package, diffs in affected.items():
        for diff in diffs:
            lines.append(f"{package}/{diff.stack} ({diff.status})")
            lines += [f"  {line}" for line in _stack_lines(diff)]
    return "\n".join(lines) + "\n"


def markdown(affected: Mapping[str, Sequence[StackDiff]], base: str) -> str:
    lines = [f"### Affected packages against `{base}`", ""]
    if not affected:
        return "\n".join([*lines, "No package's Terraform differs."]) + "\n"
    lines += ["| package | stack | added | removed | changed | replaced |", "|---|---|---|---|---|---|"]
    for package, diffs in affected.items():
        for d in diffs:
            replaced = sum(1 for c in d.changed if c.replaces)
            status = "" if d.status == "changed" else f" ({d.status})"
            lines.append(
                f"| {package} | {d.stack}{status} | {len(d.added)} | {len(d.removed)} | {len(d.changed)} | {replaced} |"
            )
    for package, diffs in affected.items():
        for d in diffs:
            lines += ["", f"<details><summary>{package}/{d.stack}</summary>", "", "```diff", *_stack_lines(d), "```"]
            lines.append("</details>")
    return "\n".join(lines) + "\n"


def run(root: Path, base: str, environment: str) -> dict[str, list[StackDiff]]:
    """Synthesize ``base`` and the working tree at ``root``; what differs, per package."""
    with worktree(root, base) as tree:
        synthesize(tree, environment)
        old = read_tree(tree)
    synthesize(root, environment)
    return compare(old, read_tree(root))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_tooling.deploy.affected", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--base", required=True, help="git ref to compare the working tree with (e.g. origin/main)")
    parser.add_argument("--env", default=os.environ.get("PLATFORM_ENV", "dev"), help="environment file to synthesize")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write the affected package names as a JSON list")
    args = parser.parse_args(argv)
    from platform_tooling.synth import repo_root

    root = repo_root()
    try:
        affected = run(root, args.base, args.env)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text(affected, args.base), end="")
    if args.markdown:
        args.markdown.write_text(markdown(affected, args.base), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(sorted(affected)) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
