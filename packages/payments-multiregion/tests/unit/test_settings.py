"""Configuration: capacity sizing for 10,000 TPS, and every bad input failing with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from payments_multiregion.settings import Settings
from platform_tooling.synth import main
from shared_constructs.functions import CapacityError
from shared_constructs.settings import load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"
BASE = (CONFIG / "dev.toml").read_text()


@pytest.mark.requirement("PAY-C2")
def test_prod_example_sizes_concurrency_for_10000_tps() -> None:
    prod = load_settings(Settings, CONFIG / "prod.toml")
    assert prod.capacity.target_tps_global == 10_000
    # Three regions, one may fail: 10,000 / 2 = 5,000 TPS each x 0.15 s x 1.2 headroom = 900.
    assert prod.target_tps_per_region == 5_000
    assert {r: prod.transaction_concurrency(r) for r in prod.regions} == {
        "us-east-1": 900,
        "eu-west-1": 900,
        "ap-southeast-1": 900,
    }


@pytest.mark.requirement("PAY-C2")
def test_fails_capacity_that_cannot_carry_the_target(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_text(
        BASE.replace("[regional]\n", "[regional]\ntransaction_concurrency = 100\n").replace(
            "target_tps_global = 10\n", "target_tps_global = 10000\n"
        )
    )
    settings = load_settings(Settings, path)
    with pytest.raises(CapacityError) as caught:
        settings.transaction_concurrency("us-east-1")
    assert str(caught.value) == (
        "transaction function in us-east-1: reserved concurrency 100 cannot carry 5000 TPS at 0.15 s per request "
        "with headroom 1.2: needs ceil(5000 x 0.15 x 1.2) = 900"
    )


def test_fails_synthesis_when_capacity_is_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dev.toml"
    path.write_text(
        BASE.replace(
            'currencies = ["EUR", "GBP"]\n', 'currencies = ["EUR", "GBP"]\ntransaction_concurrency = 1\n'
        ).replace("target_tps_global = 10\n", "target_tps_global = 100\n")
    )
    assert main(["payments-multiregion", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error: transaction function in eu-west-1: reserved concurrency 1 cannot carry 50 TPS" in err
    assert "needs ceil(50 x 0.15 x 1.2) = 9" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('primary_region = "us-east-1"', 'primary_region = "us-west-2"'),
            "primary_region: got 'us-west-2'; expected one of regions",
        ),
        (
            (
                'regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]',
                'regions = ["us-east-1", "eu-west-1", "eu-west-1"]',
            ),
            "regions: got ['us-east-1', 'eu-west-1', 'eu-west-1']; expected at least one region, none of them twice",
        ),
        (
            ("[region_overrides.eu-west-1]", "[region_overrides.eu-central-1]"),
            "region_overrides.eu-central-1: got {'currencies': ['EUR', 'GBP'], 'api_rate_limit': 25}; expected a region of",
        ),
        (
            ("api_rate_limit = 25", "api_rate_limt = 25"),
            "region_overrides.eu-west-1.api_rate_limt: got 25; Extra inputs are not permitted",
        ),
        (
            ('currencies = ["EUR", "GBP"]', 'currencies = ["euro"]'),
            "region_overrides.eu-west-1.currencies: got ['euro']; expected ISO 4217",
        ),
        (
            ('domain = "payments-dev.example.com"', 'domain = "Payments Dev"'),
            "dns.domain: got 'Payments Dev'; expected a lowercase DNS domain",
        ),
        (('type = "STANDARD"', 'type = "FAST"'), "workflow.type: got 'FAST'"),
    ],
)
def test_fails_bad_configuration_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], message: str
) -> None:
    assert change[0] in BASE
    path = tmp_path / "dev.toml"
    path.write_text(BASE.replace(*change))
    assert main(["payments-multiregion", "--config", str(path)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, lines
    assert message in lines[0]
