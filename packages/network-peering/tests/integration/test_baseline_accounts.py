"""security-baseline in both accounts of the peering, on the emulator: each side's account and region
has the baseline's GuardDuty detector and a recording Config recorder, and the side's Config rules
evaluate there, as the deployed rule function's role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from network_peering.settings import Settings
from platform_tooling.testing.emulator import Deployment
from shared_constructs.regions import short_region
from shared_constructs.settings import load_settings

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(Settings, PACKAGE_DIR / "config" / "dev.toml")
SIDES = {"trading": SETTINGS.trading, "analytics": SETTINGS.analytics}
RECORDERS = {
    # security-baseline's names: its deployer's account plain, another account with its label.
    "trading": "security-baseline-recorder-use1-dev",
    "analytics": "baseline-analytics-recorder-use2-dev",
}


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


@pytest.mark.parametrize("label", sorted(SIDES))
def test_the_baseline_records_and_watches_each_account(deployment: Deployment, label: str) -> None:
    side = SIDES[label]
    config = deployment.client("config", side.region, side.assume_role_arn)
    (status,) = config.describe_configuration_recorder_status(ConfigurationRecorderNames=[RECORDERS[label]])[
        "ConfigurationRecordersStatus"
    ]
    assert status["recording"] is True
    assert len(config.describe_delivery_channels()["DeliveryChannels"]) == 1
    guardduty = deployment.client("guardduty", side.region, side.assume_role_arn)
    (detector,) = guardduty.list_detectors()["DetectorIds"]
    assert guardduty.get_detector(DetectorId=detector)["Tags"]["App"] == "security-baseline"
    trails = deployment.client("cloudtrail", side.region, side.assume_role_arn).describe_trails()["trailList"]
    assert [t["IsMultiRegionTrail"] for t in trails if t["Name"].endswith("-account-dev")] == [True]


@pytest.mark.parametrize("label", sorted(SIDES))
def test_the_security_group_rule_evaluates_in_each_account_as_its_role(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    """Each side's rule function, run as its deployed role in its own account over every group
    there (the periodic run): the side's peering group complies with the rule's own parameters."""
    side = SIDES[label]
    code = short_region(side.region)
    config = deployment.client("config", side.region, side.assume_role_arn)
    name = f"network-peering-{label}-sg-ports-{code}-dev"
    (rule,) = config.describe_config_rules(ConfigRuleNames=[name])["ConfigRules"]
    invoking = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-30T10:00:00.000Z"}
    event = {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": rule["InputParameters"],
        # moto records evaluations only in test mode; the call is still authorized as the role.
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "configRuleName": name,
        "accountId": side.account_id,
    }
    function = f"network-peering-{label}-sg-rule-{code}-dev"
    result = deployment.run_handler(
        function, event, folder="peering_sg_rule", region=side.region, role_arn=side.assume_role_arn
    )
    verdicts = {e["ComplianceResourceId"]: e["ComplianceType"] for e in result["evaluations"]}
    assert verdicts[outputs[f"{label}_security_group_id"]] == "COMPLIANT", result
    assert "NON_COMPLIANT" not in verdicts.values(), result
