"""REACHABLE_SERVICES: every service a function or host in VPC subnets calls has a network path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from shared_constructs.policy import BASELINE, Context, Outcome, Resource, StackView, rules_reach

RULE = next(r for r in BASELINE if r.id == "REACHABLE_SERVICES")
WORKLOAD, ENDPOINTS = "10.0.0.0/24", "10.0.1.0/24"


def https(**extra: Any) -> dict[str, Any]:
    return {"protocol": "tcp", "from_port": 443, "to_port": 443, **extra}


def vpc_stack(services: list[str], endpoints: tuple[str, ...] = ("kms", "logs")) -> dict[str, Any]:
    """A function in a private subnet as pci-platform built it before this issue: interface endpoints
    for ``endpoints`` only, S3 through a gateway endpoint, no NAT."""
    subnet = "${aws_subnet.%s.id}"
    resources: dict[str, Any] = {
        "aws_vpc": {"v": {"cidr_block": "10.0.0.0/16", "enable_dns_support": True, "enable_dns_hostnames": True}},
        "aws_subnet": {
            name: {"vpc_id": "${aws_vpc.v.id}", "cidr_block": cidr}
            for name, cidr in (("work", WORKLOAD), ("ep", ENDPOINTS))
        },
        "aws_route_table": {name: {"vpc_id": "${aws_vpc.v.id}"} for name in ("work", "ep")},
        "aws_route_table_association": {
            name: {"subnet_id": subnet % name, "route_table_id": f"${{aws_route_table.{name}.id}}"}
            for name in ("work", "ep")
        },
        "aws_security_group": {
            "fn": {
                "egress": [
                    https(cidr_blocks=[ENDPOINTS]),
                    https(prefix_list_ids=["${aws_vpc_endpoint.s3.prefix_list_id}"]),
                ]
            },
            "ep": {"ingress": [https(cidr_blocks=[WORKLOAD])]},
        },
        "aws_vpc_endpoint": {
            "s3": {
                "vpc_id": "${aws_vpc.v.id}",
                "vpc_endpoint_type": "Gateway",
                "service_name": "com.amazonaws.us-east-1.s3",
                "route_table_ids": ["${aws_route_table.work.id}"],
            },
            **{
                name.replace("-", "_"): {
                    "vpc_id": "${aws_vpc.v.id}",
                    "vpc_endpoint_type": "Interface",
                    "service_name": f"com.amazonaws.us-east-1.{name}",
                    "private_dns_enabled": True,
                    "subnet_ids": [subnet % "ep"],
                    "security_group_ids": ["${aws_security_group.ep.id}"],
                }
                for name in endpoints
            },
        },
        "aws_lambda_function": {
            "fn": {
                "vpc_config": {"subnet_ids": [subnet % "work"], "security_group_ids": ["${aws_security_group.fn.id}"]},
                "//": {"services": services},
            }
        },
    }
    return {"provider": {"aws": [{"region": "us-east-1"}]}, "resource": resources}


def check(document: dict[str, Any]) -> tuple[Outcome, str]:
    config = document["resource"]["aws_lambda_function"]["fn"]
    result = RULE.check(Resource("aws_lambda_function", "fn", config, StackView("s", document)), Context(suffix="dev"))
    return result.outcome, result.detail


def test_the_rule_belongs_to_its_module():
    assert RULE.check.__module__ == rules_reach.__name__


def test_fires_on_sqs_called_from_subnets_without_an_endpoint():
    outcome, detail = check(vpc_stack(["sqs"]))
    assert outcome is Outcome.NON_COMPLIANT
    assert "sqs: no endpoint and no NAT path" in detail


def test_passes_with_an_interface_endpoint_and_the_gateway_endpoint():
    assert check(vpc_stack(["kms", "s3", "sqs"], endpoints=("kms", "logs", "sqs"))) == (Outcome.COMPLIANT, "")


def broken(change: str) -> dict[str, Any]:
    document = vpc_stack(["s3", "sqs"], endpoints=("sqs",))
    resources = document["resource"]
    if change == "no egress":
        resources["aws_security_group"]["fn"]["egress"] = [
            https(prefix_list_ids=["${aws_vpc_endpoint.s3.prefix_list_id}"])
        ]
    elif change == "no ingress":
        resources["aws_security_group"]["ep"]["ingress"] = [https(cidr_blocks=["10.9.0.0/24"])]
    elif change == "no private DNS":
        resources["aws_vpc"]["v"]["enable_dns_hostnames"] = False
    elif change == "gateway off the route table":
        resources["aws_vpc_endpoint"]["s3"]["route_table_ids"] = ["${aws_route_table.ep.id}"]
    elif change == "firewall without the API":
        resources["aws_route"] = {
            "to_ep": {
                "route_table_id": "${aws_route_table.work.id}",
                "destination_cidr_block": ENDPOINTS,
                "vpc_endpoint_id": "${local.firewall_endpoints[aws_subnet.fw.id]}",
            }
        }
        resources["aws_networkfirewall_rule_group"] = {
            "allow": {
                "rule_group": {
                    "rules_source": {
                        "rules_source_list": {
                            "generated_rules_type": "ALLOWLIST",
                            "target_types": ["TLS_SNI"],
                            "targets": ["kms.us-east-1.amazonaws.com"],
                        }
                    }
                }
            }
        }
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no egress", "allow no HTTPS out to endpoint"),
        ("no ingress", "admits no HTTPS from these subnets"),
        ("no private DNS", "enable_dns_hostnames"),
        ("gateway off the route table", "not on the route table"),
        ("firewall without the API", "does not allow sqs.us-east-1.amazonaws.com"),
    ],
)
def test_fails_when_a_piece_of_the_path_is_missing(change, message):
    outcome, detail = check(broken(change))
    assert outcome is Outcome.NON_COMPLIANT
    assert message in detail


def test_a_firewall_that_lists_the_api_passes():
    document = broken("firewall without the API")
    listing = document["resource"]["aws_networkfirewall_rule_group"]["allow"]["rule_group"]["rules_source"]
    listing["rules_source_list"]["targets"].append("sqs.us-east-1.amazonaws.com")
    assert check(document) == (Outcome.COMPLIANT, "")


def test_a_nat_route_reaches_services_without_endpoints():
    document = vpc_stack(["iam"])
    resources = document["resource"]
    resources["aws_route"] = {
        "default": {
            "route_table_id": "${aws_route_table.work.id}",
            "destination_cidr_block": "0.0.0.0/0",
            "nat_gateway_id": "${aws_nat_gateway.n.id}",
        }
    }
    assert check(document)[0] is Outcome.NON_COMPLIANT  # HTTPS out to the internet is not allowed yet
    resources["aws_security_group"]["fn"]["egress"].append(https(cidr_blocks=["0.0.0.0/0"]))
    assert check(document) == (Outcome.COMPLIANT, "")


@pytest.mark.parametrize(("services", "message"), [(None, "declares no services"), (["sqs-fifo"], "unknown service")])
def test_fails_functions_that_do_not_say_what_they_call(services, message):
    document = vpc_stack([])
    comment = document["resource"]["aws_lambda_function"]["fn"]["//"]
    if services is None:
        del comment["services"]
    else:
        comment["services"] = services
    outcome, detail = check(document)
    assert outcome is Outcome.NON_COMPLIANT
    assert message in detail


def test_functions_outside_a_vpc_are_not_checked():
    document = copy.deepcopy(vpc_stack(["sqs"]))
    del document["resource"]["aws_lambda_function"]["fn"]["vpc_config"]
    assert check(document)[0] is Outcome.NOT_APPLICABLE
