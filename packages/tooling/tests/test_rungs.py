"""The ladder command: the emulator rung beside the others, every rung's result reported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from platform_tooling.testing.rungs import NICE, Rung, report, run, rungs


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_every_rung_of_the_ladder_runs_through_nox_with_the_packages() -> None:
    beside, in_turn = rungs(["py", "-m", "nox"], ["pci-platform", "security-baseline"])
    assert [r.name for r in beside] == ["emulator"]
    assert [r.name for r in in_turn] == ["test", "lint", "validate", "scan"]
    assert in_turn[0].command == ["py", "-m", "nox", "-s", "test", "--", "pci-platform", "security-baseline"]
    assert rungs(["nox"], [])[0][0].command == ["nox", "-s", "emulator"]


def test_the_rung_beside_runs_while_the_others_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signal = tmp_path / "in-turn-started"
    # The rung beside passes only if it sees the first rung in turn start while it runs.
    waits = f"import pathlib,sys,time\nfor _ in range(400):\n    if pathlib.Path({str(signal)!r}).exists(): print('saw it'); sys.exit(0)\n    time.sleep(0.05)\nsys.exit(3)"
    beside = [Rung("emulator", _python(waits))]
    in_turn = [
        Rung("test", _python(f"import pathlib; pathlib.Path({str(signal)!r}).touch()")),
        Rung("lint", _python("")),
    ]
    logs = tmp_path / "logs"
    logs.mkdir()

    assert run(beside, in_turn, logs) == 0
    assert [r.returncode for r in [*beside, *in_turn]] == [0, 0, 0]
    printed = capsys.readouterr().out
    assert "===== emulator (beside the others) =====\nsaw it" in printed
    assert "| emulator | passed |" in printed


def test_a_failed_rung_fails_the_ladder_and_the_others_still_run(tmp_path: Path) -> None:
    beside = [Rung("emulator", _python("import sys; sys.exit(2)"))]
    in_turn = [Rung("test", _python("import sys; sys.exit(1)")), Rung("lint", _python(""))]

    assert run(beside, in_turn, tmp_path) == 1
    assert [r.returncode for r in in_turn] == [1, 0]
    assert beside[0].returncode == 2
    table = report([*in_turn, *beside])
    assert "| test | FAILED (exit 1) |" in table
    assert "| lint | passed |" in table
    assert "| emulator | FAILED (exit 2) |" in table


@pytest.mark.skipif(not hasattr(os, "nice"), reason="scheduling priority is POSIX's")
def test_the_rungs_in_turn_run_at_a_lower_priority_than_the_rung_beside(tmp_path: Path) -> None:
    seen = {name: tmp_path / f"{name}.nice" for name in ("emulator", "test")}

    def writes_niceness(name: str) -> list[str]:
        return _python(f"import os, pathlib; pathlib.Path({str(seen[name])!r}).write_text(str(os.nice(0)))")

    assert run([Rung("emulator", writes_niceness("emulator"))], [Rung("test", writes_niceness("test"))], tmp_path) == 0
    beside, in_turn = (int(seen[name].read_text()) for name in ("emulator", "test"))
    assert beside == os.nice(0)
    assert in_turn == min(beside + NICE, 19)
