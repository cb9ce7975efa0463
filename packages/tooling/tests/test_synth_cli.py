"""The synth entry point: exit status, one line per problem, and the last good output kept."""

from __future__ import annotations

import shutil

import pytest
from platform_tooling.synth import AppPackage, main, synth_package
from platform_tooling.testing.synthesis import package_for


@pytest.fixture
def example(tmp_path) -> AppPackage:
    """A copy of the reference example, so the test may write its cdktf.out."""
    source = package_for("reference").directory
    target = tmp_path / "reference"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("cdktf.out", ".build", "cfn-outputs"))
    return AppPackage("reference", target)


def test_a_failed_synth_leaves_the_last_good_output(example, tmp_path):
    good = synth_package(example)
    marker = good.outdir / "stacks" / "reference" / "cdk.tf.json"
    before = marker.read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text((example.directory / "config" / "dev.toml").read_text().replace('"us-east-1"', '"moon-1"'))
    with pytest.raises(Exception, match="moon-1"):
        synth_package(example, config_file=bad)
    assert marker.read_bytes() == before
    assert not list(example.directory.glob(".cdktf.out.*"))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('environment_suffix = "dev"', 'environment_suffix = "Prod!"'),
            "error: bad.toml: environment_suffix: got 'Prod!'",
        ),
        (
            ('owner = "platform-team"', 'owner = "platform-team"\nowner_email = 3'),
            "error: bad.toml: owner_email: unknown key",
        ),
    ],
)
def test_fails_with_exit_2_and_one_line_per_problem(example, tmp_path, capsys, monkeypatch, edit, expected):
    bad = tmp_path / "bad.toml"
    bad.write_text((example.directory / "config" / "dev.toml").read_text().replace(*edit))
    monkeypatch.setattr("platform_tooling.synth.discover", lambda root, names: [example])
    assert main(["reference", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(expected)
    assert "Traceback" not in err


def test_fails_with_exit_2_on_an_unknown_package(capsys):
    assert main(["no-such-package"]) == 2
    assert "unknown app package 'no-such-package'" in capsys.readouterr().err
