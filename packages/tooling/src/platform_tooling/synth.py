"""Synthesize app packages: settings -> stacks -> policy rules -> ``cdktf.out``, atomically.

``python -m platform_tooling.synth [PACKAGE ...] [--env NAME]`` synthesizes every app package
found under ``packages/`` (or the ones named) in one process, so the provider bindings are
imported once. Output goes to a temporary folder first and replaces ``cdktf.out`` only when
synthesis and every policy rule succeeded: a failed run leaves the last good output in place.
What a package synthesized for an environment is kept in the synthesis cache
(:mod:`platform_tooling.cache`) and reused while its inputs are unchanged.
Policy rules judge the product's configuration; a deployment target other than AWS (the emulator)
is applied after them (:mod:`platform_tooling.targets`), and what it took out is listed in
``cdktf.out/target-report.json``.

Exit status: 0 success, 1 policy violations, 2 invalid configuration or input.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from shared_constructs.policy import BASELINE, Context, PolicyViolationError, Report, check
from shared_constructs.settings import BaseSettings, SettingsError, deep_merge, env_overrides, load_settings
from shared_constructs.tagging import REQUIRED_TAGS

from platform_tooling import bindings, cache, versions
from platform_tooling.targets import AWS, Target, apply_target

DEFAULT_ENVIRONMENT = "dev"


@dataclass(frozen=True)
class AppPackage:
    """An app package on disk: ``packages/<name>`` with ``cdktf.json`` and ``src/<import>/app.py``."""

    name: str
    directory: Path

    @property
    def import_name(self) -> str:
        return self.name.replace("-", "_")

    def module(self) -> ModuleType:
        """The app module; it defines ``Settings`` and ``build(app, settings)``.

        An installed package's is ``<import_name>.app``; an example folder's is its ``app.py``.
        """
        local = self.directory / "app.py"
        if local.is_file():
            name = f"_platform_example_{self.import_name}"
            if name not in sys.modules:
                spec = importlib.util.spec_from_file_location(name, local)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load {local}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            return sys.modules[name]
        return importlib.import_module(f"{self.import_name}.app")

    def config_file(self, environment: str) -> Path:
        return self.directory / "config" / f"{environment}.toml"


@dataclass
class SynthResult:
    package: AppPackage
    settings: BaseSettings
    outdir: Path
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: Report | None = None
    target: Target = AWS
    removed: dict[str, dict[str, str]] = field(default_factory=dict)
    """What the target took out of each stack (address -> reason)."""


def repo_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder above ``start`` holding ``packages/``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "packages").is_dir() and (candidate / "pyproject.toml").is_file():
            return candidate
    raise FileNotFoundError(f"no repository root (a folder with packages/ and pyproject.toml) above {here}")


def discover(root: Path, names: Sequence[str] = ()) -> list[AppPackage]:
    """App packages under ``root/packages`` (those with ``cdktf.json``), optionally only ``names``."""
    found = {
        p.parent.name: AppPackage(p.parent.name, p.parent) for p in sorted((root / "packages").glob("*/cdktf.json"))
    }
    unknown = [n for n in names if n not in found]
    if unknown:
        raise SettingsError(
            [f"unknown app package {n!r}; expected one of {', '.join(found) or '(none)'}" for n in unknown]
        )
    return [found[n] for n in names] if names else list(found.values())


def read_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    """Every ``stacks/<name>/cdk.tf.json`` under ``outdir``, by stack name."""
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }


def policy_context(settings: BaseSettings) -> Context:
    return Context(
        suffix=settings.environment_suffix,
        protect_stateful=settings.protect_stateful,
        required_tags=REQUIRED_TAGS,
        deployer=settings.deployer_role_arn,
    )


def _swap(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging`` so readers see the old or the new tree, never half."""
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)


