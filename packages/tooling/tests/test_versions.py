"""Each app states the shared-constructs range it supports; synthesis refuses a library outside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_tooling.synth import AppPackage, repo_root, synth_package
from platform_tooling.versions import check_library, library_version, supported_range
from shared_constructs.settings import SettingsError

ROOT = repo_root(Path(__file__))


def app(tmp_path: Path, platform: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "demo"\nversion = "0.1.0"\n{platform}')
    return tmp_path


def test_every_app_states_a_range_that_holds_the_library_of_this_tree():
    apps = sorted(p.parent for p in ROOT.glob("packages/*/cdktf.json"))
    assert apps
    for directory in apps:
        supported = supported_range(directory)
        assert supported is not None, directory.name
        assert library_version() in supported, directory.name


def test_a_library_inside_the_range_passes(tmp_path: Path):
    check_library("demo", app(tmp_path, '[tool.platform]\nshared-constructs = ">=0.1,<0.2"\n'), "0.1.7")


@pytest.mark.parametrize(
    ("platform", "version", "message"),
    [
        ('[tool.platform]\nshared-constructs = ">=0.1,<0.2"\n', "0.2.0", "demo supports shared-constructs <0.2,>=0.1"),
        ('[tool.platform]\nshared-constructs = ">=1.0"\n', "0.9.9", "and shared-constructs 0.9.9 is installed"),
        ("", "0.1.0", r"\[tool.platform\] shared-constructs: missing"),
        ('[tool.platform]\nshared-constructs = "0.1"\n', "0.1.0", "'0.1' is not a version range"),
    ],
)
def test_fails_a_library_outside_the_range_or_no_range(tmp_path: Path, platform: str, version: str, message: str):
    with pytest.raises(SettingsError, match=message):
        check_library("demo", app(tmp_path, platform), version)


def test_an_example_without_a_project_file_is_not_checked(tmp_path: Path):
    assert supported_range(tmp_path) is None


def test_fails_synthesis_refuses_an_app_whose_range_excludes_the_library(tmp_path: Path):
    directory = app(tmp_path, '[tool.platform]\nshared-constructs = ">=99"\n')
    with pytest.raises(SettingsError, match=f"installed: update the range in packages/{directory.name}/pyproject.toml"):
        synth_package(AppPackage(directory.name, directory), outdir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
