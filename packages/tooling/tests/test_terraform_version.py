"""Every stack of every app pins the Terraform versions it accepts, and the installed Terraform is one."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from platform_tooling.synth import discover, repo_root
from shared_constructs.stack import TERRAFORM_VERSION

APPS = [package.name for package in discover(repo_root())]


def accepts(constraint: str, version: str) -> bool:
    """Whether a Terraform version constraint (only ``>=``/``<``/``<=``/``>`` parts) admits ``version``."""
    return Version(version) in SpecifierSet(",".join(part.replace(" ", "") for part in constraint.split(",")))


def test_the_constraint_admits_the_installed_terraform_and_no_major_upgrade():
    terraform = shutil.which("terraform")
    assert terraform is not None, "terraform is not on PATH"
    installed = json.loads(subprocess.run([terraform, "version", "-json"], check=True, capture_output=True).stdout)
    assert accepts(TERRAFORM_VERSION, installed["terraform_version"])
    assert not accepts(TERRAFORM_VERSION, "1.9.8")  # no S3 native state locking
    assert not accepts(TERRAFORM_VERSION, "2.0.0")


@pytest.mark.parametrize("app", APPS)
def test_every_stack_pins_the_terraform_version(synth, app):
    stacks = synth(app).stacks
    assert stacks, app
    for name, stack in stacks.items():
        assert stack["terraform"]["required_version"] == TERRAFORM_VERSION, (app, name)
