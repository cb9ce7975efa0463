"""The platform's benchmark (``nox -s bench``): every figure, its CPU time and its ratio to the floor.

Measured in one run, on this machine (wall and CPU seconds of each process tree):

- floor: importing the AWS provider bindings in a fresh Python process (best of 2);
- synthesis of every app in one process, from an empty synthesis cache, with the provider
  import as the tooling does it (collector paused, then frozen) and as a plain import: the
  collector's share of each (``gc`` callbacks time every collection), against the Python
  process's own CPU time (the jsii runtime's Node.js process works beside it);
- the one-package loop ``nox -s synth test -- <app>`` for every app, from an empty cache
  (target: at most 2 x floor);
- the conformance rules (policy documents AWS accepts, reachable services, key usage, CMKs on
  state machines and function environments) over every synthesized stack of every environment,
  in a fresh process that does not import the provider bindings: their share of the policy pack
  that runs at every synthesis, cold (first evaluation, IAM reference loaded) and warm;
- each rung (``lint``, ``test``, ``validate``, ``scan``) per package, as CI runs it after the test
  session (synthesis cache warm, no stack validated before);
- the emulator rung over every package (target: 6 minutes), with its per-package split from
  ``.platform/emulator-timings.json`` (:mod:`platform_tooling.testing.emulator_timings`);
- a repeated ``nox -s setup`` (target: under 5 s).

``python -m platform_tooling.testing.bench [PACKAGE ...] [--no-emulator]``. Results also go to
``.platform/bench.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from platform_tooling.cache import CACHE_VARIABLE
from platform_tooling.deploy.terraform import tool_dir
from platform_tooling.synth import repo_root
from platform_tooling.testing.rungs import BESIDE, FIRST, IN_TURN

APPS = ("network-peering", "payments-multiregion", "pci-platform", "security-baseline")
PACKAGES = (*APPS, "shared-constructs", "tooling")
STACKED = (*APPS, "shared-constructs")
"""Packages with stacks (shared-constructs: its reference example)."""


@dataclass
class Figure:
    name: str
    seconds: float
    cpu_s: float
    ratio: float = 0.0
    target: str = ""
    ok: bool | None = None


def measure(name: str, command: Sequence[str], env: dict[str, str], *, check: bool = True) -> Figure:
    """Wall time and CPU time (the process and every descendant it waited for) of ``command``."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(list(command), env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if check and process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{name} failed ({process.returncode}):\n{err.read().decode()[-3000:]}")
    return Figure(name, seconds, usage.ru_utime + usage.ru_stime)


