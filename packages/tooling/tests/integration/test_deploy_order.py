"""The emulator rung deploys through the deployment engine (as ``nox -s deploy -- ... --target
emulator --yes`` does): a consumer deployed before its producer is refused, naming the producer,
the stack and the output; after the deployment a plan of every stack reports no changes."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from platform_tooling.testing.emulator import Deployment, refusals, verified_plans
from shared_constructs.contracts import security_baseline

PRODUCER = security_baseline.PACKAGE
PEERING = tomllib.loads(
    (Path(__file__).resolve().parents[3] / "network-peering" / "config" / "dev.toml").read_text(encoding="utf-8")
)
SIDES = {
    side: security_baseline.stack_name(PEERING[side]["region"], PEERING[side]["account_id"])
    for side in ("trading", "analytics")
}
"""The producer's stacks network-peering reads a security topic from: the baseline of each side's
account and region."""
TOPIC = security_baseline.SECURITY_TOPIC_ARN.name

pytestmark = pytest.mark.emulator


def test_the_consumer_is_refused_before_its_producer(deployment: Deployment):
    refused = refusals()
    assert "network-peering" in refused
    assert sorted(refused["network-peering"]) == sorted(
        f"network-peering/network-peering reads output {TOPIC!r} of {PRODUCER} stack {stack!r}, which has not "
        f"published it (it has no state yet ({stack}.tfstate)): deploy {PRODUCER} first"
        for stack in SIDES.values()
    )
    assert PRODUCER not in refused  # it reads nothing: deployed first, never refused


def test_a_plan_after_the_deployment_reports_no_changes(deployment: Deployment):
    plans = verified_plans()
    packages = {node.package for node in plans}
    assert {PRODUCER, "network-peering"} <= packages
    assert {str(n): p.counts() for n, p in plans.items() if not p.no_changes} == {}
    assert deployment.outputs["peering_connection_id"].startswith("pcx-")


def test_nox_deploy_refuses_the_consumer_on_a_fresh_emulator():
    """``nox -s deploy -- network-peering --target emulator --yes`` on its own: refused before any
    Terraform runs (exit 3), the producer, its stack and the output named."""
    command = [sys.executable, "-m", "platform_tooling.deploy", "deploy", "network-peering", "--target", "emulator"]
    done = subprocess.run([*command, "--yes"], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"reads output {TOPIC!r} of {PRODUCER} stack {SIDES['trading']!r}" in done.stderr
    assert f"deploy {PRODUCER} first" in done.stderr
