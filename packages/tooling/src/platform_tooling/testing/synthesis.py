"""Synthesize app packages once per test session (the provider import is paid once per process).

A package synthesized for one of its environments without overrides goes through the synthesis
cache (:mod:`platform_tooling.cache`): the test session reuses what ``nox -s synth`` wrote when
the inputs are unchanged, and what it synthesizes itself is there for ``validate``, ``scan`` and
the emulator afterwards. Variants with overrides are synthesized into a temporary folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from shared_constructs.policy import BASELINE, check
from shared_constructs.settings import load_settings

from platform_tooling import bindings
from platform_tooling.synth import AppPackage, SynthResult, policy_context, read_stacks, repo_root, synth_package
from platform_tooling.synth import synthesized as cached_output

_CACHE: dict[str, SynthResult] = {}


@functools.cache
def _temporary() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="platform-synth-")  # removed when the process exits


def workdir() -> Path:
    """This process's temporary folder (variants synthesized with overrides, :func:`scratch_app`
    output), made on first use and removed when the process exits."""
    return Path(_temporary().name)


def scratch_app(**options: Any) -> Any:
    """cdktf's ``Testing.app`` writing under :func:`workdir`: without an ``outdir`` it makes a
    new ``cdktf.outdir.*`` temporary folder per app and never removes it."""
    from cdktf import Testing

    return Testing.app(outdir=str(workdir() / "testing-app"), **options)


def package_for(name: str) -> AppPackage:
    """The app package ``name`` (``packages/<name>``), or the reference example (``reference``)."""
    root = repo_root(Path(__file__))
    directory = root / "packages" / name
    if name == "reference":
        directory = root / "packages" / "shared-constructs" / "examples" / "reference"
    if not (directory / "cdktf.json").is_file():
        raise FileNotFoundError(f"no app package at {directory}")
    return AppPackage(name, directory)


def _from_cache(package: AppPackage, environment: str) -> SynthResult:
    """The cached synthesis of ``package`` (synthesized now if its inputs changed), as a result.

    The policy rules run again over the cached JSON (milliseconds), so the report is as fresh
    as the stacks it judges.
    """
    folder, _ = cached_output(package, environment=environment)
    bindings.load()
    settings = load_settings(package.module().Settings, package.config_file(environment), {})
    stacks = read_stacks(folder)
    report = check(stacks, policy_context(settings), BASELINE)
    return SynthResult(package, settings, folder, stacks, report)


def synthesize(name: str, *, environment: str = "dev", overrides: dict[str, Any] | None = None) -> SynthResult:
    """Synthesize package ``name``, once per session and inputs.

    The package's own ``cdktf.out`` is not touched. Raises what synthesis raises.
    """
    key_src = json.dumps({"n": name, "e": environment, "o": overrides or {}}, sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    if key not in _CACHE:
        package = package_for(name)
        if overrides:
            outdir = workdir() / f"{name}-{key}"
            _CACHE[key] = synth_package(package, environment=environment, overrides=overrides, outdir=outdir)
        else:
            _CACHE[key] = _from_cache(package, environment)
    return _CACHE[key]