def probe(tuned: bool) -> dict[str, float]:
    """Import the bindings (tuned as the tooling does, or plainly) and synthesize every app into a
    temporary folder, timing every cyclic collection; run in a fresh process by :func:`main`."""
    spans: list[float] = []
    begun: list[float] = []

    def collector(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            begun.append(time.perf_counter())
        else:
            spans.append(time.perf_counter() - begun.pop())

    gc.callbacks.append(collector)
    started, cpu = time.monotonic(), time.process_time()
    if tuned:
        from platform_tooling import bindings

        bindings.load()
    else:
        import cdktf_cdktf_provider_aws  # noqa: F401
    result = {"import_s": time.monotonic() - started, "import_cpu_s": time.process_time() - cpu}
    result["import_gc_s"] = sum(spans)
    from platform_tooling.synth import discover, synth_package

    started, cpu, spans[:] = time.monotonic(), time.process_time(), []
    with tempfile.TemporaryDirectory() as folder:
        for package in discover(repo_root()):
            synth_package(package, outdir=Path(folder) / package.name)
    result |= {"synth_s": time.monotonic() - started, "synth_cpu_s": time.process_time() - cpu}
    result["synth_gc_s"] = sum(spans)
    return result


CONFORMANCE_RULES = frozenset(
    {
        "IAM_TRUST_POLICY",
        "IAM_IDENTITY_POLICY",
        "IAM_RESOURCE_POLICY",
        "POLICY_SIZE",
        "REACHABLE_SERVICES",
        "KEY_USAGE",
        "SFN_CMK",
        "LAMBDA_ENV_CMK",
    }
)
"""The rules of the conformance rung, run by the policy pack at every synthesis."""


def probe_conformance(cache: Path) -> dict[str, float]:
    """Evaluate the conformance rules, then the whole pack, over every stack in ``cache``."""
    import tomllib

    from shared_constructs.policy.model import Context
    from shared_constructs.policy.packs import BASELINE
    from shared_constructs.policy.runner import evaluate

    from platform_tooling.synth import read_stacks

    conformance = [rule for rule in BASELINE if rule.id in CONFORMANCE_RULES]
    if len(conformance) != len(CONFORMANCE_RULES):
        raise SystemExit(f"conformance rules missing from the pack: {sorted(CONFORMANCE_RULES)}")
    entries = sorted(p.parent for p in cache.glob("*/*/manifest.json"))
    if not entries:
        raise SystemExit(f"no synthesized output under {cache}: run the rungs first")
    result = {"environments": float(len(entries)), "stacks": 0.0, "cold_s": 0.0, "warm_s": 0.0, "pack_s": 0.0}
    for folder in entries:
        stacks = read_stacks(folder)
        config = repo_root() / "packages" / folder.parent.name / "config" / f"{folder.name}.toml"
        settings = tomllib.loads(config.read_text()) if config.is_file() else {}
        context = Context(suffix=folder.name, deployer=str(settings.get("deployer_role_arn", "")))
        result["stacks"] += len(stacks)
        for label, pack in (("cold_s", conformance), ("warm_s", conformance), ("pack_s", BASELINE)):
            started = time.process_time()
            evaluate(stacks, context, pack)
            result[label] += time.process_time() - started
    return result


def _probe(tuned: bool, env: dict[str, str]) -> dict[str, float]:
    flag = "--probe-tuned" if tuned else "--probe-plain"
    done = subprocess.run(
        [sys.executable, "-m", "platform_tooling.testing.bench", flag], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"synthesis probe failed:\n{done.stderr[-3000:]}")
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


RUNGS = (*FIRST, *BESIDE, *IN_TURN)
"""Every rung of the ladder (:mod:`.rungs`)."""


def rung_shares(figures: Sequence[Figure]) -> dict[str, tuple[float, float, float]]:
    """Rung -> (wall s, CPU s, share of the rungs' summed wall time), from the per-package rung
    figures (``lint -- <package>``...) and the emulator rung's figure."""
    totals: dict[str, list[float]] = {}
    for figure in figures:
        rung = figure.name.split(" ", 1)[0]
        if rung in RUNGS and (" -- " in figure.name or rung == "emulator"):
            found = totals.setdefault(rung, [0.0, 0.0])
            found[0] += figure.seconds
            found[1] += figure.cpu_s
    whole = sum(wall for wall, _ in totals.values()) or 1.0
    return {rung: (wall, cpu, wall / whole) for rung, (wall, cpu) in totals.items()}


class Bench:
    """One benchmark run: figures in order, each measured against the same floor."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.nox = shutil.which("nox")
        self.figures: list[Figure] = []
        self.details: dict[str, Any] = {}

    def add(self, figure: Figure, target: str = "", ok: bool | None = None) -> Figure:
        figure.target, figure.ok = target, ok
        self.figures.append(figure)
        print(f"measured {figure.name}: {figure.seconds:.1f} s wall, {figure.cpu_s:.1f} s CPU", flush=True)
        return figure

    def session(self, name: str, *sessions_and_args: str, env: dict[str, str] | None = None) -> Figure:
        if self.nox is None:
            raise SystemExit("nox is not on PATH: run the benchmark through nox -s bench")
        command = [self.nox, "-f", str(self.root / "noxfile.py"), "-s", *sessions_and_args]
        return measure(name, command, env or self.env)

    def synthesis(self, floor: Figure) -> None:
        plain, tuned = _probe(False, self.env), _probe(True, self.env)
        self.details["synthesis"] = {"plain_import": plain, "tuned_import": tuned}
        for label, found in (("plain import", plain), ("collector paused + frozen", tuned)):
            total = found["import_s"] + found["synth_s"]
            cpu = found["import_cpu_s"] + found["synth_cpu_s"]
            figure = self.add(Figure(f"synth every app, one process ({label})", total, cpu))
            figure.target = f"gc {found['import_gc_s'] + found['synth_gc_s']:.1f} s of {cpu:.1f} s Python CPU"
        self.figures[-1].ok = self.figures[-1].seconds <= 1.5 * floor.seconds
        self.figures[-1].target += "; <= 1.5 x floor"

    def loops(self, apps: Sequence[str], floor: Figure) -> None:
        for app in apps:
            with tempfile.TemporaryDirectory() as empty:
                env = {**self.env, CACHE_VARIABLE: empty}
                figure = self.session(f"nox -s synth test -- {app}", "synth", "test", "--", app, env=env)
            self.add(figure, "<= 2 x floor", figure.seconds <= 2 * floor.seconds)

    def rungs(self, packages: Sequence[str]) -> None:
        for rung in ("lint", "test", "validate", "scan"):
            if rung == "validate":
                for marker in self.root.glob(".platform/synth/*/*/stacks/*/.validated"):
                    marker.unlink()
            for package in packages:
                if rung in ("validate", "scan") and package not in STACKED:
                    continue  # no stacks: nothing to validate or scan
                self.add(self.session(f"{rung} -- {package}", rung, "--", package))

    def conformance(self, floor: Figure) -> None:
        cache = self.root / ".platform" / "synth"
        command = [sys.executable, "-m", "platform_tooling.testing.bench", "--probe-conformance", str(cache)]
        figure = self.add(measure("conformance rules, every stack (fresh process)", command, self.env))
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=True)
        found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        self.details["conformance"] = found
        figure.target = (
            f"{found['stacks']:.0f} stacks in {found['environments']:.0f} environments: rules {found['cold_s']:.2f} s"
            f" cold, {found['warm_s']:.2f} s warm, of {found['pack_s']:.2f} s for the whole pack"
            f" ({found['warm_s'] / floor.seconds:.3f} x floor warm)"
        )

    def emulator(self) -> None:
        figure = self.add(self.session("emulator rung (every package)", "emulator"))
        figure.target, figure.ok = "<= 360 s", figure.seconds <= 360
        report = tool_dir() / "emulator-timings.json"
        self.details["emulator"] = json.loads(report.read_text()) if report.is_file() else {}

    def report(self, floor: Figure) -> None:
        for figure in self.figures:
            figure.ratio = figure.seconds / floor.seconds
        print(f"{'figure':<52} {'wall s':>7} {'cpu s':>7} {'x floor':>7}  target")
        for f in self.figures:
            verdict = "" if f.ok is None else (" met" if f.ok else " MISSED")
            print(f"{f.name:<52} {f.seconds:>7.1f} {f.cpu_s:>7.1f} {f.ratio:>7.2f}  {f.target}{verdict}")
        shares = rung_shares(self.figures)
        print(f"{'rung (every package)':<52} {'wall s':>7} {'cpu s':>7} {'share':>7}")
        for rung, (wall, cpu, share) in shares.items():
            print(f"{rung:<52} {wall:>7.1f} {cpu:>7.1f} {share:>7.0%}")
        self.details["rung_shares"] = {
            rung: {"wall_s": w, "cpu_s": c, "share": f} for rung, (w, c, f) in shares.items()
        }
        for package, split in self.details.get("emulator", {}).items():
            print(f"emulator {package}: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(split.items())))
        payload = {"figures": [asdict(f) for f in self.figures], "details": self.details}
        (tool_dir() / "bench.json").write_text(json.dumps(payload, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.testing.bench")
    parser.add_argument("packages", nargs="*", help="packages for the per-package figures (default: all)")
    parser.add_argument("--no-emulator", action="store_true", help="leave out the emulator rung")
    parser.add_argument("--probe-tuned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe-plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe-conformance", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_conformance:
        print(json.dumps(probe_conformance(args.probe_conformance)))
        return 0
    if args.probe_tuned or args.probe_plain:
        print(json.dumps(probe(tuned=args.probe_tuned)))
        return 0
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    bench = Bench(repo_root(), env)
    floor = min(
        (
            measure(
                "floor: import the provider bindings", [sys.executable, "-c", "import cdktf_cdktf_provider_aws"], env
            )
            for _ in range(2)
        ),
        key=lambda f: f.seconds,
    )
    bench.add(floor)
    bench.synthesis(floor)
    packages = [p for p in args.packages if p in PACKAGES] or list(PACKAGES)
    bench.loops([p for p in packages if p in APPS], floor)
    bench.rungs(packages)
    bench.conformance(floor)
    if not args.no_emulator:
        bench.emulator()
    bench.session("setup (first)", "setup")
    setup = bench.add(bench.session("setup (repeated nox session)", "setup"))
    setup.target, setup.ok = "< 5 s", setup.seconds < 5
    bench.report(floor)
    return 0 if all(f.ok is not False for f in bench.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
