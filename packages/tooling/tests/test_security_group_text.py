"""Security group and rule descriptions in the character set EC2 accepts, over every app and
environment: the provider checks it only when it applies, so a bad one fails mid-deployment."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import resources

ROOT = Path(__file__).resolve().parents[3]
APPS = sorted(p.parent.name for p in ROOT.glob("packages/*/cdktf.json"))
ENVIRONMENTS = [(app, p.stem) for app in APPS for p in sorted((ROOT / "packages" / app / "config").glob("*.toml"))]
ACCEPTED = re.compile(r"^[0-9A-Za-z_ .:/()#,@\[\]+=&;{}!$*-]{0,255}$")
"""What EC2 accepts in a security group's and a rule's description (the provider's own check)."""
RULE_TYPES = ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def refused(stack: dict[str, Any]) -> list[str]:
    found = []
    for name, group in resources(stack, "aws_security_group").items():
        texts = [group.get("description")] + [
            r.get("description") for d in ("ingress", "egress") for r in group.get(d) or []
        ]
        found += [f"{name}: {t!r}" for t in texts if t is not None and not ACCEPTED.fullmatch(t)]
    for kind in RULE_TYPES:
        for name, rule in resources(stack, kind).items():
            text = rule.get("description")
            if text is not None and not ACCEPTED.fullmatch(text):
                found.append(f"{kind}.{name}: {text!r}")
    return found


@pytest.mark.parametrize(("app", "environment"), ENVIRONMENTS, ids=[f"{a}-{e}" for a, e in ENVIRONMENTS])
def test_security_group_descriptions_are_what_ec2_accepts(
    synth: Callable[..., SynthResult], app: str, environment: str
) -> None:
    stacks = synth(app, environment=environment).stacks
    assert [f"{stack}/{line}" for stack, document in stacks.items() for line in refused(document)] == []


def test_refused_finds_an_apostrophe_in_a_rule_description() -> None:
    group = {"description": "ok", "ingress": [{"description": "the balancer's traffic"}]}
    rule = {"description": "fine: 443/tcp"}
    stack = {"resource": {"aws_security_group": {"g": group}, "aws_vpc_security_group_ingress_rule": {"r": rule}}}
    assert refused(stack) == ['g: "the balancer\'s traffic"']
