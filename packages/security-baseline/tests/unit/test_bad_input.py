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
        ('home_region = "eu-west-3"\n', "home_region 'eu-west-3' must be one of regions"),
        ('regions = ["us-east-1", "us-east-1"]\n', "regions must be a non-empty list that does not repeat"),
        (
            'regions = ["us-east-1", "mars-north-1"]\n',
            "expected an AWS region code such as us-east-1, got 'mars-north-1'",
        ),
        ('[guardduty]\nmode = "adopt"\n', "mode 'adopt' needs detector_id"),
        ('[guardduty]\nmode = "adopt"\ndetector_id = "not-an-id"\n', "detector_id must be 32 lowercase hex"),
        (
            '[guardduty]\nmode = "create"\ndetector_id = "0123456789abcdef0123456789abcdef"\n',
            "is only used with mode 'adopt'",
        ),
        ('[guardduty]\nmode = "enable"\n', "guardduty.mode: got 'enable'"),
        ('[config_recorder]\nmode = "adopt"\n', "mode 'adopt' needs recorder_name"),
        ('[security_hub]\nmode = "maybe"\n', "security_hub.mode: got 'maybe'"),
        ('[security_hub]\nstandards = ["nist"]\n', "security_hub.standards[0]: got 'nist'"),
        ('[notifications]\nsecurity_emails = ["not-an-address"]\n', "expected an e-mail address"),
        ("[trail]\narchive_expiration_days = 30\n", "trail.archive_expiration_days: got 30"),
        ("[guardduty]\nfindings_expiration_days = 0\n", "guardduty.findings_expiration_days: got 0"),
        (
            '[region_overrides.eu-west-1.guardduty]\nmode = "adopt"\n',
            "region_overrides.eu-west-1.guardduty: mode 'adopt' needs detector_id",
        ),
        (
            'regions = ["us-east-1"]\n[region_overrides.eu-west-1.guardduty]\nmode = "adopt"\n',
            "name regions not in regions",
        ),
        (
            '[region_overrides.us-east-2.guardduty]\nfrequency = "ONE_HOUR"\n',
            "frequency: Extra inputs are not permitted",
        ),
        ("colour = 'blue'\n", "colour: unknown key"),
    ],
)
def test_fails_bad_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(BASE + extra)
    assert main(["security-baseline", "--config", str(config)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert expected in errors[0]
