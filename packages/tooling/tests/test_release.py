"""``nox -s release``: one package's version, changelog and tag from the commits scoped to it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from platform_tooling import release
from platform_tooling.synth import repo_root

ROOT = repo_root(Path(__file__))


def commitizen_section(name: str) -> str:
    """network-peering's [tool.commitizen] tables, for package ``name`` (the fixture's packages)."""
    text = (ROOT / "packages" / "network-peering" / "pyproject.toml").read_text()
    section = text[text.index("[tool.commitizen]") : text.index("[build-system]")]
    return section.replace("network-peering", name)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout.strip()


def change(root: Path, package: str, message: str) -> None:
    path = root / "packages" / package / "notes.txt"
    path.write_text(path.read_text() + message + "\n" if path.exists() else message + "\n")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    for name in ("alpha", "beta"):
        folder = root / "packages" / name
        folder.mkdir(parents=True)
        project = f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n{commitizen_section(name)}'
        (folder / "pyproject.toml").write_text(project)
        (folder / "CHANGELOG.md").write_text(f"# {name}\n")
    (root / "pyproject.toml").write_text('[project]\nname = "fixture"\nversion = "0.0.0"\n')
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.email", "fixture@example.com")
    git(root, "config", "user.name", "Fixture")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "fixture: two packages")
    monkeypatch.chdir(root)
    return root


def version(root: Path, name: str) -> str:
    return str(tomllib.loads((root / "packages" / name / "pyproject.toml").read_text())["project"]["version"])


def test_a_release_takes_only_the_package_s_own_commits(repo: Path):
    change(repo, "alpha", "feat(alpha): publish the record's label")
    change(repo, "beta", "feat(beta): a feature of the other package")
    change(repo, "alpha", "Reword the README")  # not scoped: not in the changelog
    assert release.main(["alpha"]) == 0
    assert (version(repo, "alpha"), version(repo, "beta")) == ("0.2.0", "0.1.0")
    assert git(repo, "tag", "--list") == "alpha-v0.2.0"
    changelog = (repo / "packages" / "alpha" / "CHANGELOG.md").read_text()
    assert re.search(r"## alpha-v0\.2\.0 \(\d{4}-\d\d-\d\d\)\n\n### Added\n\n- publish the record's label\n", changelog)
    assert "other package" not in changelog
    assert "README" not in changelog
    assert git(repo, "log", "-1", "--format=%s") == "alpha: release 0.2.0"
    change(repo, "beta", "fix(beta): a fix")
    assert release.main(["beta"]) == 0
    assert version(repo, "beta") == "0.2.0"  # its feat and its fix since the start: a minor release
    assert sorted(git(repo, "tag", "--list").split()) == ["alpha-v0.2.0", "beta-v0.2.0"]


def test_fails_a_release_without_a_commit_scoped_to_the_package(repo: Path):
    change(repo, "beta", "fix(beta): a fix")
    assert release.main(["alpha"]) != 0
    assert version(repo, "alpha") == "0.1.0"
    assert git(repo, "tag", "--list") == ""


def test_fails_a_configuration_not_scoped_to_the_package():
    config = tomllib.loads(commitizen_section("alpha"))["tool"]["commitizen"]
    assert release.problems("alpha", config) == []
    config["tag_format"] = "v$version"
    config["customize"]["bump_pattern"] = "^(feat|fix)(!)?:"
    assert release.problems("alpha", config) == [
        "packages/alpha/pyproject.toml: [tool.commitizen].tag_format: 'v$version', expected 'alpha-v$version'",
        "packages/alpha/pyproject.toml: [tool.commitizen].customize.bump_pattern: does not require the scope (alpha)",
    ]


def test_every_package_is_configured_for_its_own_releases():
    projects = sorted(ROOT.glob("packages/*/pyproject.toml"))
    assert len(projects) >= 6
    for project in projects:
        config = tomllib.loads(project.read_text())["tool"].get("commitizen", {})
        assert release.problems(project.parent.name, config) == []
