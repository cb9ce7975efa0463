"""Sessions of the fintech platform monorepo.

Every session takes package names as positional arguments (default: every package under
``packages/``), e.g. ``nox -s synth test -- payments-multiregion``. All sessions but ``scan``
share one environment, ``.venv`` at the repository root, installed from ``poetry.lock`` and
re-installed only when a lock or project file changes. ``scan`` runs checkov from its own
environment, because checkov pins libraries the platform does not want.
"""

from __future__ import annotations

import hashlib
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
TYPED = ("shared-constructs", "tooling")
"""Packages type-checked with mypy --strict."""


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


def _packages(session: nox.Session) -> list[str]:
    unknown = [name for name in session.posargs if name not in PACKAGES]
    if unknown:
        session.error(f"unknown package(s) {', '.join(unknown)}; choose from {', '.join(PACKAGES)}")
    return list(session.posargs) or PACKAGES


def _apps(session: nox.Session) -> list[str]:
    """Selected app packages (those with cdktf.json; the library's example is synthesized by tests)."""
    return [name for name in _packages(session) if name in APPS]


def _py(session: nox.Session, *args: str, env: dict[str, str]) -> None:
    session.run(str(BIN / "python"), *args, env=env, external=True)


@nox.session
def setup(session: nox.Session) -> None:
    """Install the shared environment from poetry.lock (only when a lock or project file changed)."""
    _environment(session)


@nox.session
def synth(session: nox.Session) -> None:
    """Synthesize the selected app packages into packages/<name>/cdktf.out (one process)."""
    env = _environment(session)
    apps = _apps(session)
    if apps:
        _py(session, "-m", "platform_tooling.synth", *apps, env=env)


@nox.session
def test(session: nox.Session) -> None:
    """Unit, snapshot, policy and handler tests of the selected packages (not the emulator)."""
    env = _environment(session)
    paths = [str(ROOT / "packages" / name) for name in _packages(session)]
    _py(session, "-m", "pytest", "-m", "not emulator", "-q", *paths, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) on the selected packages, mypy --strict on the library and tooling."""
    env = _environment(session)
    paths = [str(ROOT / "packages" / name) for name in _packages(session)]
    _py(session, "-m", "ruff", "check", *paths, env=env)
    _py(session, "-m", "ruff", "format", "--check", *paths, env=env)
    typed = [str(ROOT / "packages" / name / "src") for name in _packages(session) if name in TYPED]
    if typed:
        _py(session, "-m", "mypy", *typed, env=env)


@nox.session
def validate(session: nox.Session) -> None:
    """terraform init -backend=false and validate on every synthesized stack.

    Offline when TF_PROVIDER_MIRROR names a Terraform filesystem mirror holding hashicorp/aws 5.100.0.
    """
    env = _environment(session)
    _py(session, "-m", "platform_tooling.testing.ladder", "validate", *_packages(session), env=env)


@nox.session(venv_backend="virtualenv", reuse_venv=True)
def scan(session: nox.Session) -> None:
    """checkov over every synthesized stack; every failed check must be accepted for its resource
    address (with its reason) in checkov-accepted.toml, and every acceptance must still apply."""
    env = _environment(session)
    session.install(CHECKOV)
    listing = session.run(str(BIN / "python"), "-m", "platform_tooling.testing.ladder", "stacks",
                          *_packages(session), env=env, external=True, silent=True)
    folders = [line for line in str(listing).splitlines() if line.startswith(str(ROOT))]
    if not folders:
        session.error("no stacks were synthesized")
    out = Path(session.create_tmp()) / "checkov"
    args = ["checkov", "--framework", "terraform_json", "--config-file", str(ROOT / ".checkov.yaml"), "--quiet",
            "--skip-download", "--output", "json", "--output-file-path", str(out)]
    for folder in folders:
        args += ["-f", str(Path(folder) / "cdk.tf.json")]
    # checkov exits 1 when a check fails: which failures are accepted is decided below, per address.
    session.run(*args, silent=True, success_codes=[0, 1])
    _py(session, "-m", "platform_tooling.testing.scan", str(out / "results_json.json"),
        "--accepted", str(ROOT / "checkov-accepted.toml"), "--environment", os.environ.get("PLATFORM_ENV", "dev"),
        *[f"--scanned={Path(f).parents[2].name}/{Path(f).name}" for f in folders], env=env)


@nox.session
def emulator(session: nox.Session) -> None:
    """Apply each selected package to a local moto server, re-plan for drift, run its integration
    tests, destroy it and check the emulator is empty."""
    env = _environment(session)
    paths = [str(ROOT / "packages" / name) for name in _packages(session)]
    _py(session, "-m", "pytest", "-m", "emulator", "-q", "-p", "no:logging", *paths, env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure the provider-import floor, synthesis of every app, the test session and set-up."""
    env = _environment(session)
    _py(session, "-m", "platform_tooling.testing.bench", env=env)
