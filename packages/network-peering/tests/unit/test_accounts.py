"""Every resource is created in the account of the side it belongs to: a resource may refer to a
resource of the other provider only where the peering itself crosses accounts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

REFERENCE = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)\.")

# (type of the referring resource, type of the referenced resource): the only crossings allowed.
CROSSINGS = {
    ("aws_vpc_peering_connection", "aws_vpc"),  # peer_vpc_id: the analytics VPC
    ("aws_vpc_peering_connection_accepter", "aws_vpc_peering_connection"),  # accepts trading's request
    ("aws_vpc_peering_connection_options", "aws_vpc_peering_connection_accepter"),  # trading sets its options
    ("aws_route", "aws_vpc_peering_connection_accepter"),  # trading routes wait for the acceptance
}


@pytest.mark.requirement("DEP-10")
def test_resources_refer_across_accounts_only_through_the_peering(stack: dict[str, Any]) -> None:
    providers = {
        (type_, name): body.get("provider", "aws")
        for type_, items in stack["resource"].items()
        for name, body in items.items()
    }
    crossings = set()
    for (type_, name), provider in providers.items():
        body = dict(stack["resource"][type_][name])
        body.pop("//", None)
        for target in REFERENCE.findall(json.dumps(body)):
            if target in providers and providers[target] != provider:
                crossings.add((type_, target[0]))
    assert crossings == CROSSINGS


def test_every_analytics_named_resource_uses_the_analytics_provider(stack: dict[str, Any]) -> None:
    wrong = [
        f"{type_}.{name}"
        for type_, items in stack["resource"].items()
        for name, body in items.items()
        if name.startswith("analytics_") and body.get("provider") != "aws.use2analytics"
    ]
    assert wrong == []
    trading = [
        f"{type_}.{name}"
        for type_, items in stack["resource"].items()
        for name, body in items.items()
        if name.startswith("trading_") and body.get("provider", "aws") != "aws"
    ]
    assert trading == []
