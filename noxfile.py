"""Sessions of the fintech platform monorepo.

Arguments after ``--``: package names first (default: every package under ``packages/``), then,
from the first argument that is not a package name on, arguments for the tool the session runs:
pytest for ``test`` and ``emulator`` (``nox -s test -- payments-multiregion -k failover``), the
synthesis CLI for ``synth`` (``nox -s synth -- pci-platform --env prod``). The other sessions
take package names only. All sessions but ``scan`` share one environment, ``.venv`` at the
repository root, installed from ``poetry.lock`` and re-installed only when a lock or project file
changes. ``scan`` runs checkov from its own environment, because checkov pins libraries the
platform does not want.

Each app is synthesized once per run: ``synth`` and the test session write the synthesized output
to a cache keyed by a digest of its inputs (``.platform/synth``); ``validate``, ``scan`` and
``emulator`` reuse it while the inputs are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
STAMP = VENV / ".platform-installed"
CHECKOV = "checkov==3.3.30"

nox.options.default_venv_backend = "none"
nox.options.sessions = ["synth", "test"]

PACKAGES = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))
APPS = sorted(p.parent.name for p in ROOT.glob("packages/*/cdktf.json"))
TYPED = tuple(PACKAGES)
"""Packages type-checked with mypy --strict: every package."""


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in [ROOT / "poetry.lock", ROOT / "pyproject.toml", *sorted(ROOT.glob("packages/*/pyproject.toml"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _environment(session: nox.Session) -> dict[str, str]:
    """Install the shared environment when its inputs changed; return the session's variables."""
    wanted = _inputs_digest()
    if not STAMP.is_file() or STAMP.read_text() != wanted:
        poetry = shutil.which("poetry")
        if poetry is None:
            session.error("poetry 2.x is required: pip install 'poetry>=2,<3'")
        # VIRTUAL_ENV points poetry at the shared environment even inside scan's own virtualenv.
        env = {"POETRY_VIRTUALENVS_IN_PROJECT": "true", "POETRY_VIRTUALENVS_CREATE": "true", "VIRTUAL_ENV": str(VENV)}
        session.run(poetry, "sync", "--no-interaction", env=env, external=True)
        # Byte-compile once: importing the provider bindings from source costs ~3x more.
        site = next(VENV.glob("lib/python3*/site-packages"))
        session.run(str(BIN / "python"), "-m", "compileall", "-q", "-j", "0", str(site), silent=True, external=True)
        STAMP.write_text(wanted)
    return {
        "VIRTUAL_ENV": str(VENV),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONDONTWRITEBYTECODE": "",
    }


def split_posargs(posargs: list[str]) -> tuple[list[str], list[str]]:
    """Leading package names, and every argument from the first one that is not a package name."""
    names: list[str] = []
    for index, argument in enumerate(posargs):
        if argument not in PACKAGES:
            return names, list(posargs[index:])
        names.append(argument)
    return names, []


def _selection(session: nox.Session, *, tool_args: bool = False) -> tuple[list[str], list[str]]:
    """Selected packages (default: all) and the arguments passed on to the session's tool."""
    names, rest = split_posargs(list(session.posargs))
    if rest and not tool_args:
        session.error(f"{session.name} takes package names only; {rest[0]!r} is not one of {', '.join(PACKAGES)}")
    return names or PACKAGES, rest


def _mypy_cache() -> Path:
    """mypy's cache, outside the clone and keyed like the environment: a fresh clone with the same
    lock reuses what an earlier run learnt about the third-party packages (the provider bindings
    above all), and a changed lock starts a new one. ``PLATFORM_MYPY_CACHE`` overrides the folder."""
    chosen = os.environ.get("PLATFORM_MYPY_CACHE")
    if chosen:
        return Path(chosen)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    config = (VENV / "pyvenv.cfg").read_text() if (VENV / "pyvenv.cfg").is_file() else ""
    version = next((line.split("=")[1].strip() for line in config.splitlines() if line.startswith("version")), "")
    python = ".".join(version.split(".")[:2]) or "unknown"
    return base / "fintech-platform" / f"mypy-python{python}-{_inputs_digest()[:16]}"


def _packages(session: nox.Session) -> list[str]:
    return _selection(session)[0]


def _apps(names: list[str]) -> list[str]:
    """App packages among ``names`` (those with cdktf.json; the library's example is synthesized by tests)."""
    return [name for name in names if name in APPS]


def _py(session: nox.Session, *args: str, env: dict[str, str]) -> None:
    session.run(str(BIN / "python"), *args, env=env, external=True)


