"""``nox -s synth test -- <package>`` hands its synthesis to the test session's process: run once
the tests are collected, shown as it runs, and a failure fails the run whatever the tests did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from platform_tooling.synth import repo_root
from platform_tooling.testing.plugin import SYNTH_FIRST

INNER_TEST = """
import os

def test_the_handed_over_synthesis_is_not_passed_on():
    assert "{variable}" not in os.environ
"""


def run_tests(tmp_path: Path, handed: list[str] | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER_TEST.format(variable=SYNTH_FIRST))
    env = {key: value for key, value in os.environ.items() if key != SYNTH_FIRST}
    if handed is not None:
        env[SYNTH_FIRST] = json.dumps(handed)
    command = [sys.executable, "-m", "pytest", "-p", "platform_tooling.testing.plugin", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-q", str(tmp_path)], cwd=repo_root(), env=env, capture_output=True, text=True, timeout=300
    )


def test_a_failed_synthesis_fails_the_run_though_the_tests_pass(tmp_path: Path) -> None:
    done = run_tests(tmp_path, ["no-such-package"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "unknown app package 'no-such-package'" in done.stdout + done.stderr
    assert "synthesis (handed over by nox -s synth) failed: exit status 2" in done.stdout


def test_the_synthesis_cli_runs_in_the_test_process_with_the_arguments_handed_over(tmp_path: Path) -> None:
    done = run_tests(tmp_path, ["--help"])  # argparse's own exit 0, without synthesizing anything
    assert done.returncode == 0, done.stdout + done.stderr
    assert "synth --help (handed over by nox -s synth):" in done.stdout
    assert "usage: python -m platform_tooling.synth" in done.stdout


def test_without_a_handed_over_synthesis_nothing_is_synthesized(tmp_path: Path) -> None:
    done = run_tests(tmp_path, None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "handed over" not in done.stdout + done.stderr


def test_the_noxfile_hands_over_under_the_name_the_plugin_reads() -> None:
    noxfile = (repo_root() / "noxfile.py").read_text()
    assert f'SYNTH_FIRST = "{SYNTH_FIRST}"' in noxfile
