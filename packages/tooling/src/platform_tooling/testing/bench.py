"""The platform's benchmark (``nox -s bench``): every figure and its ratio to the import floor.

Measured in one run, on this machine:
- floor: seconds to import the AWS provider bindings in a fresh Python process (best of 2);
- synth: ``python -m platform_tooling.synth`` over every app package (one process);
- tests: the test session's pytest run (``-m "not emulator"``) over every package;
- setup: a repeated ``nox -s setup`` (the environment check every session pays);
- peak RSS of each measured process tree.
Targets: synth <= 1.5 x floor; setup < 5 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import psutil

from platform_tooling.synth import repo_root
from platform_tooling.testing.terraform import tool_dir


@dataclass
class Figure:
    name: str
    seconds: float
    peak_rss_mb: float
    ratio: float = 0.0
    target: str = ""
    ok: bool | None = None


def measure(name: str, command: Sequence[str], env: dict[str, str]) -> Figure:
    """Wall time and peak resident memory (summed over the process tree) of ``command``."""
    started = time.monotonic()
    process = psutil.Popen(list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{name} failed ({process.returncode}):\n{stderr[-3000:]}")
    return Figure(name, seconds, peak / 2**20)


def main(argv: Sequence[str] | None = None) -> int:
    root = repo_root()
    env = dict(os.environ)
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    python = sys.executable
    floor = min(
        (measure("floor", [python, "-c", "import cdktf_cdktf_provider_aws"], env) for _ in range(2)),
        key=lambda f: f.seconds,
    )
    figures = [floor, measure("synth (all apps, one process)", [python, "-m", "platform_tooling.synth"], env)]
    figures[-1].target, figures[-1].ok = "<= 1.5 x floor", figures[-1].seconds <= 1.5 * floor.seconds
    figures.append(
        measure(
            "test session (pytest, all packages)",
            [python, "-m", "pytest", "-q", "-m", "not emulator", "-p", "no:cacheprovider", str(root / "packages")],
            env,
        )
    )
    nox = shutil.which("nox")
    if nox:
        measure("setup (first)", [nox, "-f", str(root / "noxfile.py"), "-s", "setup"], env)
        setup = measure("setup (repeated nox session)", [nox, "-f", str(root / "noxfile.py"), "-s", "setup"], env)
        setup.target, setup.ok = "< 5 s", setup.seconds < 5
        figures.append(setup)
    for figure in figures:
        figure.ratio = figure.seconds / floor.seconds
    print(f"{'figure':<40} {'seconds':>8} {'x floor':>8} {'peak MB':>8}  target")
    for f in figures:
        verdict = "" if f.ok is None else ("met" if f.ok else "MISSED")
        print(f"{f.name:<40} {f.seconds:>8.1f} {f.ratio:>8.2f} {f.peak_rss_mb:>8.0f}  {f.target} {verdict}")
    (tool_dir() / "bench.json").write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
