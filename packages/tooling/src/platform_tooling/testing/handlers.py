"""Load Lambda handler modules from their folders, for in-process tests under moto."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_handler(folder: Path, module: str = "handler") -> ModuleType:
    """Import ``folder/<module>.py`` under a unique name, with ``folder`` importable for siblings.

    Each call returns a fresh module, so module-level clients are created inside the test's
    ``mock_aws`` context.
    """
    path = folder / f"{module}.py"
    if not path.is_file():
        raise FileNotFoundError(path)
    unique = f"_handler_{folder.parent.parent.name}_{folder.name}_{module}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(unique, path, submodule_search_locations=None)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(loaded)
    finally:
        sys.path.remove(str(folder))
    return loaded
