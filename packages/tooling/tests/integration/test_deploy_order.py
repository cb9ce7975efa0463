"""The emulator rung deploys through the deployment engine (as ``nox -s deploy -- ... --target
emulator --yes`` does): a consumer deployed before its producer is refused, naming the producer,
the stack and the output; after the deployment a plan of every stack reports no changes."""

from __future__ import annotations

import pytest
from platform_tooling.testing.emulator import Deployment, refusals, verified_plans

pytestmark = pytest.mark.emulator


def test_the_consumer_is_refused_before_its_producer(deployment: Deployment):
    refused = refusals()
    assert "network-peering" in refused
    assert refused["network-peering"] == [
        "network-peering/network-peering reads output 'security_topic_arn' of security-baseline stack "
        "'security-baseline-us-east-1', which has not published it (it has no state yet "
        "(security-baseline-us-east-1.tfstate)): deploy security-baseline first"
    ]
    assert "security-baseline" not in refused  # it reads nothing: deployed first, never refused


def test_a_plan_after_the_deployment_reports_no_changes(deployment: Deployment):
    plans = verified_plans()
    packages = {node.package for node in plans}
    assert {"security-baseline", "network-peering"} <= packages
    assert {str(n): p.counts() for n, p in plans.items() if not p.no_changes} == {}
    assert deployment.outputs["peering_connection_id"].startswith("pcx-")
