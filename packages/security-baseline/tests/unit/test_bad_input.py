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
account_id = "123456789012"
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
        # Accounts (one line each, naming the account's key).
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.analytics]\nid = "210987654321"\n',
            "accounts.analytics.assume_role_arn: got None; required: account 210987654321 is not account_id",
        ),
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.analytics]\nid = "210987654321"\nassume_role_arn = "arn:aws:iam::111111111111:role/deployer"\n',
            "accounts.analytics.assume_role_arn: got 'arn:aws:iam::111111111111:role/deployer'; expected a role in account 210987654321",
        ),
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.again]\nid = "123456789012"\n',
            "expected each account once; 123456789012 is listed twice",
        ),
        (
            '[accounts.analytics]\nid = "210987654321"\nassume_role_arn = "arn:aws:iam::210987654321:role/deployer"\n',
            "expected account_id 123456789012 among the accounts",
        ),
        (
            '[accounts.Trading]\nid = "123456789012"\n',
            "accounts.Trading: got {'id': '123456789012'}; expected a label of 1-15",
        ),
        ('[accounts.platform]\nid = "1234"\n', "accounts.platform.id: got '1234'; expected a 12-digit AWS account id"),
        (
            '[accounts.platform]\nid = "123456789012"\nregions = ["us-east-1"]\n[accounts.platform.region_overrides.eu-west-1.guardduty]\nmode = "adopt"\n',
            "accounts.platform.region_overrides.eu-west-1: got {'guardduty': {'mode': 'adopt'}}; expected a region of",
        ),
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.platform.region_overrides.us-east-1.guardduty]\nmode = "adopt"\n',
            "accounts.platform.region_overrides.us-east-1.guardduty.detector_id: got None; mode 'adopt' needs",
        ),
        (
            '[trail]\nmode = "adopt"\nlog_group_name = "/trail"\n',
            "trail.trail_name: got None; mode 'adopt' needs trail_name",
        ),
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.platform.trail]\nmode = "adopt"\ntrail_name = "org"\n',
            "accounts.platform.trail.log_group_name: got None; mode 'adopt' needs log_group_name",
        ),
        # Organizations mode names both accounts, and two different ones.
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.analytics]\nid = "210987654321"\nassume_role_arn = "arn:aws:iam::210987654321:role/deployer"\n[organization]\nenabled = true\nmanagement_account = "platform"\n',
            "organization.delegated_admin_account: got None; expected the label of one of accounts",
        ),
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.analytics]\nid = "210987654321"\nassume_role_arn = "arn:aws:iam::210987654321:role/deployer"\n[organization]\nenabled = true\nmanagement_account = "platform"\ndelegated_admin_account = "platform"\n',
            "organization.delegated_admin_account: got 'platform'; expected an account other than the management",
        ),
        (
            '[trail]\ndata_events_from = ["payments-multiregion"]\n',
            "trail.data_events_from[0]: got 'payments-multiregion'; expected one of ['pci-platform']",
        ),
        ("[regional.guardduty.protection]\nlambda = false\n", "regional.guardduty.protection.lambda: unknown key"),
        ('[regional.security_hub]\nnotify_severities = ["SEVERE"]\n', "notify_severities[0]: got 'SEVERE'"),
        (
            '[accounts.platform]\nid = "123456789012"\n[accounts.analytics]\nid = "210987654321"\nassume_role_arn = "arn:aws:iam::210987654321:role/deployer"\n[accounts.analytics.trail]\ndata_events_from = []\n',
            "accounts.analytics.trail.data_events_from: got []; expected only in account_id 123456789012's trail",
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
