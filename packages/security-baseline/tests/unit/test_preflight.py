"""Preflight against the emulator (moto on 127.0.0.1 and a free port, stopped here) holding singletons
that existed before the baseline: what it finds in each account and region, the adopt settings it
prints, and synthesis refusing ``create`` where it found one (and accepting the printed settings)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.emulator import Emulator
from platform_tooling.testing.query import resources
from security_baseline import preflight
from shared_constructs.settings import SettingsError

PLATFORM = "123456789012"
ANALYTICS_ROLE = "arn:aws:iam::210987654321:role/security-baseline-deployer"
TRAIL_LOGS = "/org/trail"


def _seed(server: Emulator) -> dict[str, str]:
    """What an operator found: in the platform account's us-east-1 a detector, a recorder and its
    channel, Security Hub and a multi-region trail; in eu-west-1 a detector this package made
    (tagged); in the analytics account's us-east-2 a detector and Security Hub."""
    home = server.session("us-east-1")
    foreign = home.client("guardduty", endpoint_url=server.endpoint).create_detector(Enable=True)["DetectorId"]
    config = home.client("config", endpoint_url=server.endpoint)
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": f"arn:aws:iam::{PLATFORM}:role/config"}
    )
    home.client("s3", endpoint_url=server.endpoint).create_bucket(Bucket="preflight-found")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "preflight-found"})
    home.client("securityhub", endpoint_url=server.endpoint).enable_security_hub()
    home.client("logs", endpoint_url=server.endpoint).create_log_group(logGroupName=TRAIL_LOGS)
    home.client("cloudtrail", endpoint_url=server.endpoint).create_trail(
        Name="org-trail",
        S3BucketName="preflight-found",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{PLATFORM}:log-group:{TRAIL_LOGS}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{PLATFORM}:role/trail-logs",
    )
    server.client("guardduty", "eu-west-1").create_detector(Enable=True, Tags={"App": "security-baseline"})
    analytics = server.session("us-east-2", ANALYTICS_ROLE)
    other = analytics.client("guardduty", endpoint_url=server.endpoint).create_detector(Enable=True)["DetectorId"]
    analytics.client("securityhub", endpoint_url=server.endpoint).enable_security_hub()
    return {"platform": foreign, "analytics": other}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """The seeded emulator scanned by ``preflight.main`` for config/dev.toml: (result file, printed
    output, detector ids seeded)."""
    server = Emulator()
    patch = pytest.MonkeyPatch()
    try:
        detectors = _seed(server)
        patch.setenv("AWS_ENDPOINT_URL", server.endpoint)  # boto3 sends every client there
        out = tmp_path_factory.mktemp("preflight") / "dev.preflight.json"
        printed: list[str] = []
        patch.setattr("builtins.print", lambda *args, **_: printed.append(" ".join(map(str, args))))
        assert preflight.main(["--env", "dev", "--out", str(out)], session=server.session) == 0
        yield out, "\n".join(printed), detectors
    finally:
        patch.undo()
        server.stop()


@pytest.mark.requirement("SEC-D6", "DEP-3")
def test_preflight_finds_what_exists_in_each_account_and_region(scanned: tuple[Path, str, dict[str, str]]) -> None:
    out, _, detectors = scanned
    accounts = json.loads(out.read_text())["accounts"]
    assert {label: a["id"] for label, a in accounts.items()} == {"platform": PLATFORM, "analytics": "210987654321"}
    home = accounts["platform"]["regions"]["us-east-1"]
    assert home == {
        "detector_id": detectors["platform"],
        "recorder_name": "default",
        "delivery_channel": "default",
        "hub": True,
        "trail_name": "org-trail",
        "trail_log_group": TRAIL_LOGS,
    }
    empty = {k: None for k in home} | {"hub": False}
    # eu-west-1's detector is this package's own (tagged App = security-baseline): not in the way.
    for region in ("us-east-2", "eu-west-1", "ap-southeast-1"):
        assert accounts["platform"]["regions"][region] == empty, region
    assert accounts["analytics"]["regions"] == {
        "us-east-2": empty | {"detector_id": detectors["analytics"], "hub": True}
    }


