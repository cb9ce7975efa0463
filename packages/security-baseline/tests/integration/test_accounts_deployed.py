"""The baseline of the analytics account on the emulator (reached through its deployment role, as
network-peering's analytics side is): its own detector, recorder, trail and topics, in that account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.emulator import Deployment

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
ANALYTICS = "210987654321"
ROLE = f"arn:aws:iam::{ANALYTICS}:role/security-baseline-deployer"
REGION = "us-east-2"


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def test_the_analytics_account_has_its_own_baseline(deployment: Deployment, outputs: dict[str, Any]) -> None:
    topic = outputs["security_topic_arn_use2_analytics"]
    assert topic.startswith(f"arn:aws:sns:{REGION}:{ANALYTICS}:baseline-analytics-security-")
    assert (
        outputs["trail_arn_analytics"]
        == f"arn:aws:cloudtrail:{REGION}:{ANALYTICS}:trail/baseline-analytics-account-dev"
    )
    # The platform account's us-east-2 stack is another one, in the other account.
    assert f":{ANALYTICS}:" not in outputs["security_topic_arn_use2"]
    guardduty = deployment.client("guardduty", REGION, ROLE)
    (detector,) = guardduty.list_detectors()["DetectorIds"]
    assert guardduty.get_detector(DetectorId=detector)["FindingPublishingFrequency"] == "SIX_HOURS"
    config = deployment.client("config", REGION, ROLE)
    (recorder,) = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is True  # its home region
    (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True
    (trail,) = deployment.client("cloudtrail", REGION, ROLE).describe_trails(
        trailNameList=[outputs["trail_arn_analytics"]]
    )["trailList"]
    assert (trail["IsMultiRegionTrail"], trail["LogFileValidationEnabled"]) == (True, True)
