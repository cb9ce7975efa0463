"""Rungs of the verification ladder that run outside pytest: ``validate`` and ``scan``.

Both cover every environment of every selected app (each ``config/*.toml``), and both take the
synthesized output from the synthesis cache (:mod:`platform_tooling.cache`): what ``synth`` or
the test session wrote is reused while its inputs are unchanged, and only what is missing or
stale is synthesized, all in this one process.

``python -m platform_tooling.testing.ladder validate [PACKAGE ...]``: ``terraform validate`` in
every stack, in parallel, after one ``terraform init -backend=false`` per set of provider
requirements (all stacks share one today).
``python -m platform_tooling.testing.ladder stacks [PACKAGE ...]``: print the stack folders,
for tools such as checkov that run in their own environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from platform_tooling.cache import environments
from platform_tooling.deploy.terraform import Terraform, TerraformError, base_env, tool_dir
from platform_tooling.synth import discover, repo_root, reported, synthesized
from platform_tooling.testing.synthesis import package_for

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


class _Providers:
    """One provider installation (``terraform init -backend=false``) per set of provider
    requirements, shared by every stack with that set through ``TF_DATA_DIR``: every stack of
    the platform requires the same pinned provider, so one init serves them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, tuple[threading.Lock, list[bytes]]] = {}

    def env(self, folder: Path) -> dict[str, str]:
        """Terraform's environment for ``folder``, its providers installed (once per set)."""
        stack = json.loads((folder / "cdk.tf.json").read_text())
        wanted = json.dumps(stack.get("terraform", {}).get("required_providers", {}), sort_keys=True)
        key = hashlib.sha256(wanted.encode()).hexdigest()[:12]
        env = base_env({"TF_DATA_DIR": str(tool_dir() / "validate" / key)})
        with self._lock:
            group = self._groups.setdefault(key, (threading.Lock(), []))
        with group[0]:
            if not group[1]:
                Terraform(folder, env, timeout_s=600).init(backend=False)
                group[1].append((folder / LOCK_FILE).read_bytes())
            else:
                (folder / LOCK_FILE).write_bytes(group[1][0])
        return env


LOCK_FILE = ".terraform.lock.hcl"


def _validate(folder: Path, terraform_version: str, providers: _Providers) -> tuple[Path, str | None, float]:
    """Validate one stack, unless the same configuration already passed with the same Terraform
    (the cache keeps stack folders between runs: that answer is already known)."""
    started = time.monotonic()
    marker = folder / VALIDATED
    fingerprint = _fingerprint(folder, terraform_version)
    if marker.is_file() and marker.read_text() == fingerprint:
        return folder, None, 0.0
    try:
        Terraform(folder, providers.env(folder), timeout_s=600).validate()
    except TerraformError as exc:
        return folder, str(exc), time.monotonic() - started
    marker.write_text(fingerprint)
    return folder, None, time.monotonic() - started


def workers() -> int:
    """Terraform processes to run side by side: validate is CPU-bound (schema loading)."""
    return max(2, (os.cpu_count() or 2) + 1)


def validate(names: Sequence[str]) -> int:
    folders = stack_dirs(names)
    version = Terraform(Path.cwd(), base_env()).run("version", "-json").stdout
    providers = _Providers()
    failures = 0
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        for folder, error, seconds in pool.map(lambda f: _validate(f, version, providers), folders):
            label = f"{folder.parents[2].name}/{folder.parents[1].name}/{folder.name}"
            if error:
                failures += 1
                print(f"FAIL {label} ({seconds:.1f} s)\n{error}", file=sys.stderr)
            else:
                print(f"ok   {label} ({f'{seconds:.1f} s' if seconds else 'validated before'})")
    print(f"{len(folders) - failures} valid, {failures} invalid")
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
