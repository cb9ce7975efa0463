"""A tiny repository laid out like the platform: a library (``tinylib``) and two apps of Terraform's
built-in ``terraform_data`` (no provider, synthesized with the CDKTF core only, in about a second).
``alpha`` publishes an output; ``beta`` reads it through remote state."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

LIBRARY = '''
"""The fixture's library."""
from shared_constructs.cdk import Construct, TerraformResource

LABELS = {"alpha": "alpha-v1", "beta": "beta-v1"}
GENERATIONS = {"alpha": 1, "beta": 1}


def record(scope: Construct, id: str, app: str) -> TerraformResource:
    """A record of ``app``'s label, replaced when its generation changes."""
    resource = TerraformResource(scope, id, terraform_resource_type="terraform_data")
    resource.add_override("input", LABELS[app])
    resource.add_override("triggers_replace", [GENERATIONS[app]])
    return resource
'''

APP = '''
"""Fixture app {name}."""
from shared_constructs.cdk import App, DataTerraformRemoteStateLocal, TerraformOutput, TerraformStack
from shared_constructs.settings import BaseSettings
from shared_constructs.state import configure_backend, local_state_path

import tinylib


class Settings(BaseSettings):
    """Settings of fixture app {name}."""


def build(app: App, settings: Settings) -> None:
    stack = TerraformStack(app, "{name}")
    configure_backend(stack, settings, "{name}", "{name}")
    record = tinylib.record(stack, "record", "{name}")
    TerraformOutput(stack, "label", value=record.get_string_attribute("output"))
    if {reads!r}:
        alpha = DataTerraformRemoteStateLocal(stack, "alpha", path=local_state_path(settings, "alpha", "alpha"))
        TerraformOutput(stack, "alpha_label", value=alpha.get_string("label"))
'''

CONFIG = """
environment = "dev"
environment_suffix = "dev"
cost_center = "platform"
owner = "{name}-team"
account_id = "123456789012"
deployer_role_arn = "arn:aws:iam::123456789012:role/{name}-deployer"
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make(root: Path) -> Path:
    """Lay the fixture out under ``root`` and commit it; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "fixture"\nversion = "0.0.0"\n')
    (root / ".gitignore").write_text("cdktf.out/\n.platform/\n.state/\ncfn-outputs/\n__pycache__/\n")
    library = root / "packages" / "tinylib" / "src" / "tinylib"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text(textwrap.dedent(LIBRARY).lstrip())
    (root / "packages" / "tinylib" / "pyproject.toml").write_text('[project]\nname = "tinylib"\nversion = "0.1.0"\n')
    for name, reads in (("alpha", False), ("beta", True)):
        app = root / "packages" / name
        (app / "config").mkdir(parents=True)
        (app / "cdktf.json").write_text('{"language": "python", "app": "python -m platform_tooling.synth"}\n')
        (app / "app.py").write_text(textwrap.dedent(APP.format(name=name, reads=reads)).lstrip())
        (app / "config" / "dev.toml").write_text(textwrap.dedent(CONFIG.format(name=name)).lstrip())
        (app / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n[tool.platform]\nshared-constructs = ">=0.1"\n'
        )
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.email", "fixture@example.com")
    git(root, "config", "user.name", "Fixture")
    commit(root, "fixture: a library and two apps")
    return root


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", message)
    return git(root, "rev-parse", "HEAD")


def edit_library(root: Path, old: str, new: str) -> None:
    path = root / "packages" / "tinylib" / "src" / "tinylib" / "__init__.py"
    text = path.read_text()
    assert old in text, f"{old!r} is not in the fixture library"
    path.write_text(text.replace(old, new))
