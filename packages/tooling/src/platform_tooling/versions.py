"""Each app states the shared-constructs releases it supports; synthesis refuses any other.

An app's ``pyproject.toml`` carries ``[tool.platform] shared-constructs = "<range>"`` (a PEP 440
specifier set). The library's version is read from the ``pyproject.toml`` of the
``shared_constructs`` actually imported (its source tree, so a base checkout synthesized by
``nox -s affected`` is judged by its own library), or from the installed distribution.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from shared_constructs.settings import SettingsError

LIBRARY = "shared-constructs"


def library_version() -> str:
    """The version of the shared-constructs that this process imports."""
    import shared_constructs

    project = Path(shared_constructs.__file__).resolve().parents[2] / "pyproject.toml"
    if project.is_file():
        data = tomllib.loads(project.read_text(encoding="utf-8")).get("project", {})
        if data.get("name") == LIBRARY:
            return str(data["version"])
    return importlib.metadata.version(LIBRARY)


def supported_range(package_dir: Path) -> SpecifierSet | None:
    """The range ``package_dir/pyproject.toml`` states; ``None`` when there is no such file (an
    example inside the library). Raises :class:`SettingsError` when the file states none."""
    project = package_dir / "pyproject.toml"
    if not project.is_file():
        return None
    stated = tomllib.loads(project.read_text(encoding="utf-8")).get("tool", {}).get("platform", {}).get(LIBRARY)
    where = f"{project}: [tool.platform] {LIBRARY}"
    if not isinstance(stated, str):
        raise SettingsError([f"{where}: missing; expected the range of {LIBRARY} versions the app supports"])
    try:
        return SpecifierSet(stated)
    except InvalidSpecifier:
        raise SettingsError([f"{where}: {stated!r} is not a version range (e.g. '>=0.1,<0.2')"]) from None


def check_library(name: str, package_dir: Path, version: str | None = None) -> None:
    """Raise :class:`SettingsError` when the library (``version``, default the imported one) is
    outside the range app ``name`` supports."""
    supported = supported_range(package_dir)
    if supported is None:
        return
    found = version or library_version()
    if not supported.contains(found, prereleases=True):
        raise SettingsError(
            [
                f"{name} supports {LIBRARY} {supported}, and {LIBRARY} {found} is installed: "
                f"update the range in packages/{name}/pyproject.toml once the app passes with it, or install a supported release"
            ]
        )
