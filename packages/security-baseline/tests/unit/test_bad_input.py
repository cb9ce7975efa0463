"""Bad configuration: synthesis exits 2 with one readable ``error:`` line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_tooling.synth import main

BASE = """
environment = "dev"
environment_suffix = "dev"
cost_center = "security"
owner = "security-team"
deployer_role_arn = "arn:aws:iam::123456789012:role/security-baseline-deployer"
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('primary_region = "eu-west-3"\n', "primary_region: got 'eu-west-3'; expected one of regions"),
        ('regions = ["us-east-1", "us-east-1"]\n', "expected at least one region, none of them twice"),
        (
            'regions = ["us-east-1", "mars-north-1"]\n',
            "expected an AWS region code such as us-east-1, got 'mars-north-1'",
        ),
        ('[regional.guardduty]\nmode = "adopt"\n', "regional.guardduty.detector_id: got None; mode 'adopt' needs"),
        (
            '[regional.guardduty]\nmode = "adopt"\ndetector_id = "not-an-id"\n',
            "regional.guardduty.detector_id: got 'not-an-id'; expected 32 lowercase hex",
        ),
        (
            '[regional.guardduty]\nmode = "create"\ndetector_id = "0123456789abcdef0123456789abcdef"\n',
            "is only used with mode 'adopt'",
        ),
        ('[regional.guardduty]\nmode = "enable"\n', "regional.guardduty.mode: got 'enable'"),
        ('[regional.config_recorder]\nmode = "adopt"\n', "regional.config_recorder.recorder_name: got None"),
        ('[regional.security_hub]\nmode = "maybe"\n', "regional.security_hub.mode: got 'maybe'"),
        ('[regional.security_hub]\nstandards = ["nist"]\n', "regional.security_hub.standards[0]: got 'nist'"),
        ('[notifications]\nsecurity_emails = ["not-an-address"]\n', "expected an e-mail address"),
        ("[trail]\narchive_expiration_days = 30\n", "trail.archive_expiration_days: got 30"),
        ("[regional.guardduty]\nfindings_expiration_days = 0\n", "guardduty.findings_expiration_days: got 0"),
        (
            '[region_overrides.eu-west-1.guardduty]\nmode = "adopt"\n',
            "region_overrides.eu-west-1.guardduty.detector_id: got None; mode 'adopt' needs detector_id",
        ),
        (
            'regions = ["us-east-1"]\n[region_overrides.eu-west-1.guardduty]\nmode = "adopt"\n',
            "region_overrides.eu-west-1: got {'guardduty': {'mode': 'adopt'}}; expected a region of ['us-east-1']",
        ),
        (
            '[region_overrides.us-east-2.guardduty]\nfrequency = "ONE_HOUR"\n',
            "region_overrides.us-east-2.guardduty.frequency: got 'ONE_HOUR'; Extra inputs are not permitted",
        ),
        ("colour = 'blue'\n", "colour: unknown key"),
        # Remediation writes no tag value from settings (docs/decisions/0019-remediation-never-attests.md).
        ('[remediation.tag_defaults]\nOwner = "security-team"\n', "remediation.tag_defaults: unknown key"),
    ],
)
def test_fails_bad_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(BASE + extra)
    assert main(["security-baseline", "--config", str(config)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert expected in errors[0]
