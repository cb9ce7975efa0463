"""Rungs of the verification ladder that run outside pytest: ``validate`` and ``scan``.

Both cover every environment of every selected app (each ``config/*.toml``), and both take the
synthesized output from the synthesis cache (:mod:`platform_tooling.cache`): what ``synth`` or
the test session wrote is reused while its inputs are unchanged, and only what is missing or
stale is synthesized, all in this one process.

``python -m platform_tooling.testing.ladder validate [PACKAGE ...]``: ``terraform validate`` of
every stack, the stacks as modules of one root configuration per set of provider requirements
(all stacks share one today): one ``terraform init -backend=false`` and one ``terraform
validate`` for all (:mod:`.validate`).
``python -m platform_tooling.testing.ladder stacks [PACKAGE ...]``: print the stack folders,
for tools such as checkov that run in their own environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from platform_tooling.cache import environments
from platform_tooling.deploy.terraform import Terraform, base_env, tool_dir
from platform_tooling.synth import discover, repo_root, reported, synthesized
from platform_tooling.testing.synthesis import package_for
from platform_tooling.testing.validate import validate_together

EXAMPLE = "reference"


def stack_dirs(names: Sequence[str]) -> list[Path]:
    """Every stack folder of every environment of the selected packages (all, plus the reference
    example, when none are named), synthesized now only where the cache has nothing current."""
    root = repo_root()
    wanted = [n for n in names if n not in ("shared-constructs", "tooling")]
    packages = discover(root, wanted) if wanted or not names else []
    if not names or "shared-constructs" in names:
        packages.append(package_for(EXAMPLE))
    folders: list[Path] = []
    for package in packages:
        for environment in environments(package.directory):
            folder, _ = synthesized(package, environment=environment, environ=os.environ)
            folders.extend(sorted(p for p in (folder / "stacks").iterdir() if p.is_dir()))
    return folders


VALIDATED = ".validated"
"""Marker in a stack folder: this configuration passed ``terraform validate`` with this Terraform."""


def _fingerprint(folder: Path, terraform_version: str) -> str:
    digest = hashlib.sha256(terraform_version.encode())
    digest.update((folder / "cdk.tf.json").read_bytes())
    return digest.hexdigest()


def _passed_before(folder: Path, terraform_version: str) -> bool:
    """The same configuration already passed with the same Terraform (the cache keeps stack
    folders between runs: that answer is already known)."""
    marker = folder / VALIDATED
    return marker.is_file() and marker.read_text() == _fingerprint(folder, terraform_version)


def _requirements(folder: Path) -> str:
    stack = json.loads((folder / "cdk.tf.json").read_text())
    wanted = json.dumps(stack.get("terraform", {}).get("required_providers", {}), sort_keys=True)
    return hashlib.sha256(wanted.encode()).hexdigest()[:12]


def validate(names: Sequence[str]) -> int:
    """Validate every stack not validated before, one Terraform process per set of provider
    requirements (:mod:`.validate`; all stacks share one set today)."""
    folders = stack_dirs(names)
    version = Terraform(Path.cwd(), base_env()).run("version", "-json").stdout
    groups: dict[str, list[Path]] = {}
    for folder in folders:
        if not _passed_before(folder, version):
            groups.setdefault(_requirements(folder), []).append(folder)
    started = time.monotonic()
    results: dict[Path, str | None] = {}
    for key, members in groups.items():
        results |= validate_together(members, tool_dir() / "validate" / key, base_env())
    seconds = time.monotonic() - started
    for folder in folders:
        label = f"{folder.parents[2].name}/{folder.parents[1].name}/{folder.name}"
        if folder not in results:
            print(f"ok   {label} (validated before)")
        elif results[folder]:
            print(f"FAIL {label}\n{results[folder]}", file=sys.stderr)
        else:
            (folder / VALIDATED).write_text(_fingerprint(folder, version))
            print(f"ok   {label}")
    failures = sum(1 for error in results.values() if error)
    print(f"{len(folders) - failures} valid, {failures} invalid ({len(results)} validated in {seconds:.1f} s)")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.testing.ladder")
    parser.add_argument("rung", choices=["validate", "stacks"])
    parser.add_argument("packages", nargs="*")
    args = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

    def command() -> int:
        if args.rung == "validate":
            return validate(args.packages)
        for folder in stack_dirs(args.packages):
            print(folder)
        return 0

    return reported(command)


if __name__ == "__main__":
    sys.exit(main())
