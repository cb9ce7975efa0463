"""Where the emulator rung's time goes, per package.

Every Terraform call tags the provider's requests (``platform-call/<id>`` in the User-Agent) and
records its span (:data:`platform_tooling.deploy.terraform.CALLS`); the emulator's server
times every request it handles, by tag. From both, per call: *start-up* is the time before the
call's first request and after its last (Terraform and provider processes starting, reading
configuration and state, writing state; all of an ``init``), *emulator* the time the server
was busy with the call's requests, and *provider waits* the rest of the span between its first
and last request (the provider sleeping between polls, and its own work). The figures are sums
over calls (calls run side by side, so they add up to more than the rung's wall time), next to
the wall time of each phase. *tests* is the time the package's integration tests ran.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from platform_tooling.deploy.terraform import CALLS, Call, tool_dir

if TYPE_CHECKING:
    from platform_tooling.deploy.emulator import Emulator
    from platform_tooling.testing.deployment import Deployment

TIMINGS: dict[str, dict[str, float]] = {}
"""Package -> figure -> seconds, filled when the emulator session ends."""
TEST_SECONDS: dict[str, float] = {}
"""Package -> seconds its integration tests ran (filled by the pytest plugin)."""
NOTES: list[str] = []
"""Lines for the end of the run's report besides the timings (where the server's log was kept)."""
REPORT = "emulator-timings.json"
CALL_REPORT = "emulator-calls.json"
"""Every Terraform call of the rung (:func:`call_log`): where its critical path went."""


def split(calls: list[Call], server: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Start-up, provider waits and emulator handling summed over ``calls``."""
    figures = {"terraform_calls": float(len(calls)), "terraform_s": 0.0, "terraform_cpu_s": 0.0, "startup_s": 0.0}
    figures |= {"provider_waits_s": 0.0, "emulator_s": 0.0}
    for call in calls:
        span = call.ended - call.started
        figures["terraform_s"] += span
        figures["terraform_cpu_s"] += call.cpu_s
        stats = server.get(call.tag)
        if not stats:
            figures["startup_s"] += span
            continue
        first, last = max(stats["first"], call.started), min(stats["last"], call.ended)
        figures["startup_s"] += (first - call.started) + (call.ended - last)
        figures["emulator_s"] += stats["busy_s"]
        figures["provider_waits_s"] += max(0.0, (last - first) - stats["busy_s"])
    return figures


def record(server: Emulator, deployments: Mapping[str, Deployment]) -> None:
    """Fill :data:`TIMINGS` for ``deployments`` and write them to ``.platform/emulator-timings.json``."""
    stats = server.server_timings()
    for package, deployment in deployments.items():
        calls = [c for c in CALLS if deployment.outdir in c.workdir.parents]
        TIMINGS[package] = {**deployment.timings, **split(calls, stats)}
        parts = deployment.directory.parts
        folder = parts[parts.index("packages") + 1] if "packages" in parts else package
        TIMINGS[package]["tests_s"] = TEST_SECONDS.get(folder, 0.0)
    other = stats.get("other", {})
    TIMINGS["(tests and harness requests)"] = {"emulator_s": float(other.get("busy_s", 0.0))}
    TIMINGS["(emulator server process)"] = {"cpu_s": server.cpu_seconds()}
    (tool_dir() / REPORT).write_text(json.dumps(TIMINGS, indent=2, sort_keys=True) + "\n")
    (tool_dir() / CALL_REPORT).write_text(json.dumps(call_log(CALLS, stats), indent=1) + "\n")


def call_log(calls: list[Call], server: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """Every Terraform call in start order: stack folder, command, offset from the first call's
    start, span, CPU, its split (:func:`split`) and its slowest resources, to find the rung's
    critical path and what on it waits."""
    if not calls:
        return []
    origin = min(c.started for c in calls)
    found = []
    for call in sorted(calls, key=lambda c: c.started):
        figures = split([call], server)
        found.append(
            {
                "stack": call.workdir.name,
                "command": call.command,
                "start_s": round(call.started - origin, 1),
                "span_s": round(call.ended - call.started, 1),
                "cpu_s": round(call.cpu_s, 1),
                "startup_s": round(figures["startup_s"], 1),
                "waits_s": round(figures["provider_waits_s"], 1),
                "slowest": [[address, seconds] for address, seconds in call.slowest],
            }
        )
    return found


def lines() -> list[str]:
    """One summary line per package, then :data:`NOTES`."""
    order = ("synthesis_s", "apply_s", "replan_s", "tests_s", "destroy_s", "startup_s", "provider_waits_s", "cpu_s")
    found: list[str] = []
    for package, figures in TIMINGS.items():
        shown: dict[str, Any] = {k: figures[k] for k in (*order, "emulator_s", "terraform_cpu_s") if k in figures}
        found.append(f"emulator {package}: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in shown.items()))
    return found + NOTES
