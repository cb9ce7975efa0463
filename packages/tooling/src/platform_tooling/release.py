"""``nox -s release -- PACKAGE [--increment PATCH|MINOR|MAJOR] [--dry-run]``: release one package.

commitizen, configured in each package's ``pyproject.toml`` (``[tool.commitizen]``), bumps the
package's version and writes its ``CHANGELOG.md`` from the commits scoped to it since its last
tag (``feat(PACKAGE): ...``, ``fix(PACKAGE): ...``; other packages' commits and tags are
ignored), commits both and tags ``PACKAGE-v<version>``. Before running it, the package's
configuration is checked to be scoped to the package, so that one package's release never
picks up another's commits or tags.

Exit status: 0 released; commitizen's non-zero code (3 or 21) when no commit scoped to the package
asks for a release; 2 bad input.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from platform_tooling.synth import repo_root


def problems(name: str, config: Mapping[str, Any]) -> list[str]:
    """Why the ``[tool.commitizen]`` table ``config`` of package ``name`` is not scoped to it."""
    where = f"packages/{name}/pyproject.toml: [tool.commitizen]"
    if not config:
        return [f"{where}: missing"]
    found = []
    expected = {"tag_format": f"{name}-v$version", "version_provider": "pep621", "name": "cz_customize"}
    found += [f"{where}.{k}: {config.get(k)!r}, expected {v!r}" for k, v in expected.items() if config.get(k) != v]
    customize = config.get("customize", {})
    scope = f"\\({name}\\)"
    for key in ("bump_pattern", "commit_parser", "changelog_pattern"):
        if scope not in str(customize.get(key, "")):
            found.append(f"{where}.customize.{key}: does not require the scope ({name})")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.release", description=__doc__.splitlines()[0])
    parser.add_argument("package", help="package folder name under packages/")
    parser.add_argument("--increment", choices=["PATCH", "MINOR", "MAJOR"], help="instead of the commits' verdict")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    args = parser.parse_args(argv)
    directory = repo_root() / "packages" / args.package
    project = directory / "pyproject.toml"
    if not project.is_file():
        print(f"error: {project}: no such package", file=sys.stderr)
        return 2
    config = tomllib.loads(project.read_text(encoding="utf-8")).get("tool", {}).get("commitizen", {})
    found = problems(args.package, config)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if found:
        return 2
    command = [sys.executable, "-m", "commitizen", "bump", "--yes"]
    command += ["--increment", args.increment] if args.increment else []
    command += ["--dry-run"] if args.dry_run else []
    # commitizen reads the configuration of the folder it runs in: the package's own.
    return subprocess.run(command, cwd=directory, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
