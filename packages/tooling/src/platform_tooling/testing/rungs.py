"""The whole verification ladder in one command, the emulator rung beside the others.

``nox -s ladder [-- PACKAGE ...]`` runs ``python -m platform_tooling.testing.rungs --nox PYTHON
[PACKAGE ...]``: the emulator rung starts first, in its own ``nox -s emulator`` process, and
``test``, ``lint``, ``validate`` and ``scan`` run one after the other beside it, each its own
``nox -s <rung>``. The emulator rung spends most of its wall time waiting for Terraform's
provider polling loops (the database, the load balancer, key propagation), which leaves a core
free for the other rungs; they run at a lower scheduling priority (:data:`NICE`), so that the
emulator rung, the longest, is not slowed by them. Each rung's output stays whole: the others print as they run, the
emulator rung's output is kept in a file and printed when it ends. Then a table gives each
rung's result and wall time. The exit code is 0 only when every rung passed; a failed rung does
not stop the others, as ``nox -s lint test validate scan emulator`` (the same rungs, one after
the other) does not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BESIDE = ("emulator",)
"""Rungs started first, each in its own process, beside the others."""
IN_TURN = ("test", "lint", "validate", "scan")
"""Rungs run one after the other (the test session first: it writes the synthesis cache the
others read)."""


@dataclass
class Rung:
    """One rung: its command, and once it ran, its exit code and wall seconds."""

    name: str
    command: list[str]
    returncode: int | None = None
    wall_s: float = 0.0


def rungs(nox: Sequence[str], packages: Sequence[str]) -> tuple[list[Rung], list[Rung]]:
    """The rungs beside and in turn, each a ``nox -s <rung> [-- PACKAGE ...]`` command."""

    def one(name: str) -> Rung:
        return Rung(name, [*nox, "-s", name, *(["--", *packages] if packages else [])])

    return [one(name) for name in BESIDE], [one(name) for name in IN_TURN]


NICE = 10
"""How much lower the rungs in turn are scheduled than the rung beside: the emulator rung's
Terraform processes get a core as soon as they need one, the others use what they leave.
Measured with equal priority (fresh clone, two cores): the emulator rung took 868 s instead of
563 s alone and the test rung 581 s instead of 131 s, for a whole run of 994 s against 1037 s."""


def _yield_cpu() -> None:
    if hasattr(os, "nice"):
        os.nice(NICE)


def run(beside: Sequence[Rung], in_turn: Sequence[Rung], logs: Path) -> int:
    """Run ``beside`` in the background (output to ``logs/<rung>.log``, printed when it ends) and
    ``in_turn`` one after the other in the foreground; print the table, return the exit code."""
    started: dict[str, tuple[subprocess.Popen[bytes], float, Path]] = {}
    for rung in beside:
        log = logs / f"{rung.name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(rung.command, stdout=out, stderr=subprocess.STDOUT)
        started[rung.name] = (process, time.monotonic(), log)
    try:
        for rung in in_turn:
            began = time.monotonic()
            rung.returncode = subprocess.run(rung.command, check=False, preexec_fn=_yield_cpu).returncode
            rung.wall_s = time.monotonic() - began
    except BaseException:  # interrupted: the rungs beside stop too
        for process, _, _ in started.values():
            process.terminate()
        raise
    finally:
        for rung in beside:
            process, began, log = started[rung.name]
            rung.returncode = process.wait()
            rung.wall_s = time.monotonic() - began
            print(f"\n===== {rung.name} (beside the others) =====", flush=True)
            sys.stdout.write(log.read_text(errors="replace"))
    print(report([*in_turn, *beside]), flush=True)
    return 0 if all(r.returncode == 0 for r in [*beside, *in_turn]) else 1


def report(done: Sequence[Rung]) -> str:
    """The table of rungs: name, result and wall seconds."""
    lines = ["", "| rung | result | wall s |", "|---|---|---|"]
    for rung in done:
        result = "passed" if rung.returncode == 0 else f"FAILED (exit {rung.returncode})"
        lines.append(f"| {rung.name} | {result} | {rung.wall_s:.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.testing.rungs", description=__doc__)
    parser.add_argument("--nox", required=True, help="the Python interpreter that runs nox")
    parser.add_argument("packages", nargs="*", help="packages (default: every package)")
    args = parser.parse_args(argv)
    beside, in_turn = rungs([args.nox, "-m", "nox"], args.packages)
    with tempfile.TemporaryDirectory(prefix="ladder-") as logs:
        return run(beside, in_turn, Path(logs))


if __name__ == "__main__":
    sys.exit(main())
