"""``affected`` across two commits of a fixture repository: decided from the synthesized Terraform."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from platform_tooling.deploy import affected

from . import fixture_repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = fixture_repo.make(tmp_path / "repo")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PLATFORM_SYNTH_CACHE", raising=False)
    return root


def test_a_library_change_marks_only_the_app_whose_terraform_changes(repo: Path):
    base = fixture_repo.git(repo, "rev-parse", "HEAD")
    fixture_repo.edit_library(repo, '"""The fixture\'s library."""', '"""The fixture\'s library, reworded."""')
    fixture_repo.edit_library(repo, '"alpha": "alpha-v1"', '"alpha": "alpha-v2"')
    fixture_repo.edit_library(repo, '"alpha": 1', '"alpha": 2')
    fixture_repo.commit(repo, "tinylib: alpha's label and generation")
    found = affected.run(repo, base, "dev")
    assert sorted(found) == ["alpha"]
    [stack] = found["alpha"]
    assert (stack.stack, stack.added, stack.removed) == ("alpha", [], [])
    [change] = stack.changed
    assert (change.address, change.paths, change.replaces) == (
        "terraform_data.record",
        ["input", "triggers_replace[0]"],
        ["triggers_replace[0]"],
    )
    report = affected.markdown(found, base)
    assert "| alpha | alpha | 0 | 0 | 1 | 1 |" in report
    assert "beta" not in report


def test_a_library_change_that_changes_no_terraform_marks_nothing(repo: Path):
    base = fixture_repo.git(repo, "rev-parse", "HEAD")
    fixture_repo.edit_library(repo, "replaced when its generation changes", "replaced on a new generation")
    fixture_repo.commit(repo, "tinylib: docstring")
    assert affected.run(repo, base, "dev") == {}
    assert not any(Path(p).name.startswith("affected-base-") for p in os.listdir(repo.parent))


def test_metadata_and_asset_paths_of_the_same_code_do_not_count(tmp_path: Path):
    asset = tmp_path / "assets" / "fn" / ("A" * 32) / "code.zip"
    asset.parent.mkdir(parents=True)
    asset.write_bytes(b"same code")
    other = tmp_path / "assets" / "fn" / ("B" * 32) / "code.zip"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"same code")
    base = {
        "//": {"metadata": {"version": "1"}},
        "resource": {
            "aws_lambda_function": {
                "f": {"//": {"metadata": {"path": "a/f"}}, "filename": f"assets/fn/{'A' * 32}/code.zip"}
            }
        },
    }
    head = {
        "//": {"metadata": {"version": "2"}},
        "resource": {
            "aws_lambda_function": {
                "f": {"//": {"metadata": {"path": "b/f"}}, "filename": f"assets/fn/{'B' * 32}/code.zip"}
            }
        },
    }
    assert affected.diff_stack("s", affected.normalize(base, tmp_path), affected.normalize(head, tmp_path)).empty
    other.write_bytes(b"new code")
    changed = affected.diff_stack("s", affected.normalize(base, tmp_path), affected.normalize(head, tmp_path))
    assert [c.paths for c in changed.changed] == [["filename"]]


def test_an_added_stack_lists_its_resources_and_outputs_not_its_provider_blocks():
    head = {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": {"aws_s3_bucket": {"state": {"bucket": "b"}}},
        "output": {"state_bucket_name": {"value": "b"}},
    }
    diff = affected.diff_stack("state-backend", None, head)
    assert (diff.status, diff.added, diff.outputs, diff.other) == (
        "added",
        ["aws_s3_bucket.state"],
        ["+state_bucket_name"],
        [],
    )
