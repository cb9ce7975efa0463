"""Bad input fails synthesis with exit status 2 and one ``error:`` line naming the key and value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from network_peering.settings import Settings, octet_prefix
from platform_tooling.synth import main
from shared_constructs.settings import SettingsError, load_settings

DEV = Path(__file__).resolve().parents[2] / "config" / "dev.toml"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


def write_config(tmp_path: Path, changes: dict[str, object]) -> Path:
    """config/dev.toml with ``changes`` ({"section.key": value} or {"key": value}) applied."""
    data = tomllib.loads(DEV.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *sections, key = dotted.split(".")
        target = data
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value
    lines: list[str] = []

    def emit(prefix: str, table: dict[str, object]) -> None:
        if prefix:
            lines.append(f"[{prefix}]")
        for key, value in table.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {_toml(value)}")
        for key, value in table.items():
            if isinstance(value, dict):
                emit(f"{prefix}.{key}" if prefix else key, value)

    emit("", data)
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BAD = {
    "overlapping_vpc_cidrs": (
        {
            "analytics.vpc_cidr": "10.0.0.0/16",
            "analytics.subnet_cidrs": ["10.0.0.0/20"],
            "analytics.peered_subnet_cidrs": [],
        },
        "analytics.vpc_cidr: got '10.0.0.0/16'; expected a CIDR that does not overlap trading.vpc_cidr 10.0.0.0/16",
    ),
    "subnet_outside_vpc": (
        {"trading.subnet_cidrs": ["10.0.0.0/20", "10.0.16.0/20", "10.9.0.0/20"]},
        "trading.subnet_cidrs[2]: got '10.9.0.0/20'; expected a subnet inside vpc_cidr 10.0.0.0/16",
    ),
    "malformed_account_id": (
        {"trading.account_id": "12345"},
        "trading.account_id: got '12345'; expected a 12-digit AWS account id",
    ),
    "account_id_not_trading": (
        {"account_id": "111111111111"},
        "account_id: got '111111111111'; expected trading.account_id 123456789012",
    ),
    "malformed_role_arn": (
        {"analytics.assume_role_arn": "arn:aws:iam::210987654321:user/deployer"},
        "analytics.assume_role_arn: got 'arn:aws:iam::210987654321:user/deployer'; expected an IAM role ARN",
    ),
    "role_in_other_account": (
        {"analytics.assume_role_arn": "arn:aws:iam::123456789012:role/deployer"},
        "analytics.assume_role_arn: got 'arn:aws:iam::123456789012:role/deployer'; "
        "expected a role in account_id 210987654321",
    ),
    "same_account_without_saying_so": (
        {"analytics.account_id": "123456789012", "analytics.assume_role_arn": "arn:aws:iam::123456789012:role/d"},
        "analytics.account_id: got '123456789012'; expected an account other than trading.account_id",
    ),
    "peered_subnet_not_a_subnet": (
        {"analytics.peered_subnet_cidrs": ["10.1.64.0/20"]},
        "analytics.peered_subnet_cidrs[0]: got '10.1.64.0/20'; expected one of subnet_cidrs",
    ),
    "flow_log_interval_five_minutes": (
        {"flow_log_interval_s": 300},
        "flow_log_interval_s: got 300; Input should be 60 or 600",
    ),
    "nat_without_public_subnet": (
        {"trading.nat_gateway": True},
        "trading.public_subnet_cidr: got None; required when nat_gateway = true",
    ),
    "adopt_with_missing_ids": (
        {
            "trading.adopt": {
                "vpc_id": "vpc-0123456789abcdef0",
                "subnet_ids": ["subnet-0123456789abcdef0"],
                "route_table_ids": ["rtb-0123456789abcdef0", "rtb-0123456789abcdef1", "rtb-0123456789abcdef2"],
            }
        },
        "trading.adopt.subnet_ids: got ['subnet-0123456789abcdef0']; expected 3 ids, one per subnet_cidrs entry",
    ),
    "zone_of_another_region": (
        {"analytics.availability_zones": ["us-east-2a", "us-east-1b", "us-east-2c"]},
        "analytics.availability_zones[1]: got 'us-east-1b'; expected a zone of us-east-2 such as us-east-2a",
    ),
    "operator_in_other_account": (
        {"trading.peering_operator_arn": "arn:aws:iam::210987654321:role/operator"},
        "trading.peering_operator_arn: got 'arn:aws:iam::210987654321:role/operator'; "
        "expected a role in account_id 123456789012",
    ),
    "unknown_key": ({"trading.vpc_cidrs": "10.0.0.0/16"}, "trading.vpc_cidrs: unknown key"),
    "committed_external_id": (
        {"analytics.external_id": "trading-to-analytics-peering"},
        "analytics.external_id: got 'trading-to-analytics-peering'; expected no external id in a configuration "
        "file (it would be committed); set TF_VAR_analytics_external_id",
    ),
}


@pytest.mark.requirement("PEER-C8")
@pytest.mark.parametrize("case", sorted(BAD), ids=sorted(BAD))
def test_fails_bad_config(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changes, expected = BAD[case]
    path = write_config(tmp_path, changes)
    assert main(["network-peering", "--config", str(path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert f"error: bad.toml: {expected}" in errors[0]


@pytest.mark.requirement("PEER-7")
def test_fails_without_a_peering_operator(tmp_path: Path) -> None:
    path = write_config(tmp_path, {})
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("peering_operator_arn")]
    assert len(kept) == len(lines) - 1
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(Settings, path)
    assert [line.split(": ", 1)[1] for line in caught.value.problems] == [
        "trading.peering_operator_arn: required key is missing"
    ]


def test_same_account_is_accepted_when_allowed(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "allow_same_account": True,
            "analytics.account_id": "123456789012",
            "analytics.assume_role_arn": "arn:aws:iam::123456789012:role/deployer",
        },
    )
    settings = load_settings(Settings, path)
    assert settings.analytics.account_id == settings.trading.account_id == "123456789012"


def test_fails_with_every_problem_listed(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "analytics.vpc_cidr": "10.0.0.0/16",
            "trading.subnet_cidrs": ["10.5.0.0/20"],
            "trading.peered_subnet_cidrs": [],
        },
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(Settings, path)
    keys = sorted(line.split(": ")[1] for line in caught.value.problems)
    assert keys == [
        "analytics.subnet_cidrs[0]",
        "analytics.subnet_cidrs[1]",
        "analytics.subnet_cidrs[2]",
        "analytics.vpc_cidr",
        "trading.subnet_cidrs[0]",
    ]


def test_peered_subnets_default_to_all_subnets(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"trading.peered_subnet_cidrs": []})
    assert load_settings(Settings, path).trading.peered == ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]


@pytest.mark.parametrize(
    ("cidr", "prefix"),
    [("10.1.0.0/16", "10.1.*"), ("10.1.0.0/20", "10.1.*"), ("172.16.4.0/24", "172.16.4.*"), ("10.0.0.0/8", "10.*")],
)
def test_octet_prefix(cidr: str, prefix: str) -> None:
    assert octet_prefix(cidr) == prefix
