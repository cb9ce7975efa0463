"""The failover time (RTO) from configuration: at most 5 minutes in every environment, and the
README states the computed figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from payments_multiregion.failover import (
    ALARM_PERIOD_S,
    ALIAS_TTL_S,
    CANARY_INTERVAL_S,
    HEALTH_TIMEOUT_S,
    RTO_LIMIT_S,
    check_failover_time,
    failover_time,
)
from payments_multiregion.settings import Settings
from shared_constructs.settings import load_settings

PACKAGE = Path(__file__).resolve().parents[2]
CONFIGS = sorted((PACKAGE / "config").glob("*.toml"))
ROW = re.compile(
    r"^\| `(?P<env>[a-z0-9-]+)` \| (?P<threshold>\d+) \| (?P<detection>\d+) s \| (?P<ttl>\d+) s \| \*\*(?P<rto>\d+) s\*\* \|$"
)


def test_environments_exist() -> None:
    assert [c.stem for c in CONFIGS] == ["dev", "prod"]


@pytest.mark.requirement("DR-4", "DR-C12")
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.stem)
def test_failover_within_five_minutes_in_every_environment(config: Path) -> None:
    settings = load_settings(Settings, config)
    time = failover_time(settings.dns.health_check_failure_threshold)
    assert time.total_s <= RTO_LIMIT_S == 300
    threshold = settings.dns.health_check_failure_threshold
    assert time.total_s == ALARM_PERIOD_S + threshold * ALARM_PERIOD_S + 30 + ALIAS_TTL_S


def test_canary_cannot_outlast_its_period() -> None:
    assert HEALTH_TIMEOUT_S < CANARY_INTERVAL_S == ALARM_PERIOD_S == 60


@pytest.mark.parametrize(("threshold", "total"), [(1, 210), (2, 270)])
def test_failover_time_by_threshold(threshold: int, total: int) -> None:
    assert check_failover_time(threshold).total_s == total


@pytest.mark.parametrize(("threshold", "message"), [(3, "failover takes 330 s"), (10, "failover takes 750 s")])
def test_fails_a_threshold_beyond_five_minutes(threshold: int, message: str) -> None:
    with pytest.raises(ValueError, match=f"health_check_failure_threshold {threshold}: {message}"):
        check_failover_time(threshold)


def test_fails_settings_beyond_five_minutes() -> None:
    with pytest.raises(ValueError, match="failover takes 330 s"):
        Settings.model_validate(
            {
                "environment": "dev",
                "environment_suffix": "dev",
                "cost_center": "payments",
                "owner": "payments-team",
                "deployer_role_arn": "arn:aws:iam::123456789012:role/deployer",
                "dns": {"health_check_failure_threshold": 3},
            }
        )


@pytest.mark.requirement("DR-4")
def test_readme_states_the_computed_rto_of_every_environment() -> None:
    rows = {m["env"]: m for line in (PACKAGE / "README.md").read_text().splitlines() if (m := ROW.match(line))}
    assert sorted(rows) == [c.stem for c in CONFIGS]
    for config in CONFIGS:
        threshold = load_settings(Settings, config).dns.health_check_failure_threshold
        time = failover_time(threshold)
        row = rows[config.stem]
        assert (int(row["threshold"]), int(row["detection"]), int(row["ttl"]), int(row["rto"])) == (
            threshold,
            time.detection_s,
            time.ttl_s,
            time.total_s,
        ), config.stem