SYNTH_FIRST = "PLATFORM_SYNTH_FIRST"
"""Synthesis handed to the test session's process: the synthesis CLI's arguments, as JSON. The
name the platform's pytest plugin reads (``platform_tooling.testing.plugin.SYNTH_FIRST``, which
nox's own environment cannot import; a tooling test holds the two equal)."""
_HANDED_TO_TEST: list[list[str]] = []
"""Synthesis the ``synth`` session left to the ``test`` session that follows it in this nox run."""


def _queued(session: nox.Session) -> list[str]:
    """The sessions this nox run has still to run after this one (nox's manifest; none when it
    cannot be read, and then nothing is handed over)."""
    manifest = getattr(getattr(session, "_runner", None), "manifest", None)
    return [str(getattr(runner, "name", "")) for runner in getattr(manifest, "_queue", None) or []]


@nox.session
def setup(session: nox.Session) -> None:
    """Install the shared environment from poetry.lock (only when a lock or project file changed)."""
    _environment(session)


@nox.session
def synth(session: nox.Session) -> None:
    """Synthesize the selected app packages into packages/<name>/cdktf.out (one process).

    Reuses the cached output of unchanged inputs. Arguments after the package names go to the
    synthesis CLI, e.g. ``nox -s synth -- pci-platform --env prod``. Followed by ``test`` in the
    same run for packages tested in one process (``nox -s synth test -- pci-platform``), the
    synthesis runs in the test session's process, before its tests: one provider import instead
    of two, the same output, and a failed synthesis still fails the run.
    """
    env = _environment(session)
    names, args = _selection(session, tool_args=True)
    apps = _apps(names)
    if apps and not args and "test" in _queued(session) and not _test_workers(names):
        # `nox -s synth test -- <package>`: the test session imports the provider bindings anyway;
        # synthesizing in its process pays that import once instead of twice.
        _HANDED_TO_TEST.append(apps)
        session.log(f"{', '.join(apps)}: synthesized in the test session's process (one provider import)")
        return
    if apps:
        _py(session, "-m", "platform_tooling.synth", *apps, *args, env=env)


@nox.session
def test(session: nox.Session) -> None:
    """Unit, snapshot, policy and handler tests of the selected packages (not the emulator).

    Arguments after the package names go to pytest, e.g.
    ``nox -s test -- payments-multiregion -k failover``.
    """
    env = _environment(session)
    names, args = _selection(session, tool_args=True)
    paths = [str(ROOT / "packages" / name) for name in names]
    if _HANDED_TO_TEST:  # the synth session before this one left its work here (same packages)
        env = {**env, SYNTH_FIRST: json.dumps(_HANDED_TO_TEST.pop())}
    _py(session, "-m", "pytest", "-m", "not emulator", "-q", *_test_workers(names), *paths, *args, env=env)


