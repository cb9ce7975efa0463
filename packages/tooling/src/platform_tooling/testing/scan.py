"""The scan rung's verdict: checkov's failures against the findings accepted per resource address.

``python -m platform_tooling.testing.scan REPORT.json [--accepted FILE] [--environment NAME]``
reads checkov's JSON report (``-o json``) and the acceptance file (``checkov-accepted.toml`` at the
repository root). Every failure must be accepted for its check and resource address, and every
accepted address must still fail: an unaccepted failure, a stale acceptance or a file checkov could
not parse fails the rung. ``python -m platform_tooling.testing.scan --prepare OUT STACK_FILE...``
prints the files to hand checkov (:func:`readable_by_checkov`).

The acceptance file holds entries of::

    [[accept]]
    check = "CKV_AWS_338"
    reason = "why this finding is right for these resources (at least 20 characters)"
    resources = ["pci-platform/pci-platform/aws_cloudwatch_log_group.flow_log_group_E60FBF9E"]
    environments = ["dev"]   # optional: only where the finding exists (default: every one)

Addresses are ``<app>/<stack>/<type>.<name>`` (the app is the folder holding ``cdktf.out``);
``*`` in the stack or name part matches the same resource in several stacks (one per region).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_REASON = 20


@dataclass(frozen=True)
class Failure:
    check: str
    address: str  # <app>/<stack>/<type>.<name>
    name: str


@dataclass(frozen=True)
class Acceptance:
    check: str
    reason: str
    resources: tuple[str, ...]
    environments: tuple[str, ...] = ()


def _type_of(stack_file: Path, name: str, cache: dict[Path, dict[str, Any]]) -> str:
    """checkov names some terraform_json resources ``resource.<name>``: find the type in the stack."""
    if stack_file not in cache:
        cache[stack_file] = json.loads(stack_file.read_text(encoding="utf-8"))
    for type_, items in cache[stack_file].get("resource", {}).items():
        if name in items:
            return str(type_)
    return "resource"


def failures(report: Any) -> list[Failure]:
    """The failed checks of a checkov JSON report (one report or a list of them)."""
    found: list[Failure] = []
    cache: dict[Path, dict[str, Any]] = {}
    for part in report if isinstance(report, list) else [report]:
        for item in part.get("results", {}).get("failed_checks", []):
            path = Path(item["file_abs_path"])
            app, stack = path.parents[3].name, path.parent.name  # <app>/cdktf.out/stacks/<stack>/cdk.tf.json
            type_, _, name = str(item["resource"]).rpartition(".")
            if type_ == "resource":
                type_ = _type_of(path, name, cache)
            found.append(Failure(item["check_id"], f"{app}/{stack}/{type_}.{name}", item["check_name"]))
    return found


def unparsed(report: Any) -> list[str]:
    """The files checkov could not parse: nothing of them was checked, so the rung cannot pass."""
    found: list[str] = []
    for part in report if isinstance(report, list) else [report]:
        files = [str(f) for f in part.get("results", {}).get("parsing_errors", [])]
        count = int(part.get("summary", {}).get("parsing_errors", 0))
        found += files or [f"{count} file(s) of the {part.get('check_type', 'checkov')} report"] * bool(count)
    return found


def readable_by_checkov(stack_file: Path, out: Path) -> Path:
    """``stack_file`` as checkov can read it: a copy without the ``moved`` blocks and without
    ``terraform.required_version``, under ``out`` at the same
    ``<app>/<environment>/stacks/<stack>/cdk.tf.json`` (the stack file itself when it has neither).

    checkov 3.3's terraform_json parser takes every top-level block type, and every entry of the
    ``terraform`` block, for a map of named blocks: it fails on the ``moved`` list and on the
    ``required_version`` string, and then checks nothing of the stack. Neither carries a resource,
    so every check still sees every resource.
    """
    stack = json.loads(stack_file.read_text(encoding="utf-8"))
    terraform = stack.get("terraform", {})
    if "moved" not in stack and "required_version" not in terraform:
        return stack_file
    readable = {k: v for k, v in stack.items() if k != "moved"}
    if "required_version" in terraform:
        readable["terraform"] = {k: v for k, v in terraform.items() if k != "required_version"}
    copy = out.joinpath(*stack_file.parts[-5:])
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(json.dumps(readable), encoding="utf-8")
    return copy


def load_acceptances(path: Path) -> list[Acceptance]:
    """The entries of the acceptance file; raises ``ValueError`` naming a malformed entry."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    found = []
    for index, entry in enumerate(data.get("accept", [])):
        where = f"{path.name}: accept[{index}]"
        if not str(entry.get("check", "")).startswith(("CKV_", "CKV2_")):
            raise ValueError(f"{where}: check must be a checkov id such as CKV_AWS_116, got {entry.get('check')!r}")
        if len(str(entry.get("reason", "")).strip()) < MIN_REASON:
            raise ValueError(f"{where} ({entry['check']}): reason must be at least {MIN_REASON} characters")
        resources = entry.get("resources")
        if not resources or any(str(r).count("/") != 2 for r in resources):
            raise ValueError(
                f"{where} ({entry['check']}): resources must be <app>/<stack>/<type>.<name>, got {resources}"
            )
        found.append(
            Acceptance(entry["check"], entry["reason"].strip(), tuple(resources), tuple(entry.get("environments", ())))
        )
    return found


