"""A target profile removes what the target cannot create and everything that refers to it."""

from __future__ import annotations

from typing import Any

from platform_tooling.targets import AWS, Exclusion, Target, apply_target
from platform_tooling.testing.emulator_tables import EMULATOR

NO_FIREWALL = Target("lab", exclusions=(Exclusion(type="aws_networkfirewall_firewall", reason="not in this lab"),))


def producer() -> dict[str, Any]:
    return {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": {
            "aws_networkfirewall_firewall": {"fw": {"name": "fw-dev"}},
            "aws_networkfirewall_logging_configuration": {
                "fw_logs": {"firewall_arn": "${aws_networkfirewall_firewall.fw.arn}"}
            },
            "aws_route": {"r1": {"vpc_endpoint_id": '${lookup(local.endpoints, "a")}'}},
            "aws_vpc": {"vpc": {"cidr_block": "10.0.0.0/16"}},
            "aws_subnet": {
                "s1": {"vpc_id": "${aws_vpc.vpc.id}", "depends_on": ["aws_networkfirewall_firewall.fw", "aws_vpc.vpc"]}
            },
            "aws_networkfirewall_firewall_policy": {"fwp": {"name": "fw-dev-policy"}},
        },
        "locals": {"endpoints": "${{for s in aws_networkfirewall_firewall.fw.firewall_status : s.id => s.arn}}"},
        "output": {
            "firewall_arn": {"value": "${aws_networkfirewall_firewall.fw.arn}"},
            "vpc_id": {"value": "${aws_vpc.vpc.id}"},
        },
    }


def consumer() -> dict[str, Any]:
    return {
        "data": {
            "terraform_remote_state": {
                "net": {"backend": "local", "config": {"path": "../../.state/pkg/dev/net.tfstate"}}
            }
        },
        "resource": {
            "aws_cloudwatch_metric_alarm": {
                "fw_alarm": {"dimensions": {"FirewallName": "${data.terraform_remote_state.net.outputs.firewall_arn}"}},
                "vpc_alarm": {"alarm_description": "${data.terraform_remote_state.net.outputs.vpc_id}"},
            }
        },
    }


def test_aws_target_changes_nothing() -> None:
    stacks = {"net": producer()}
    applied = apply_target(AWS, stacks)
    assert applied.stacks == stacks
    assert applied.report() == {}


def test_excluded_resources_and_their_dependents_go_across_stacks() -> None:
    applied = apply_target(NO_FIREWALL, {"net": producer(), "watch": consumer()})
    net, watch = applied.stacks["net"], applied.stacks["watch"]
    assert "aws_networkfirewall_firewall" not in net["resource"]
    assert "aws_networkfirewall_logging_configuration" not in net["resource"]
    assert "aws_route" not in net["resource"]
    assert net["locals"] == {}
    assert list(net["output"]) == ["vpc_id"]
    # Unrelated resources stay; a depends_on entry on a removed resource is dropped, not its owner.
    assert net["resource"]["aws_subnet"]["s1"]["depends_on"] == ["aws_vpc.vpc"]
    assert "fwp" in net["resource"]["aws_networkfirewall_firewall_policy"]
    assert list(watch["resource"]["aws_cloudwatch_metric_alarm"]) == ["vpc_alarm"]
    report = applied.report()
    assert report["net"]["aws_networkfirewall_firewall.fw"] == "not in this lab"
    assert report["net"]["aws_route.r1"] == "refers to local.endpoints"
    assert report["watch"]["aws_cloudwatch_metric_alarm.fw_alarm"].startswith("refers to data.terraform_remote_state")


def test_input_stacks_are_not_modified() -> None:
    stacks = {"net": producer()}
    apply_target(NO_FIREWALL, stacks)
    assert "fw" in stacks["net"]["resource"]["aws_networkfirewall_firewall"]


def test_blocks_where_and_detach() -> None:
    stack = {
        "resource": {
            "aws_sqs_queue": {"dlq": {"name": "q-dlq", "redrive_allow_policy": "{}"}},
            "aws_route53_health_check": {
                "metric": {"type": "CLOUDWATCH_METRIC"},
                "http": {"type": "HTTPS", "fqdn": "example.com"},
            },
            "aws_route53_record": {
                "primary": {"name": "a", "health_check_id": "${aws_route53_health_check.metric.id}"}
            },
        }
    }
    applied = apply_target(EMULATOR, {"s": stack}).stacks["s"]
    assert applied["resource"]["aws_sqs_queue"]["dlq"] == {"name": "q-dlq"}
    assert list(applied["resource"]["aws_route53_health_check"]) == ["http"]
    assert applied["resource"]["aws_route53_record"]["primary"] == {"name": "a"}


def test_replica_lookups_go_with_the_replicas() -> None:
    global_stack = {
        "provider": {"aws": [{"region": "us-east-1"}, {"alias": "euw1", "region": "eu-west-1"}]},
        "resource": {
            "aws_dynamodb_table": {"t": {"name": "tx-dev", "replica": [{"region_name": "eu-west-1"}]}},
            "aws_dynamodb_tag": {
                "eu": {
                    "resource_arn": "arn:aws:dynamodb:eu-west-1:${data.x.y.account_id}:table/tx-dev",
                    "key": "Region",
                }
            },
        },
    }
    regional = {
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "data": {"aws_dynamodb_table": {"table": {"name": "tx-dev"}}},
        "resource": {
            "aws_lambda_event_source_mapping": {
                "stream": {"event_source_arn": "${data.aws_dynamodb_table.table.stream_arn}"}
            }
        },
    }
    primary = {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "data": {"aws_dynamodb_table": {"table": {"name": "tx-dev"}}},
        "resource": {
            "aws_lambda_event_source_mapping": {
                "stream": {"event_source_arn": "${data.aws_dynamodb_table.table.stream_arn}"}
            }
        },
    }
    applied = apply_target(EMULATOR, {"g": global_stack, "eu": regional, "us": primary}).stacks
    assert "replica" not in applied["g"]["resource"]["aws_dynamodb_table"]["t"]
    assert "aws_dynamodb_tag" not in applied["g"]["resource"]
    assert "data" not in applied["eu"] or not applied["eu"]["data"]
    assert applied["eu"]["resource"] == {}
    assert "stream" in applied["us"]["resource"]["aws_lambda_event_source_mapping"]
