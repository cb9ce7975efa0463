"""A package's synthesized stacks made ready for Terraform on one target: AWS or the emulator.

AWS: the stacks as synthesized, published to the package's ``cdktf.out`` (where the CDKTF CLI
would run them too, so the local backend's relative state paths land under ``.state/``).
Emulator: a copy in a throwaway folder with the emulator's target profile applied
(:data:`~platform_tooling.testing.emulator_tables.EMULATOR`) and an override file per stack with
what only the emulator needs: provider settings, and the backend and every remote-state read
moved to a throwaway state folder, never the real backend.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from platform_tooling.synth import AppPackage, publish, read_stacks, synthesized
from platform_tooling.targets import apply_target

OVERRIDE = "emulator_override.tf.json"


def _tail(path: str) -> str:
    """``<package>/<suffix>/<stack>.tfstate`` of a state path or key."""
    return "/".join(PurePosixPath(path).parts[-3:])


def emulator_variable_value(name: str) -> str:
    """What the emulator target sets for a stack variable that has no default (on AWS the operator
    sets ``TF_VAR_<name>``, for example an external id from its secret). moto checks no external id
    and holds no secret, so a fixed, visible value stands in."""
    return f"emulator-{name}"


def emulator_override(stack: Mapping[str, Any], state_root: Path) -> dict[str, Any]:
    """What only the emulator needs, merged by Terraform from ``emulator_override.tf.json``:
    provider settings that spare the emulator's endpoint checks and fail fast on a missing API,
    the backend and remote-state reads moved to the throwaway state folder, and a value for each
    variable without a default (:func:`emulator_variable_value`)."""
    common = {"skip_credentials_validation": True, "skip_metadata_api_check": "true", "s3_use_path_style": True}
    common["max_retries"] = 3
    blocks = stack.get("provider", {}).get("aws", [])
    providers = blocks if isinstance(blocks, list) else [blocks]
    override: dict[str, Any] = {}
    if providers:
        override["provider"] = {
            "aws": [{**({"alias": p["alias"]} if "alias" in p else {}), **common} for p in providers]
        }
    backend = stack.get("terraform", {}).get("backend", {})
    for settings in backend.values():
        location = settings.get("path") or settings.get("key")
        override["terraform"] = {"backend": {"local": {"path": str(state_root / _tail(location))}}}
    reads = stack.get("data", {}).get("terraform_remote_state", {})
    for name, config in reads.items():
        location = config.get("config", {}).get("path") or config.get("config", {}).get("key")
        override.setdefault("data", {}).setdefault("terraform_remote_state", {})[name] = {
            "backend": "local",
            "config": {"path": str(state_root / _tail(location))},
        }
    required = sorted(n for n, v in stack.get("variable", {}).items() if "default" not in v)
    if required:
        override["variable"] = {name: {"default": emulator_variable_value(name)} for name in required}
    return override


@dataclass
class Workspace:
    """One package's stacks in a folder Terraform runs in, for one target."""

    package: str
    directory: Path
    """The package's folder (``cfn-outputs/`` is written there)."""
    folder: Path
    """Holds ``manifest.json`` and ``stacks/<stack>/``."""
    stacks: dict[str, dict[str, Any]]
    deps: dict[str, list[str]] = field(default_factory=dict)
    """Stack -> stacks of this package it depends on (cdktf's manifest)."""
    target: str = "aws"
    throwaway: bool = False
    """The folder is a copy (removed by :meth:`discard`)."""

    @staticmethod
    def _manifest_deps(folder: Path) -> dict[str, list[str]]:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return {name: list(info.get("dependencies", [])) for name, info in manifest.get("stacks", {}).items()}

    @classmethod
    def for_aws(cls, package: AppPackage, *, environment: str, environ: Mapping[str, str] | None = None) -> Workspace:
        """The package synthesized for ``environment`` (cache reused), published to its ``cdktf.out``.

        Main thread only: a stale cache entry is synthesized here, and jsii is not thread-safe.
        """
        source, _ = synthesized(
            package, environment=environment, environ=environ if environ is not None else os.environ
        )
        folder = package.directory / "cdktf.out"
        publish(source, folder)
        return cls(package.name, package.directory, folder, read_stacks(folder), cls._manifest_deps(folder))

    @classmethod
    def for_emulator(
        cls,
        package: AppPackage,
        *,
        environment: str,
        state_root: Path,
        environ: Mapping[str, str] | None = None,
    ) -> Workspace:
        """A throwaway copy of the package synthesized for ``environment``, with the emulator's
        target profile applied and state kept under ``state_root``. Main thread only."""
        from platform_tooling.testing.emulator_tables import EMULATOR

        source, _ = synthesized(package, environment=environment, environ=environ if environ is not None else {})
        folder = Path(tempfile.mkdtemp(prefix=f"emulator-{package.name}-"))
        shutil.copytree(source, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".terraform*", ".validated"))
        applied = apply_target(EMULATOR, read_stacks(folder))
        for name, document in applied.stacks.items():
            stack_dir = folder / "stacks" / name
            (stack_dir / "cdk.tf.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
            override = emulator_override(document, state_root)
            (stack_dir / OVERRIDE).write_text(json.dumps(override, indent=2), encoding="utf-8")
        report = {EMULATOR.name: applied.report()}
        (folder / "target-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        deps = cls._manifest_deps(folder)
        return cls(package.name, package.directory, folder, applied.stacks, deps, "emulator", throwaway=True)

    def only(self, names: Sequence[str]) -> Workspace:
        """This workspace limited to the stacks ``names`` (the others are taken as deployed)."""
        unknown = sorted(set(names) - set(self.stacks))
        if unknown:
            raise ValueError(
                f"{self.package} has no stack {', '.join(unknown)}; it has {', '.join(sorted(self.stacks))}"
            )
        stacks = {n: d for n, d in self.stacks.items() if n in names}
        deps = {n: [d for d in self.deps.get(n, []) if d in stacks] for n in stacks}
        return Workspace(self.package, self.directory, self.folder, stacks, deps, self.target, self.throwaway)

    def stack_dir(self, stack: str) -> Path:
        return self.folder / "stacks" / stack

    def _override(self, stack: str) -> dict[str, Any]:
        path = self.stack_dir(stack) / OVERRIDE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}  # type: ignore[no-any-return]

    def sources(self, stack: str) -> dict[str, tuple[str, dict[str, Any]]]:
        """Each remote-state data source of ``stack``: its effective backend and config."""
        moved = self._override(stack).get("data", {}).get("terraform_remote_state", {})
        found = {}
        for name, source in self.stacks[stack].get("data", {}).get("terraform_remote_state", {}).items():
            chosen = moved.get(name, source)
            found[name] = (str(chosen.get("backend", "local")), dict(chosen.get("config", {})))
        return found

    def local_state(self, stack: str) -> Path | None:
        """The state file of ``stack`` when its effective backend is local, else ``None``."""
        backend = self._override(stack).get("terraform", {}).get("backend") or self.stacks[stack].get(
            "terraform", {}
        ).get("backend", {})
        if "local" not in backend:
            return None
        return self.stack_dir(stack) / str(backend["local"]["path"])

    def discard(self) -> None:
        """Remove a throwaway folder (the emulator's copy); the AWS target's ``cdktf.out`` stays."""
        if self.throwaway:
            shutil.rmtree(self.folder, ignore_errors=True)
