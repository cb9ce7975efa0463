"""The multi-region settings base and the one way settings report problems across fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, model_validator
from shared_constructs.regions import PAYMENTS_REGIONS, PLATFORM_REGIONS
from shared_constructs.settings import (
    BaseSettings,
    MultiRegionSettings,
    PositiveInt,
    Problems,
    Region,
    SettingsError,
    Strict,
    load_settings,
)

VALID = """
environment = "dev"
environment_suffix = "dev"
cost_center = "payments"
owner = "platform"
account_id = "123456789012"
deployer_role_arn = "arn:aws:iam::123456789012:role/deployer"
"""


class Knobs(Strict):
    rate_limit: PositiveInt = 100
    currencies: list[str] = Field(default_factory=lambda: ["USD"])


class App(MultiRegionSettings[Knobs]):
    regions: tuple[Region, ...] = PAYMENTS_REGIONS
    primary_region: Region = PAYMENTS_REGIONS[0]


def load(tmp_path: Path, extra: str = "") -> App:
    path = tmp_path / "config" / "dev.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(VALID + extra)
    return load_settings(App, path)


def test_regions_default_and_every_region_gets_the_regional_values(tmp_path):
    settings = load(tmp_path)
    assert settings.regions == ("us-east-1", "eu-west-1", "ap-southeast-1")
    assert settings.secondary_regions == ("eu-west-1", "ap-southeast-1")
    assert settings.for_region("ap-southeast-1") == Knobs()


def test_an_override_changes_one_region_only(tmp_path):
    settings = load(tmp_path, '[regional]\nrate_limit = 50\n[region_overrides.eu-west-1]\ncurrencies = ["EUR"]\n')
    assert settings.for_region("eu-west-1") == Knobs(rate_limit=50, currencies=["EUR"])
    assert settings.for_region("us-east-1") == Knobs(rate_limit=50)


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (
            'regions = ["us-east-1", "us-east-1"]\n',
            "config/dev.toml: regions: got ['us-east-1', 'us-east-1']; expected at least one region, none of them twice",
        ),
        (
            'primary_region = "us-east-2"\n',
            "config/dev.toml: primary_region: got 'us-east-2'; expected one of regions "
            "['us-east-1', 'eu-west-1', 'ap-southeast-1']",
        ),
        (
            "[region_overrides.us-east-2]\nrate_limit = 5\n",
            "config/dev.toml: region_overrides.us-east-2: got {'rate_limit': 5}; expected a region of "
            "['us-east-1', 'eu-west-1', 'ap-southeast-1']",
        ),
        (
            "[region_overrides.eu-west-1]\nrate_limit = 0\n",
            "config/dev.toml: region_overrides.eu-west-1.rate_limit: got 0; Input should be greater than 0",
        ),
        (
            "[region_overrides.eu-west-1]\nburst = 5\n",
            "config/dev.toml: region_overrides.eu-west-1.burst: got 5; Extra inputs are not permitted",
        ),
    ],
)
def test_fails_with_one_line_per_problem_at_its_key(tmp_path, extra, line):
    with pytest.raises(SettingsError) as raised:
        load(tmp_path, extra)
    assert raised.value.problems == [line]


def test_fails_on_a_region_the_settings_do_not_deploy_to(tmp_path):
    with pytest.raises(ValueError, match="region 'us-east-2' is not one of regions"):
        load(tmp_path).for_region("us-east-2")


class Pair(BaseSettings):
    low: int = 1
    high: int = 2

    @model_validator(mode="after")
    def _ordered(self) -> Pair:
        problems = Problems()
        if self.low > self.high:
            problems.add(("low",), self.low, f"expected at most high ({self.high})")
            problems.add(("high",), self.high, f"expected at least low ({self.low})")
        problems.raise_if_any("Pair")
        return self


def test_problems_are_reported_together_each_at_its_key(tmp_path):
    path = tmp_path / "config" / "dev.toml"
    path.parent.mkdir()
    path.write_text(VALID + "low = 5\nhigh = 3\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(Pair, path)
    assert raised.value.problems == [
        "config/dev.toml: low: got 5; expected at most high (3)",
        "config/dev.toml: high: got 3; expected at least low (5)",
    ]


def test_platform_regions_are_every_apps_default_region_once():
    regions = PLATFORM_REGIONS
    assert regions == ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")
