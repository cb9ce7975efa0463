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
    first, beside, in_turn = rungs(["py", "-m", "nox"], ["pci-platform", "security-baseline"])
    assert [r.name for r in first] == ["test"]
    assert [r.name for r in beside] == ["emulator"]
    assert [r.name for r in in_turn] == ["lint", "validate", "scan"]
    assert first[0].command == ["py", "-m", "nox", "-s", "test", "--", "pci-platform", "security-baseline"]
    assert rungs(["nox"], [])[1][0].command == ["nox", "-s", "emulator"]


def test_the_first_rung_runs_alone_then_the_rung_beside_runs_while_the_others_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_done, signal = tmp_path / "first-done", tmp_path / "in-turn-started"
    # The rung beside passes only if the first rung had ended before it started, and it sees the
    # first rung in turn start while it runs.
    waits = (
        f"import pathlib,sys,time\nassert pathlib.Path({str(first_done)!r}).exists()\nfor _ in range(400):\n"
        f"    if pathlib.Path({str(signal)!r}).exists(): print('saw it'); sys.exit(0)\n    time.sleep(0.05)\nsys.exit(3)"
    )
    first = [Rung("test", _python(f"import pathlib; pathlib.Path({str(first_done)!r}).touch()"))]
    beside = [Rung("emulator", _python(waits))]
    in_turn = [
        Rung("lint", _python(f"import pathlib; pathlib.Path({str(signal)!r}).touch()")),
        Rung("scan", _python("")),
    ]
    logs = tmp_path / "logs"
    logs.mkdir()

    assert run(first, beside, in_turn, logs) == 0
    assert [r.returncode for r in [*first, *beside, *in_turn]] == [0, 0, 0, 0]
    printed = capsys.readouterr().out
    assert "===== emulator (beside the others) =====\nsaw it" in printed
    assert "| emulator | passed |" in printed


def test_a_failed_rung_fails_the_ladder_and_the_others_still_run(tmp_path: Path) -> None:
    first = [Rung("test", _python("import sys; sys.exit(1)"))]
    beside = [Rung("emulator", _python("import sys; sys.exit(2)"))]
    in_turn = [Rung("lint", _python("import sys; sys.exit(1)")), Rung("validate", _python(""))]

    assert run(first, beside, in_turn, tmp_path) == 1
    assert [r.returncode for r in [*first, *beside, *in_turn]] == [1, 2, 1, 0]
    table = report([*first, *in_turn, *beside])
    assert "| test | FAILED (exit 1) |" in table
    assert "| validate | passed |" in table
    assert "| emulator | FAILED (exit 2) |" in table


@pytest.mark.skipif(not hasattr(os, "nice"), reason="scheduling priority is POSIX's")
def test_the_rungs_in_turn_run_at_a_lower_priority_than_the_others(tmp_path: Path) -> None:
    seen = {name: tmp_path / f"{name}.nice" for name in ("test", "emulator", "lint")}

    def writes_niceness(name: str) -> Rung:
        return Rung(name, _python(f"import os, pathlib; pathlib.Path({str(seen[name])!r}).write_text(str(os.nice(0)))"))

    assert run([writes_niceness("test")], [writes_niceness("emulator")], [writes_niceness("lint")], tmp_path) == 0
    found = {name: int(path.read_text()) for name, path in seen.items()}
    assert found["test"] == found["emulator"] == os.nice(0)
    assert found["lint"] == min(os.nice(0) + NICE, 19)


def test_the_rung_beside_reports_its_own_wall_time_not_the_others(tmp_path: Path) -> None:
    beside = [Rung("emulator", _python(""))]
    in_turn = [Rung("lint", _python("import time; time.sleep(1.5)"))]
    assert run([], beside, in_turn, tmp_path) == 0
    assert in_turn[0].wall_s >= 1.5
    assert beside[0].wall_s < 1.5
