"""A region override (config/dev.toml: eu-west-1) takes effect in that region only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import only, resources

from ..conftest import SHORT


@pytest.mark.parametrize(
    ("region", "rate", "currencies"),
    [
        ("us-east-1", 50, "USD,EUR,GBP,JPY,SGD,AUD"),
        ("eu-west-1", 25, "EUR,GBP"),
        ("ap-southeast-1", 50, "USD,EUR,GBP,JPY,SGD,AUD"),
    ],
)
def test_override_applies_to_one_region_only(stacks: dict[str, Any], region: str, rate: int, currencies: str) -> None:
    stack = stacks[f"payments-{region}"]
    settings = only(stack, "aws_api_gateway_method_settings", method_path="*/*")["settings"]
    assert settings["throttling_rate_limit"] == rate
    assert settings["throttling_burst_limit"] == 100
    fn = only(stack, "aws_lambda_function", function_name=f"payments-transaction-{SHORT[region]}-dev")
    assert fn["environment"]["variables"]["CURRENCIES"] == currencies


@pytest.mark.requirement("PAY-C5")
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-1"])
def test_every_region_is_tagged_with_its_region(stacks: dict[str, Any], region: str) -> None:
    provider = stacks[f"payments-{region}"]["provider"]["aws"][0]
    tags = provider["default_tags"][0]["tags"]
    assert provider["region"] == region
    assert (tags["Region"], tags["Environment"], tags["CostCenter"]) == (region, "dev", "payments")


def test_draining_one_region_inverts_only_its_health_check(synth: Callable[..., SynthResult]) -> None:
    drained = synth("payments-multiregion", overrides={"region_overrides": {"ap-southeast-1": {"in_service": False}}})
    inverted = {
        name: next(iter(resources(stack, "aws_route53_health_check").values()))["invert_healthcheck"]
        for name, stack in drained.stacks.items()
        if name not in ("payments-global", "payments-links")
    }
    assert inverted == {"payments-us-east-1": False, "payments-eu-west-1": False, "payments-ap-southeast-1": True}