def verdict(
    found: Iterable[Failure], accepted: Sequence[Acceptance], environment: str, scanned: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """(unaccepted failures, stale acceptances) as readable lines.

    ``scanned``: the ``<app>/<stack>`` pairs checkov read; an acceptance for a stack that was not
    scanned is neither used nor stale. Default: every stack.
    """
    active = [a for a in accepted if not a.environments or environment in a.environments]

    def was_scanned(pattern: str) -> bool:
        return not scanned or any(fnmatch.fnmatchcase(s, pattern.rsplit("/", 1)[0]) for s in scanned)

    used: set[tuple[str, str]] = set()
    unaccepted = []
    for failure in found:
        matches = [
            (a.check, pattern)
            for a in active
            if a.check == failure.check
            for pattern in a.resources
            if fnmatch.fnmatchcase(failure.address, pattern)
        ]
        if matches:
            used.update(matches)
        else:
            unaccepted.append(f"{failure.check} {failure.address}: {failure.name}")
    stale = [
        f"{a.check} {pattern}: accepted, but no such failure any more (remove it)"
        for a in active
        for pattern in a.resources
        if (a.check, pattern) not in used and was_scanned(pattern)
    ]
    return unaccepted, stale


def prepare(argv: Sequence[str]) -> int:
    """``--prepare OUT STACK_FILE...``: print, one a line, the file checkov reads for each stack."""
    if len(argv) < 2:
        print("error: --prepare needs an output folder and at least one stack file", file=sys.stderr)
        return 2
    out = Path(argv[0])
    for stack_file in argv[1:]:
        print(readable_by_checkov(Path(stack_file), out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--prepare"]:
        return prepare(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m platform_tooling.testing.scan", description=__doc__.splitlines()[0]
    )
    parser.add_argument("report", type=Path, help="checkov's JSON report")
    parser.add_argument("--accepted", type=Path, default=Path("checkov-accepted.toml"))
    parser.add_argument("--environment", default="dev", help="the environment the scanned stacks were synthesized for")
    parser.add_argument("--scanned", action="append", default=[], help="an <app>/<stack> checkov read (repeatable)")
    args = parser.parse_args(argv)
    try:
        accepted = load_acceptances(args.accepted)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = json.loads(args.report.read_text(encoding="utf-8"))
    found = failures(report)
    unaccepted, stale = verdict(found, accepted, args.environment, args.scanned)
    broken = unparsed(report)
    for line in broken:
        print(f"UNPARSED {line}: checkov checked nothing of it", file=sys.stderr)
    for line in unaccepted:
        print(f"FAILED   {line}", file=sys.stderr)
    for line in stale:
        print(f"STALE    {line}", file=sys.stderr)
    print(
        f"{len(found)} failed checks, {len(found) - len(unaccepted)} accepted by address, "
        f"{len(unaccepted)} not accepted, {len(stale)} stale acceptances"
    )
    return 1 if unaccepted or stale or broken else 0


if __name__ == "__main__":
    sys.exit(main())