def _test_workers(names: list[str]) -> list[str]:
    """pytest-xdist options for the test session: two processes, each test module kept whole in
    one (its module-scoped fixtures and syrupy snapshot file stay together), when several packages
    are tested on a machine with two cores or more. Measured on two cores, every package from an
    empty synthesis cache: 154 s instead of 235 s. One package alone ran slower in two processes
    (pci-platform: 105-126 s instead of 81-87 s: each process imports the provider bindings, and
    one module holds most of its time), so it keeps one. Measured again with pci-platform's
    handler tests in one process and every other test in the other: its loop took 28.7-30.8 s
    against 25.4-27.4 s in one process; pytest alone, with the handler process spared the
    provider import, 25.1-26.6 s against 23.9-26.9 s. On two cores the loop is CPU-bound: a
    second process only adds work. (That split needs a scheduler of its own: ``--dist loadgroup``
    silently ignores ``xdist_group`` marks here, because pytest-xdist 3.8 renames node ids through
    an attribute pytest 9 no longer reads.) ``-n 0`` after the package names overrides."""
    if len(names) < 2 or (os.cpu_count() or 1) < 2:
        return []
    return ["-n", "2", "--dist", "loadfile"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) on the selected packages and the noxfile, mypy --strict on every
    package."""
    env = _environment(session)
    paths = [str(ROOT / "packages" / name) for name in _packages(session)] + [str(ROOT / "noxfile.py")]
    _py(session, "-m", "ruff", "check", *paths, env=env)
    _py(session, "-m", "ruff", "format", "--check", *paths, env=env)
    typed = [name for name in _packages(session) if name in TYPED]
    if typed:
        sources = [str(ROOT / "packages" / name / "src") for name in typed]
        examples = sorted(str(p) for name in typed for p in (ROOT / "packages" / name).glob("examples/*/app.py"))
        _py(session, "-m", "mypy", "--cache-dir", str(_mypy_cache()), *sources, *examples, env=env)
    # Every function handler is a top-level module named `handler`: one mypy run each.
    patterns = ("lambdas/*/handler.py", "examples/*/lambdas/*/handler.py")
    for handler in sorted(p for name in typed for glob in patterns for p in (ROOT / "packages" / name).glob(glob)):
        _py(session, "-m", "mypy", "--cache-dir", str(_mypy_cache()), str(handler), env=env)


@nox.session
def validate(session: nox.Session) -> None:
    """terraform init -backend=false and validate on every synthesized stack.

    Offline when TF_PROVIDER_MIRROR names a Terraform filesystem mirror holding hashicorp/aws 5.100.0.
    """
    env = _environment(session)
    _py(session, "-m", "platform_tooling.testing.ladder", "validate", *_packages(session), env=env)


@nox.session(venv_backend="virtualenv", reuse_venv=True)
def scan(session: nox.Session) -> None:
    """checkov over every stack of every environment; every failed check must be accepted for its
    resource address (with its reason) in checkov-accepted.toml, and every acceptance must still apply.

    The stacks come from the synthesis cache (synthesized only where it has nothing current),
    ``.platform/synth/<app>/<environment>/stacks/<stack>``; each environment gets its own verdict,
    since acceptances may name the environments they hold for.
    """
    env = _environment(session)
    session.install(CHECKOV)
    listing = session.run(
        str(BIN / "python"),
        "-m",
        "platform_tooling.testing.ladder",
        "stacks",
        *_packages(session),
        env=env,
        external=True,
        silent=True,
    )
    folders = [Path(line) for line in str(listing).splitlines() if line.startswith(str(ROOT))]
    if not folders:
        session.error("no stacks were synthesized")
    for environment in sorted({folder.parents[1].name for folder in folders}):
        chosen = [folder for folder in folders if folder.parents[1].name == environment]
        out = Path(session.create_tmp()) / f"checkov-{environment}"
        args = [
            "checkov",
            "--framework",
            "terraform_json",
            "--config-file",
            str(ROOT / ".checkov.yaml"),
            "--quiet",
            "--skip-download",
            "--output",
            "json",
            "--output-file-path",
            str(out),
        ]
        # checkov cannot parse `moved` blocks nor `required_version`: it reads copies without them
        # (testing.scan.readable_by_checkov).
        prepared = session.run(
            str(BIN / "python"),
            "-m",
            "platform_tooling.testing.scan",
            "--prepare",
            str(out / "stacks"),
            *[str(folder / "cdk.tf.json") for folder in chosen],
            env=env,
            external=True,
            silent=True,
        )
        for stack_file in str(prepared).split():
            args += ["-f", stack_file]
        # checkov exits 1 when a check fails: which failures are accepted is decided below, per address.
        session.run(*args, silent=True, success_codes=[0, 1])
        _py(
            session,
            "-m",
            "platform_tooling.testing.scan",
            str(out / "results_json.json"),
            "--accepted",
            str(ROOT / "checkov-accepted.toml"),
            "--environment",
            environment,
            *[f"--scanned={f.parents[2].name}/{f.name}" for f in chosen],
            env=env,
        )


@nox.session
def emulator(session: nox.Session) -> None:
    """Apply each selected package to a local moto server, re-plan for drift, run its integration
    tests as the deployed roles with IAM enforced, destroy it and check the emulator is empty.

    Arguments after the package names go to pytest, e.g. ``nox -s emulator -- pci-platform -x``.
    """
    env = _environment(session)
    names, args = _selection(session, tool_args=True)
    # Only the folders that hold emulator tests are collected: collecting a whole package imports
    # its unit tests only to deselect them (measured, all packages: 22.0 s instead of 16.3 s).
    folders = [ROOT / "packages" / name / "tests" / "integration" for name in names]
    paths = [str(folder) for folder in folders if folder.is_dir()]
    if not paths:
        session.error(f"no emulator tests (tests/integration) in {', '.join(names)}")
    _py(session, "-m", "pytest", "-m", "emulator", "-q", "-p", "no:logging", *paths, *args, env=env)


@nox.session
def ladder(session: nox.Session) -> None:
    """The README's test command: every rung for the selected packages. test first, alone; then the
    emulator rung in its own process, beside lint, validate and scan (one after the other, at a
    lower priority); each rung's output whole, then a table of the rungs' results and wall times.
    Fails when any rung fails. ``nox -s lint test validate scan emulator`` runs the same rungs one
    after the other.
    """
    env = _environment(session)  # installed once, before the rungs start side by side
    names, _ = _selection(session)
    _py(session, "-m", "platform_tooling.testing.rungs", "--nox", sys.executable, *names, env=env)


@nox.session
def preflight(session: nox.Session) -> None:
    """Read-only look at every account and region an app deploys to for account singletons that
    exist already (GuardDuty detectors, Config recorders, Security Hub, trails); writes
    ``config/<env>.preflight.json`` and prints the settings that adopt them. Apps that have one
    (``src/<import name>/preflight.py``): ``nox -s preflight -- security-baseline --env prod``.
    """
    env = _environment(session)
    names, args = _selection(session, tool_args=True)
    modules = [
        f"{name.replace('-', '_')}.preflight"
        for name in _apps(names)
        if (ROOT / "packages" / name / "src" / name.replace("-", "_") / "preflight.py").is_file()
    ]
    if not modules:
        session.error(f"no preflight among {', '.join(names)}")
    for module in modules:
        _py(session, "-m", module, *args, env=env)


def _deployment(session: nox.Session, command: str) -> None:
    env = _environment(session)
    names, args = split_posargs(list(session.posargs))
    _py(session, "-m", "platform_tooling.deploy", command, *names, *args, env=env)


@nox.session
def plan(session: nox.Session) -> None:
    """Plan every stack of the named packages against the configured backend, in dependency order,
    and print the summary (stateful replacements and destroys first), e.g.
    ``nox -s plan -- payments-multiregion --env prod [--markdown plan.md] [--target emulator]``.
    """
    _deployment(session, "plan")


@nox.session
def deploy(session: nox.Session) -> None:
    """Deploy the named packages: plan each stack, show its summary, ask, apply, in dependency order;
    a stack whose producer has not published what it reads stops the run. E.g.
    ``nox -s deploy -- security-baseline --env dev [--yes]``; ``--target emulator`` deploys to a local
    emulator started for the run (``nox -s deploy -- --target emulator --yes``: the whole platform).
    """
    _deployment(session, "deploy")


@nox.session
def affected(session: nox.Session) -> None:
    """Synthesize a base git ref and the working tree and list, per package and stack, what differs in
    the Terraform (resources added, removed, changed attribute paths, replacements), e.g.
    ``nox -s affected -- --base origin/main [--env dev] [--markdown affected.md]``.
    """
    env = _environment(session)
    _py(session, "-m", "platform_tooling.deploy.affected", *session.posargs, env=env)


@nox.session
def pipelines(session: nox.Session) -> None:
    """Write .github/CODEOWNERS and one GitHub Actions workflow per app from teams.toml and the
    synthesized stacks (``-- --check``: only report the files that differ)."""
    env = _environment(session)
    _py(session, "-m", "platform_tooling.deploy.pipelines", *session.posargs, env=env)


@nox.session
def release(session: nox.Session) -> None:
    """Bump one package's version and changelog from the commits scoped to it and tag
    ``<package>-v<version>`` (commitizen, configured in the package's pyproject.toml), e.g.
    ``nox -s release -- network-peering [--increment MINOR] [--dry-run]``.
    """
    env = _environment(session)
    _py(session, "-m", "platform_tooling.release", *session.posargs, env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure the provider-import floor and every figure against it: synthesis (and the cyclic
    collector's share), the one-package loop, each rung per package, the emulator's split, set-up.

    Package names select the per-package figures; ``--no-emulator`` leaves the emulator rung out,
    e.g. ``nox -s bench -- pci-platform --no-emulator``.
    """
    env = _environment(session)
    names, args = split_posargs(list(session.posargs))  # no names: the benchmark takes every package
    _py(session, "-m", "platform_tooling.testing.bench", *names, *args, env=env)


@nox.session
def evidence(session: nox.Session) -> None:
    """Audit evidence: run the selected packages' tests (and the tests marked with their
    requirements), then write docs/requirements/register.md, docs/evidence/<package>/matrix.{md,json},
    the network and account-data-flow diagrams and, for all packages, docs/evidence/controls.{md,json}.

    Fails when a test fails or a requirement that is not declined has no passing test.
    ``nox -s evidence -- --controls-only`` rewrites only the control view, from the committed
    matrices and the current synthesis, without running the tests.
    """
    env = _environment(session)
    if session.posargs == ["--controls-only"]:
        _py(session, "-m", "platform_tooling.evidence", "--controls-only", env=env)
        return
    _py(session, "-m", "platform_tooling.evidence", *_packages(session), env=env)
