"""Load Lambda handler modules from their folders, for in-process tests under moto."""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any


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


LOCAL_ONLY_METHODS = frozenset({"generate_db_auth_token", "generate_presigned_post", "generate_presigned_url"})
"""Client methods that sign locally and call no AWS API (an RDS IAM token, a presigned URL)."""
_FACTORIES = ("client", "resource")


def _service_arg(call: ast.Call, index: int = 0) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == "service_name"), None)


def _creates_client(call: ast.Call) -> bool:
    """``boto3.client(...)``, ``session.client(...)``, ``boto3.resource(...)``."""
    return isinstance(call.func, ast.Attribute) and call.func.attr in _FACTORIES


def _helpers(tree: ast.Module) -> dict[str, int]:
    """Local functions that create a client for the service named by one of their parameters:
    function name -> index of that parameter."""
    found: dict[str, int] = {}
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        params = [a.arg for a in function.args.args]
        for call in [n for n in ast.walk(function) if isinstance(n, ast.Call) and _creates_client(n)]:
            arg = _service_arg(call)
            if isinstance(arg, ast.Name) and arg.id in params:
                found[function.name] = params.index(arg.id)
    return found


def _networked(node: ast.Call, parents: dict[ast.AST, ast.AST], tree: ast.Module) -> bool:
    """False when the client made by ``node`` is only used for :data:`LOCAL_ONLY_METHODS`."""
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute):
        return parent.attr not in LOCAL_ONLY_METHODS
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        name = parent.targets[0].id
        uses = [
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name
        ]
        return not uses or any(u not in LOCAL_ONLY_METHODS for u in uses)
    return True


def boto3_clients(folder: Path) -> list[str]:
    """The AWS services (boto3 client names) the handler source in ``folder`` calls over the network.

    Found in the syntax tree: ``boto3.client("x")``, ``session.client("x")``, ``boto3.resource("x")``
    and calls of a local helper that passes its parameter to one of those (``_client("s3", region)``).
    Clients used only to sign locally (:data:`LOCAL_ONLY_METHODS`) call no API and are left out.
    """
    services: set[str] = set()
    files = sorted(folder.glob("*.py"))
    if not files:
        raise FileNotFoundError(f"no Python source in {folder}")
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        helpers = _helpers(tree)
        for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call)]:
            if _creates_client(call):
                arg = _service_arg(call)
            elif isinstance(call.func, ast.Name) and call.func.id in helpers:
                arg = _service_arg(call, helpers[call.func.id])
            else:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _networked(call, parents, tree):
                services.add(arg.value)
    return sorted(services)


def declared_services_mismatches(functions: Iterable[Mapping[str, Any]], handlers: Mapping[str, Path]) -> list[str]:
    """What is wrong between synthesized ``aws_lambda_function`` blocks and their handlers.

    ``handlers``: function name -> its handler folder. Every function must be listed and every
    listed function synthesized; each function's declared services (``FunctionProps.services``,
    kept in the block's ``//`` metadata) must be the boto3 clients its handler creates. An empty
    list means all hold.
    """
    found = {f["function_name"]: f for f in functions}
    problems = [f"{name}: synthesized but not listed" for name in sorted(set(found) - set(handlers))]
    problems += [f"{name}: listed but not synthesized" for name in sorted(set(handlers) - set(found))]
    for name in sorted(set(found) & set(handlers)):
        declared, derived = found[name]["//"]["services"], boto3_clients(handlers[name])
        if declared != derived:
            problems.append(f"{name}: declares {declared}, its handler creates clients for {derived}")
    return problems
