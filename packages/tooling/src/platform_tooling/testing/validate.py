"""``terraform validate`` over many stacks in one Terraform process.

Every Terraform process loads the AWS provider's whole schema before it does anything else
(4-6 s of CPU), so validating the platform's 28 stacks one by one spent most of its ~150 s of
CPU loading the same schema 28 times. Here the stacks that share provider requirements become
the modules of one root configuration (``<workdir>/main.tf.json``, each module's source the
stack's own folder, by relative path, so nothing is copied and nothing goes stale): one
``terraform init -backend=false`` and one ``terraform validate -json`` check them all (measured
on the same 28 stacks: 54 s of CPU).

A module is validated as its root would be, with two differences. Its backend block is ignored
(Terraform's warning, dropped here; backends are exercised by the emulator rung and by deploys).
A variable without a default is given a placeholder of its type. A stack with a block only a
root module may hold (``import``) is refused with that reason instead of being validated here.
Each error is charged to the stack whose file or module it names; an error that names none fails
every stack of the group.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from platform_tooling.deploy.terraform import Terraform

ROOT_ONLY = ("import",)
"""Top-level blocks Terraform allows in a root module only."""
_MODULE = re.compile(r"module\.(stack_\d+)\b")
_PLACEHOLDERS: dict[str, Any] = {"string": "validate", "number": 0, "bool": False}


def _placeholder(spec: Mapping[str, Any]) -> Any:
    kind = str(spec.get("type", "string")).removeprefix("${").removesuffix("}")
    if kind.startswith(("list", "set", "tuple")):
        return []
    if kind.startswith(("map", "object")):
        return {}
    return _PLACEHOLDERS.get(kind, "validate")


def root_document(workdir: Path, stacks: Mapping[str, Path], providers: Mapping[str, Any]) -> dict[str, Any]:
    """The root configuration: one module per stack (source: the stack's folder, relative to
    ``workdir``), each variable without a default given a placeholder of its type."""
    modules: dict[str, dict[str, Any]] = {}
    for name, folder in stacks.items():
        document = json.loads((folder / "cdk.tf.json").read_text(encoding="utf-8"))
        source = Path(os.path.relpath(folder.resolve(), workdir.resolve())).as_posix()
        block: dict[str, Any] = {"source": source if source.startswith("../") else f"./{source}"}
        for variable, spec in document.get("variable", {}).items():
            if "default" not in spec:
                block[variable] = _placeholder(spec)
        modules[name] = block
    return {"terraform": {"required_providers": dict(providers)}, "module": modules}


def _describe(diagnostic: Mapping[str, Any]) -> str:
    where = (diagnostic.get("range") or {}).get("filename", "")
    text = f"{diagnostic.get('severity')}: {diagnostic.get('summary')}: {diagnostic.get('detail', '')}"
    return f"{text} ({where})" if where else text


def _charged(diagnostic: Mapping[str, Any], workdir: Path, stacks: Mapping[str, Path]) -> list[str]:
    """The stacks an error belongs to: the one whose file it points at, or whose module it names;
    every stack when it names none."""
    where = (diagnostic.get("range") or {}).get("filename")
    if where:
        folder = (workdir / where).resolve().parent
        found = [name for name, stack in stacks.items() if stack.resolve() == folder]
        if found:
            return found
    text = " ".join(str(diagnostic.get(k, "")) for k in ("summary", "detail", "address"))
    named = sorted({m for m in _MODULE.findall(text) if m in stacks})
    return named or list(stacks)


def validate_together(folders: Sequence[Path], workdir: Path, env: Mapping[str, str]) -> dict[Path, str | None]:
    """Validate ``folders`` (stacks with the same provider requirements) in one root module in
    ``workdir``; per folder, ``None`` when valid, else its errors, one line each."""
    results: dict[Path, str | None] = {}
    stacks: dict[str, Path] = {}
    providers: dict[str, Any] = {}
    for index, folder in enumerate(folders):
        document = json.loads((folder / "cdk.tf.json").read_text(encoding="utf-8"))
        blocks = [block for block in ROOT_ONLY if block in document]
        if blocks:
            results[folder] = (
                f"error: {', '.join(blocks)} blocks are allowed in a root module only; validate cannot check this stack"
            )
            continue
        stacks[f"stack_{index}"] = folder
        providers = document.get("terraform", {}).get("required_providers", providers)
    if not stacks:
        return results
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf.json").write_text(json.dumps(root_document(workdir, stacks, providers), indent=1))
    terraform = Terraform(workdir, dict(env), timeout_s=900)
    terraform.init(backend=False)
    done = terraform.run("validate", "-json", "-no-color", ok_codes=(0, 1))
    errors: dict[str, list[str]] = {name: [] for name in stacks}
    for diagnostic in json.loads(done.stdout).get("diagnostics", []):
        if diagnostic.get("severity") != "error":
            continue
        for name in _charged(diagnostic, workdir, stacks):
            errors[name].append(_describe(diagnostic))
    for name, folder in stacks.items():
        results[folder] = "\n".join(errors[name]) or None
    return results