def test_preflight_prints_the_settings_that_adopt_them(scanned: tuple[Path, str, dict[str, str]]) -> None:
    _, printed, detectors = scanned
    adopt = tomllib.loads(printed.split("\n", 1)[1])
    platform, analytics = adopt["accounts"]["platform"], adopt["accounts"]["analytics"]
    assert platform["region_overrides"]["us-east-1"] == {
        "guardduty": {"mode": "adopt", "detector_id": detectors["platform"]},
        "config_recorder": {"mode": "adopt", "recorder_name": "default"},
        "security_hub": {"mode": "adopt"},
    }
    assert platform["trail"] == {"mode": "adopt", "trail_name": "org-trail", "log_group_name": TRAIL_LOGS}
    assert analytics["region_overrides"] == {
        "us-east-2": {
            "guardduty": {"mode": "adopt", "detector_id": detectors["analytics"]},
            "security_hub": {"mode": "adopt"},
        }
    }


@pytest.mark.requirement("SEC-D6", "DEP-3")
def test_synthesis_refuses_create_where_preflight_found_a_singleton(
    synth: Callable[..., SynthResult], scanned: tuple[Path, str, dict[str, str]]
) -> None:
    out, _, detectors = scanned
    with pytest.raises(SettingsError) as refused:
        synth("security-baseline", overrides={"preflight": str(out)})
    platform, analytics = (
        "accounts.platform.region_overrides.us-east-1",
        "accounts.analytics.region_overrides.us-east-2",
    )
    assert sorted(refused.value.problems) == sorted(
        [
            f"{platform}.guardduty: detector {detectors['platform']} exists; set mode = 'adopt' and detector_id",
            f"{platform}.config_recorder: default exists; set mode = 'adopt' and recorder_name",
            f"{platform}.security_hub: Security Hub is enabled; set mode = 'adopt'",
            "accounts.platform.trail: trail org-trail exists; set mode = 'adopt'",
            f"{analytics}.guardduty: detector {detectors['analytics']} exists; set mode = 'adopt' and detector_id",
            f"{analytics}.security_hub: Security Hub is enabled; set mode = 'adopt'",
        ]
    )


def test_synthesis_accepts_the_printed_adopt_settings(
    synth: Callable[..., SynthResult], scanned: tuple[Path, str, dict[str, str]]
) -> None:
    out, printed, _ = scanned
    adopt: dict[str, Any] = tomllib.loads(printed.split("\n", 1)[1])
    stacks = synth("security-baseline", overrides={"preflight": str(out), **adopt}).stacks
    home = stacks[f"security-baseline-{PLATFORM}-us-east-1"]
    for kind in (
        "aws_guardduty_detector",
        "aws_config_configuration_recorder",
        "aws_securityhub_account",
        "aws_cloudtrail",
    ):
        assert resources(home, kind) == {}, kind
    filters = resources(home, "aws_cloudwatch_log_metric_filter").values()
    assert len(filters) == 14
    assert {f["log_group_name"] for f in filters} == {TRAIL_LOGS}
    # Where nothing was found, the package still creates its own.
    assert len(resources(stacks[f"security-baseline-{PLATFORM}-eu-west-1"], "aws_guardduty_detector")) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"detector_id": None}, "accounts.platform.region_overrides.us-east-1.guardduty.detector_id:"),
        ({"hub": False}, "accounts.platform.region_overrides.us-east-1.security_hub: mode 'adopt' but"),
        ({"trail_name": "another"}, "accounts.platform.trail.trail_name: no multi-region trail of that name"),
    ],
)
def test_fails_when_adopt_names_what_preflight_did_not_find(
    scanned: tuple[Path, str, dict[str, str]], change: dict[str, Any], expected: str
) -> None:
    out, printed, _ = scanned
    from security_baseline.settings import Settings
    from shared_constructs.settings import load_settings

    adopt = tomllib.loads(printed.split("\n", 1)[1])
    settings = load_settings(Settings, preflight.CONFIG / "dev.toml", adopt)
    result = preflight.PreflightResult.model_validate_json(out.read_text())
    found = result.accounts["platform"].regions["us-east-1"].model_copy(update=change)
    result.accounts["platform"].regions["us-east-1"] = found
    with pytest.raises(SettingsError) as refused:
        preflight.check(settings, result)
    assert [p for p in refused.value.problems if p.startswith(expected)], refused.value.problems
