"""Configuration: both environment files load; bad values fail synthesis with one clear line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from pci_platform.config import Settings
from platform_tooling.synth import main
from shared_constructs.settings import load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"
VALID = """
environment = "dev"
environment_suffix = "t1"
cost_center = "payments"
owner = "pci-team"
account_id = "123456789012"
deployer_role_arn = "arn:aws:iam::123456789012:role/pci-deployer"
[application]
certificate_arn = "arn:aws:acm:ap-southeast-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
[secrets]
database_secret_name = "pci/t1/database"
master_secret_name = "pci/t1/database-master"
"""


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_environment_files_load(name: str) -> None:
    settings = load_settings(Settings, CONFIG / f"{name}.toml")
    assert settings.region == "ap-southeast-1"
    assert settings.secrets.database_secret_name == f"pci-platform/{name}/database"


def test_prod_protects_stateful_resources() -> None:
    assert load_settings(Settings, CONFIG / "prod.toml").protect_stateful is True


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[network]\nworkload_subnets = ["10.60.0.0/20", "10.60.16.0/20"]',
            "network: got {'workload_subnets': ['10.60.0.0/20', '10.60.16.0/20']}; expected 3 subnets per tier",
        ),
        (
            '[network]\nendpoint_subnets = ["10.61.0.0/24", "10.60.50.0/24", "10.60.51.0/24"]',
            "subnets ['10.61.0.0/24'] are outside the VPC network 10.60.0.0/16",
        ),
        (
            '[network]\nendpoint_subnets = ["10.60.0.0/24", "10.60.50.0/24", "10.60.51.0/24"]',
            "subnets overlap: [('10.60.0.0/20', '10.60.0.0/24')]",
        ),
        ('[network]\ncidr = "10.60.0.1/16"', "network.cidr: got '10.60.0.1/16'; expected an IPv4 network"),
        (
            '[firewall]\nallowed_domains = ["example.com"]',
            "allowed_domains must be AWS service endpoints (*.amazonaws.com), got ['example.com']",
        ),
        (
            '[firewall]\nallowed_domains = ["kms.us-east-1.amazonaws.com"]',
            "firewall domains ['kms.us-east-1.amazonaws.com'] are not endpoints of region 'ap-southeast-1'",
        ),
        ("[data]\ncardholder_retention_days = 0", "data.cardholder_retention_days: got 0"),
        (
            '[app_settings]\npartner-api-key = "abc123"',
            "app_settings ['partner-api-key'] look like secrets, and configuration is kept in git",
        ),
        ("[app_secrets]\nsigning-key = { generate = 8 }", "app_secrets.signing-key.generate: got 8"),
        (
            '[app_secrets]\nsigning-key = { generate = 32, parameter = "/ops/x" }',
            "give exactly one of generate (a length) or parameter (an existing parameter's name)",
        ),
        (
            '[dns]\nstandby_dns_name = "dr.example.internal"',
            "dns.standby_alarm_name is required with dns.standby_dns_name",
        ),
        ('approved_regions = ["us-east-1"]', "region 'ap-southeast-1' must be one of approved_regions ['us-east-1']"),
        ('region = "mars-1"', "region: got 'mars-1'; expected an AWS region code"),
        ("[processing]\nreserved_concurrency = 0", "processing.reserved_concurrency: got 0"),
        ('[waf]\nblocked_countries = ["North Korea"]', "blocked_countries must be ISO 3166 alpha-2 codes"),
        ("[database]\nmin_capacity = 4\nmax_capacity = 2", "max_capacity 2.0 is below min_capacity 4.0"),
        ("firewall_rules = 1", "firewall_rules: unknown key"),
    ],
)
def test_fails_on_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, expected: str) -> None:
    top, _, tables = VALID.partition("[application]")
    text = f"{top}\n{extra}\n[application]{tables}" if not extra.startswith("[") else f"{VALID}\n{extra}\n"
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["pci-platform", "--config", str(path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert expected in errors[0]
    assert errors[0].startswith("error: bad.toml: ")


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        ("", "secrets: required key is missing"),
        (
            '[secrets]\ndatabase_secret_name = "bad name!"\nmaster_secret_name = "m"',
            "database_secret_name must be 1-512 of",
        ),
        (
            '[secrets]\ndatabase_secret_name = "a"\nmaster_secret_name = "m"\nrotation_days = 0',
            "secrets.rotation_days: got 0",
        ),
        (
            '[secrets]\ndatabase_secret_name = "a"\nmaster_secret_name = "m"\ndatabase_secret_kms_key = "key/x"',
            "database_secret_kms_key must be a KMS key ARN or alias/<name>, got 'key/x'",
        ),
        (
            '[secrets]\ndatabase_secret_name = "a"\nmaster_secret_name = "m"\n'
            'database_secret_kms_key = "alias/aws/secretsmanager"',
            "database_secret_kms_key must be a customer-managed key, got the AWS managed 'alias/aws/secretsmanager'",
        ),
        (
            '[secrets]\ndatabase_secret_name = "a"\nmaster_secret_name = "a"',
            "master_secret_name must name another secret",
        ),
    ],
)
def test_fails_on_bad_secret_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secrets: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(VALID.partition("[secrets]")[0] + secrets + "\n")
    assert main(["pci-platform", "--config", str(path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert expected in errors[0]


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        (
            'certificate_arn = "arn:aws:acm:ap-southeast-1:1:certificate/x"',
            "certificate_arn must be an ACM certificate or IAM server-certificate ARN",
        ),
        (
            'certificate_arn = "arn:aws:iam::123456789012:server-certificate/c"\nclient_cidrs = ["0.0.0.0/0"]',
            "client_cidrs must not contain 0.0.0.0/0",
        ),
        (
            'certificate_arn = "arn:aws:iam::123456789012:server-certificate/c"\nbatch_min = 3\nbatch_max = 2',
            "batch_min 3 exceeds batch_max 2",
        ),
    ],
)
def test_fails_on_bad_application_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], application: str, expected: str
) -> None:
    top, _, rest = VALID.partition("[application]")
    path = tmp_path / "bad.toml"
    path.write_text(f"{top}[application]\n{application}\n[secrets]{rest.partition('[secrets]')[2]}")
    assert main(["pci-platform", "--config", str(path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert expected in errors[0]
