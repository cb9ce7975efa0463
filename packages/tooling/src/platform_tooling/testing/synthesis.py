"""Synthesize app packages once per test session (the provider import is paid once per process)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from platform_tooling.synth import AppPackage, SynthResult, repo_root, synth_package

_CACHE: dict[str, SynthResult] = {}
_WORKDIR = Path(tempfile.mkdtemp(prefix="platform-synth-"))


def package_for(name: str) -> AppPackage:
    """The app package ``name`` (``packages/<name>``), or the reference example (``reference``)."""
    root = repo_root(Path(__file__))
    directory = root / "packages" / name
    if name == "reference":
        directory = root / "packages" / "shared-constructs" / "examples" / "reference"
    if not (directory / "cdktf.json").is_file():
        raise FileNotFoundError(f"no app package at {directory}")
    return AppPackage(name, directory)


def synthesize(name: str, *, environment: str = "dev", overrides: dict[str, Any] | None = None) -> SynthResult:
    """Synthesize package ``name`` into a temporary folder, cached by its inputs for the session.

    The package's own ``cdktf.out`` is not touched. Raises what synthesis raises.
    """
    key_src = json.dumps({"n": name, "e": environment, "o": overrides or {}}, sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    if key not in _CACHE:
        outdir = _WORKDIR / f"{name}-{key}"
        _CACHE[key] = synth_package(package_for(name), environment=environment, overrides=overrides, outdir=outdir)
    return _CACHE[key]
