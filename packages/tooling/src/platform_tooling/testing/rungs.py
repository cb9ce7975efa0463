"""The whole verification ladder in one command, the emulator rung beside the others.

``nox -s ladder [-- PACKAGE ...]`` runs ``python -m platform_tooling.testing.rungs --nox PYTHON
[PACKAGE ...]``, each rung its own ``nox -s <rung>``: first ``test`` alone (two processes that
keep both cores busy, and it writes the synthesis cache every later rung reads); then the
emulator rung starts, and ``lint``, ``validate`` and ``scan`` run one after the other beside it.
The emulator rung spends most of its wall time waiting for Terraform's provider polling loops
(lifecycle rules, the database, the load balancer, key propagation), which leaves a core free;
the rungs beside it run at a lower scheduling priority (:data:`NICE`), so that the emulator
rung, the longest, is not slowed by them. Each rung's output stays whole: the emulator rung's
is kept in a file and printed when it ends. Then a table gives each rung's result and wall
time. The exit code is 0 only when every rung passed; a failed rung does not stop the others,
as ``nox -s lint test validate scan emulator`` (the same rungs, one after the other) does not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FIRST = ("test",)
"""Rungs run alone, before the others."""
BESIDE = ("emulator",)
"""Rungs started next, each in its own process, beside the rungs in turn."""
IN_TURN = ("lint", "validate", "scan")
"""Rungs run one after the other beside the emulator rung, at a lower priority."""


@dataclass
class Rung:
    """One rung: its command, and once it ran, its exit code and wall seconds."""

    name: str
    command: list[str]
    returncode: int | None = None
    wall_s: float = 0.0


def rungs(nox: Sequence[str], packages: Sequence[str]) -> tuple[list[Rung], list[Rung], list[Rung]]:
    """The rungs first, beside and in turn, each a ``nox -s <rung> [-- PACKAGE ...]`` command."""

    def one(name: str) -> Rung:
        return Rung(name, [*nox, "-s", name, *(["--", *packages] if packages else [])])

    return [one(n) for n in FIRST], [one(n) for n in BESIDE], [one(n) for n in IN_TURN]


NICE = 10
"""How much lower the rungs in turn are scheduled than the rung beside: the emulator rung's
Terraform processes get a core as soon as they need one, the others use what they leave.
Measured on fresh clones (two cores) with test, lint, validate and scan all beside the emulator
rung: at the same priority, the emulator rung's tests took 826 s instead of 563 s alone and the
test rung 581 s instead of 131 s (the whole run 994 s against 1037 s one rung after the other);
niced, the emulator rung's tests took 613 s and the test rung 691 s (the whole run 1020 s).
That is why the test rung now runs first, alone."""


def _yield_cpu() -> None:
    if hasattr(os, "nice"):
        os.nice(NICE)


def _run(rung: Rung, *, nice: bool = False) -> None:
    began = time.monotonic()
    rung.returncode = subprocess.run(rung.command, check=False, preexec_fn=_yield_cpu if nice else None).returncode
    rung.wall_s = time.monotonic() - began


def _timed(rung: Rung, process: subprocess.Popen[bytes], began: float) -> None:
    rung.returncode = process.wait()
    rung.wall_s = time.monotonic() - began


def run(first: Sequence[Rung], beside: Sequence[Rung], in_turn: Sequence[Rung], logs: Path) -> int:
    """Run ``first`` one after the other, then ``beside`` in the background (output to
    ``logs/<rung>.log``, printed when it ends) while ``in_turn`` run one after the other at a
    lower priority; print the table, return the exit code."""
    for rung in first:
        _run(rung)
    started: dict[str, tuple[subprocess.Popen[bytes], threading.Thread, Path]] = {}
    for rung in beside:
        log = logs / f"{rung.name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(rung.command, stdout=out, stderr=subprocess.STDOUT)
        watcher = threading.Thread(target=_timed, args=(rung, process, time.monotonic()), daemon=True)
        watcher.start()  # the rung's own wall time, whenever the rungs in turn end
        started[rung.name] = (process, watcher, log)
    try:
        for rung in in_turn:
            _run(rung, nice=True)
    except BaseException:  # interrupted: the rungs beside stop too
        for process, _, _ in started.values():
            process.terminate()
        raise
    finally:
        for rung in beside:
            _, watcher, log = started[rung.name]
            watcher.join()
            print(f"\n===== {rung.name} (beside the others) =====", flush=True)
            sys.stdout.write(log.read_text(errors="replace"))
    done = [*first, *in_turn, *beside]
    print(report(done), flush=True)
    return 0 if all(r.returncode == 0 for r in done) else 1


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
    first, beside, in_turn = rungs([args.nox, "-m", "nox"], args.packages)
    with tempfile.TemporaryDirectory(prefix="ladder-") as logs:
        return run(first, beside, in_turn, Path(logs))


if __name__ == "__main__":
    sys.exit(main())
