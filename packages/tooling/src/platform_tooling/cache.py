"""Synthesized output kept between processes, keyed by a digest of everything synthesis reads.

One ladder run synthesizes each app and environment once: whichever process synthesizes first
(``nox -s synth``, the test session) writes the output under
``<repository>/.platform/synth/<package>/<environment>/`` (git-ignored), with the digest of its
inputs in ``inputs.json``; ``validate``, ``scan`` and the emulator use that output as long as the
digest still matches, without importing the provider bindings. The digest covers:

- the app package's files (sources, ``config/``, ``lambdas/``, ``cdktf.json``, ``pyproject.toml``;
  not its tests, documents or generated folders);
- shared-constructs' sources and project file;
- the tooling's top-level modules (synthesis, targets; ``testing/`` takes no part in synthesis);
- ``poetry.lock`` (every library version);
- the environment name and the settings overrides taken from the process environment
  (``ENVIRONMENT_SUFFIX``, ``STATE_*``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STAMP = "inputs.json"
_SKIPPED_DIRS = frozenset({"__pycache__", "tests", "cdktf.out", ".build", "cfn-outputs", ".terraform", "__snapshots__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".md")


CACHE_VARIABLE = "PLATFORM_SYNTH_CACHE"


def cache_root(root: Path) -> Path:
    """Where synthesized output is kept: ``<repository>/.platform/synth``, or ``$PLATFORM_SYNTH_CACHE``
    (the benchmark points it at an empty folder to measure synthesis from cold)."""
    chosen = os.environ.get(CACHE_VARIABLE)
    return Path(chosen) if chosen else root / ".platform" / "synth"


def entry(root: Path, package: str, environment: str) -> Path:
    """The output folder of ``package`` synthesized for ``environment``."""
    return cache_root(root) / package / environment


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Hold the lock of the cache entry ``folder`` (a file beside it) while it is looked up and
    written: processes running side by side (test workers, sessions) synthesize an entry once,
    the others wait and then find it written, and none swaps a half-written tree in."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _files(folder: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(_SKIPPED_SUFFIXES) and not name.startswith("."):
                yield Path(current) / name


def inputs_digest(root: Path, directory: Path, environment: str, overrides: Mapping[str, Any]) -> str:
    """The digest of what synthesizing the app in ``directory`` for ``environment`` reads."""
    library = root / "packages" / "shared-constructs"
    tooling = root / "packages" / "tooling" / "src" / "platform_tooling"
    paths = [
        *_files(directory),
        *_files(library / "src"),
        library / "pyproject.toml",
        *sorted(tooling.glob("*.py")),
        root / "poetry.lock",
    ]
    digest = hashlib.sha256()
    digest.update(json.dumps({"environment": environment, "overrides": overrides}, sort_keys=True).encode())
    for path in dict.fromkeys(paths):  # an example app lives inside the library: count it once
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
        digest.update(b"\0")
    return digest.hexdigest()


def stamp(package: str, environment: str, digest: str) -> dict[str, str]:
    """The content of ``inputs.json`` for an output synthesized from inputs with ``digest``."""
    return {"package": package, "environment": environment, "digest": digest}


def lookup(folder: Path, digest: str) -> Path | None:
    """``folder`` when it holds output synthesized from inputs with ``digest``, else ``None``."""
    try:
        found = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return folder if isinstance(found, dict) and found.get("digest") == digest else None


def environments(directory: Path) -> list[str]:
    """Every environment an app defines: the names of its ``config/*.toml`` files."""
    return sorted(p.stem for p in (directory / "config").glob("*.toml"))
