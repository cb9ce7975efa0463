"""Rungs of the verification ladder that run outside pytest: ``validate`` and ``scan``.

``python -m platform_tooling.testing.ladder validate [PACKAGE ...]``: synthesize (one process),
then ``terraform init -backend=false`` and ``terraform validate`` in every stack.
``python -m platform_tooling.testing.ladder stacks [PACKAGE ...]``: print the stack folders
(after synthesizing), for tools such as checkov that run in their own environment.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared_constructs.settings import SettingsError

from platform_tooling.synth import discover, repo_root, synth_package
from platform_tooling.testing.synthesis import package_for
from platform_tooling.testing.terraform import Terraform, TerraformError, base_env

EXAMPLE = "reference"


def stack_dirs(names: Sequence[str]) -> list[Path]:
    """Synthesize the selected packages (all, plus the reference example, when none) into their
    ``cdktf.out`` and return every stack folder."""
    root = repo_root()
    wanted = [n for n in names if n not in ("shared-constructs", "tooling")]
    packages = discover(root, wanted) if wanted or not names else []
    if not names or "shared-constructs" in names:
        packages.append(package_for(EXAMPLE))
    folders: list[Path] = []
    for package in packages:
        result = synth_package(package, environ=os.environ)
        folders.extend(sorted(p for p in (result.outdir / "stacks").iterdir() if p.is_dir()))
    return folders


def _validate(folder: Path) -> tuple[Path, str | None, float]:
    started = time.monotonic()
    tf = Terraform(folder, base_env(), timeout_s=600)
    try:
        tf.init(backend=False)
        tf.validate()
    except TerraformError as exc:
        return folder, str(exc), time.monotonic() - started
    return folder, None, time.monotonic() - started


def validate(names: Sequence[str]) -> int:
    folders = stack_dirs(names)
    failures = 0
    with ThreadPoolExecutor(max_workers=3) as pool:
        for folder, error, seconds in pool.map(_validate, folders):
            label = f"{folder.parents[2].name}/{folder.name}"
            if error:
                failures += 1
                print(f"FAIL {label} ({seconds:.1f} s)\n{error}", file=sys.stderr)
            else:
                print(f"ok   {label} ({seconds:.1f} s)")
    print(f"{len(folders) - failures} valid, {failures} invalid")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.testing.ladder")
    parser.add_argument("rung", choices=["validate", "stacks"])
    parser.add_argument("packages", nargs="*")
    args = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    try:
        if args.rung == "validate":
            return validate(args.packages)
        for folder in stack_dirs(args.packages):
            print(folder)
        return 0
    except SettingsError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