def synth_package(
    package: AppPackage,
    *,
    environment: str = DEFAULT_ENVIRONMENT,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    outdir: Path | None = None,
    config_file: Path | None = None,
    target: Target = AWS,
    stamp: Mapping[str, str] | None = None,
) -> SynthResult:
    """Synthesize one app package into ``outdir`` (default ``<package>/cdktf.out``).

    ``environ``: the process environment to take overrides from (only entry points pass it).
    ``overrides``: settings laid over the file and the environment (tests, emulator harness).
    ``config_file``: read this file instead of ``config/<environment>.toml``.
    ``target``: where the stacks go. Default :data:`AWS` (the configuration as synthesized).
    ``stamp``: written to ``inputs.json`` with the output (the synthesis cache's key).
    Raises :class:`SettingsError` (also for a shared-constructs outside the range the app supports,
    :mod:`platform_tooling.versions`), :class:`PolicyViolationError` or ``ValueError``; the output
    folder is then untouched.
    """
    versions.check_library(package.name, package.directory)
    bindings.load(bindings.CORE)
    from shared_constructs.cdk import App

    with bindings.paused():  # the app's import brings in the provider bindings it uses
        module = package.module()
    merged = deep_merge(env_overrides(environ or {}), overrides or {})
    settings = load_settings(module.Settings, config_file or package.config_file(environment), merged)
    outdir_path = (outdir or package.directory / "cdktf.out").resolve()
    outdir_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir_path.name}.", dir=outdir_path.parent))
    try:
        app = App(outdir=str(staging), stack_traces=False)
        module.build(app, settings)
        app.synth()
        stacks = read_stacks(staging)
        report = check(stacks, policy_context(settings), BASELINE)
        (staging / "policy-report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        removed: dict[str, dict[str, str]] = {}
        if target.exclusions:
            applied = apply_target(target, stacks)
            stacks, removed = applied.stacks, applied.removed
            for name, document in stacks.items():
                (staging / "stacks" / name / "cdk.tf.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
            report_file = staging / "target-report.json"
            report_file.write_text(json.dumps({target.name: applied.report()}, indent=2) + "\n", encoding="utf-8")
        if stamp is not None:
            (staging / cache.STAMP).write_text(json.dumps(dict(stamp), indent=2) + "\n", encoding="utf-8")
        _swap(staging, outdir_path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SynthResult(package, settings, outdir_path, stacks, report, target, removed)


def synthesized(
    package: AppPackage, *, environment: str = DEFAULT_ENVIRONMENT, environ: Mapping[str, str] | None = None
) -> tuple[Path, bool]:
    """The folder holding ``package`` synthesized for ``environment`` and whether it was reused.

    The output is kept in the synthesis cache (:mod:`platform_tooling.cache`): when its inputs
    have not changed since it was written, nothing is synthesized (and the provider bindings are
    not imported). ``environ``: the process environment to take settings overrides from.
    """
    root = repo_root(package.directory)
    digest = cache.inputs_digest(root, package.directory, environment, env_overrides(environ or {}))
    folder = cache.entry(root, package.name, environment)
    if cache.lookup(folder, digest) is not None:
        return folder, True
    with cache.writing(folder):
        if cache.lookup(folder, digest) is not None:  # another process wrote it meanwhile
            return folder, True
        synth_package(
            package,
            environment=environment,
            environ=environ,
            outdir=folder,
            stamp=cache.stamp(package.name, environment, digest),
        )
    return folder, False


def publish(source: Path, target: Path) -> None:
    """Copy a synthesized tree to ``target`` (a package's ``cdktf.out``), swapped in atomically."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _package_name(directory: Path) -> str:
    data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["name"])


def _report_lines(name: str, outdir: Path, note: str = "") -> list[str]:
    """What the CLI prints for one synthesized package: stacks, policy summary, suppressions."""
    report = json.loads((outdir / "policy-report.json").read_text(encoding="utf-8"))
    stacks = len([p for p in (outdir / "stacks").iterdir() if p.is_dir()])
    summary = (
        f"{report['evaluated']} checks, {len(report['violations'])} violations, "
        f"{len(report['suppressions'])} suppressed"
    )
    lines = [f"{name}: {stacks} stacks -> {os.path.relpath(outdir, Path.cwd())} (policy: {summary}){note}"]
    lines += [f"  suppressed [{f['rule']}] {f['stack']}/{f['resource']}: {f['reason']}" for f in report["suppressions"]]
    return lines


def _synth_one(package: AppPackage, args: argparse.Namespace, packages: int) -> list[str]:
    cdktf_outdir = os.environ.get("CDKTF_OUTDIR")
    if args.config is not None or (cdktf_outdir and packages == 1):
        # An explicit settings file, or the CDKTF CLI's own output folder: synthesize directly.
        outdir = Path(cdktf_outdir) if cdktf_outdir and packages == 1 else None
        result = synth_package(
            package, environment=args.env, environ=os.environ, outdir=outdir, config_file=args.config
        )
        return _report_lines(package.name, result.outdir)
    folder, reused = synthesized(package, environment=args.env, environ=os.environ)
    target = package.directory / "cdktf.out"
    publish(folder, target)
    return _report_lines(package.name, target, " (inputs unchanged: reused)" if reused else "")


def reported(command: Callable[[], int]) -> int:
    """Run a command line's ``command`` and return its exit status; what synthesis refuses is
    printed to stderr instead of a traceback, one line per problem: exit status 2 for bad input
    (settings, a library outside the app's range, a bad value), 1 for policy violations."""
    try:
        return command()
    except SettingsError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except PolicyViolationError as exc:
        print(f"error: {len(exc.findings)} policy violations:", file=sys.stderr)
        for finding in exc.findings:
            print(f"  {finding.line()}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.synth", description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", help="app packages to synthesize (default: all)")
    parser.add_argument(
        "--env",
        default=os.environ.get("PLATFORM_ENV", DEFAULT_ENVIRONMENT),
        help="environment file config/<env>.toml (default: $PLATFORM_ENV or dev)",
    )
    parser.add_argument("--config", type=Path, help="read this settings file instead of config/<env>.toml")
    args = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

    def synthesize() -> int:
        names = list(args.packages)
        if not names and os.environ.get("CDKTF_OUTDIR") and (Path.cwd() / "cdktf.json").is_file():
            names = [_package_name(Path.cwd())]  # run by the CDKTF CLI from a package folder
        packages = discover(repo_root(), names)
        for package in packages:
            for line in _synth_one(package, args, len(packages)):
                print(line)
        return 0

    return reported(synthesize)


if __name__ == "__main__":
    sys.exit(main())
