"""Metric filters, alarms, dashboards, gateway endpoints, Config rules and outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import resources, statements

ANALYTICS = "aws.use2analytics"
SIDES = {
    "trading": ("aws", "123456789012", "use1", "10.1.*"),
    "analytics": (ANALYTICS, "210987654321", "use2", "10.0.*"),
}
HEAD = "[version, account_id, interface_id, "
TAIL = "protocol, packets, bytes, start, end, action, log_status]"


@pytest.mark.requirement("PEER-8")
@pytest.mark.parametrize("label", sorted(SIDES))
def test_metric_filters_read_the_side_flow_log_group(stack: dict[str, Any], label: str) -> None:
    provider, _, short, peer = SIDES[label]
    filters = {
        f["name"]: f for f in resources(stack, "aws_cloudwatch_log_metric_filter").values() if f["provider"] == provider
    }
    prefix, tail = f"network-peering-{label}-", f"-{short}-dev"
    no_port = "srcport!=443 && srcport!=5432, dstport!=443 && dstport!=5432, "
    assert {
        n: (f["pattern"], f["metric_transformation"]["name"], f["metric_transformation"]["value"])
        for n, f in filters.items()
    } == {
        f"{prefix}rejected{tail}": (
            HEAD + "srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, "
            'action="REJECT", log_status]',
            "RejectedFlows",
            "1",
        ),
        f"{prefix}unexpected-in{tail}": (
            HEAD + f'srcaddr="{peer}", dstaddr, ' + no_port + TAIL,
            "UnexpectedPortFlows",
            "1",
        ),
        f"{prefix}unexpected-out{tail}": (
            HEAD + f'srcaddr, dstaddr="{peer}", ' + no_port + TAIL,
            "UnexpectedPortFlows",
            "1",
        ),
        f"{prefix}peer-bytes{tail}": (
            HEAD + f'srcaddr="{peer}", dstaddr, srcport, dstport, ' + TAIL,
            "PeerBytesIn",
            "$bytes",
        ),
    }
    assert {f["metric_transformation"]["namespace"] for f in filters.values()} == {f"NetworkPeering/dev/{label}"}


@pytest.mark.requirement("PEER-8")
def test_alarms_thresholds_and_actions(stack: dict[str, Any]) -> None:
    alarms = {a["alarm_name"]: a for a in resources(stack, "aws_cloudwatch_metric_alarm").values()}
    rejected = alarms["network-peering-trading-rejected-flows-use1-dev"]
    assert (
        rejected["metric_name"],
        rejected["statistic"],
        rejected["period"],
        rejected["threshold"],
        rejected["comparison_operator"],
    ) == ("RejectedFlows", "Sum", 300, 50, "GreaterThanThreshold")
    port = alarms["network-peering-analytics-unexpected-port-use2-dev"]
    assert (port["metric_name"], port["threshold"], port["comparison_operator"], port["provider"]) == (
        "UnexpectedPortFlows",
        1,
        "GreaterThanOrEqualToThreshold",
        ANALYTICS,
    )
    spike = alarms["network-peering-trading-peer-volume-spike-use1-dev"]
    assert spike["comparison_operator"] == "GreaterThanUpperThreshold"
    assert spike["threshold_metric_id"] == "band"
    assert spike["metric_query"][1]["expression"] == "ANOMALY_DETECTION_BAND(bytes, 3)"
    assert spike["metric_query"][0]["metric"] == {
        "metric_name": "PeerBytesIn",
        "namespace": "NetworkPeering/dev/trading",
        "period": 300,
        "stat": "Sum",
    }
    # Each side's alarms also notify the baseline's security topic of its own account and region.
    stacks = {
        "trading": "security-baseline-123456789012-us-east-1",
        "analytics": "security-baseline-210987654321-us-east-2",
    }
    sources = stack["data"]["terraform_remote_state"]
    baseline = {
        side: f"${{data.terraform_remote_state.{name}.outputs.security_topic_arn}}"
        for side, wanted in stacks.items()
        for name, source in sources.items()
        if source["config"]["path"].endswith(f"/security-baseline/dev/{wanted}.tfstate")
    }
    assert len(baseline) == len(sources) == 2
    for alarm in alarms.values():
        topic = alarm["alarm_actions"][0]
        assert topic.startswith("${aws_sns_topic.")
        assert alarm["ok_actions"] == alarm["alarm_actions"]
        side = "trading" if alarm["provider"] == "aws" else "analytics"
        assert topic.split(".")[1].startswith(f"{side}_monitoring_topic")
        assert alarm["alarm_actions"][1:] == [baseline[side]]


@pytest.mark.parametrize("label", sorted(SIDES))
def test_alarm_topics_are_encrypted_and_only_cloudwatch_of_the_account_publishes(
    stack: dict[str, Any], label: str
) -> None:
    provider, account, _, _ = SIDES[label]
    topic_id, topic = next((n, t) for n, t in resources(stack, "aws_sns_topic").items() if t["provider"] == provider)
    assert topic["kms_master_key_id"].startswith(f"${{aws_kms_key.{label}_key")
    policy = next(p for p in resources(stack, "aws_sns_topic_policy").values() if p["provider"] == provider)
    publish = next(s for s in statements(policy) if s["Sid"] == "PublishCloudwatch")
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    assert publish["Resource"] == f"${{aws_sns_topic.{topic_id}.arn}}"


@pytest.mark.requirement("PEER-12")
def test_dashboards_and_outputs(stack: dict[str, Any]) -> None:
    dashboards = {d["dashboard_name"]: d for d in resources(stack, "aws_cloudwatch_dashboard").values()}
    assert sorted(dashboards) == [
        "network-peering-analytics-network-use2-dev",
        "network-peering-trading-network-use1-dev",
    ]
    body = json.loads(dashboards["network-peering-trading-network-use1-dev"]["dashboard_body"])
    assert [w["properties"]["metrics"] for w in body["widgets"]] == [
        [["NetworkPeering/dev/trading", m]] for m in ("RejectedFlows", "UnexpectedPortFlows", "PeerBytesIn")
    ]
    outputs = stack["output"]
    assert outputs["dashboard_url"]["value"] == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#dashboards:name=network-peering-trading-network-use1-dev"
    )
    accepter = next(iter(resources(stack, "aws_vpc_peering_connection_accepter")))
    assert outputs["peering_connection_id"]["value"] == (
        f"${{aws_vpc_peering_connection_accepter.{accepter}.vpc_peering_connection_id}}"
    )
    assert (
        outputs["peering_connection_status"]["value"]
        == f"${{aws_vpc_peering_connection_accepter.{accepter}.accept_status}}"
    )
    assert {
        "trading_route_table_ids",
        "analytics_route_table_ids",
        "trading_security_group_id",
        "analytics_security_group_id",
        "accepter_role_arn",
        "analytics_dashboard_url",
    } <= set(outputs)


@pytest.mark.requirement("PEER-9", "PEER-C6")
@pytest.mark.parametrize("label", sorted(SIDES))
def test_gateway_endpoints_limited_to_the_side_account(stack: dict[str, Any], label: str) -> None:
    provider, account, _, _ = SIDES[label]
    region = "us-east-1" if label == "trading" else "us-east-2"
    endpoints = {
        e["service_name"]: e for e in resources(stack, "aws_vpc_endpoint").values() if e["provider"] == provider
    }
    assert sorted(endpoints) == [f"com.amazonaws.{region}.dynamodb", f"com.amazonaws.{region}.s3"]
    for endpoint in endpoints.values():
        assert endpoint["vpc_endpoint_type"] == "Gateway"
        assert len(endpoint["route_table_ids"]) == 3
        (only,) = statements(endpoint)
        assert only["Effect"] == "Allow"
        assert only["Principal"] == {"AWS": "*"}
        assert only["Condition"] == {"StringEquals": {"aws:PrincipalAccount": account, "aws:ResourceAccount": account}}
        assert all("*" not in action for action in only["Action"])


@pytest.mark.requirement("PEER-10")
def test_config_rules_on_both_sides(stack: dict[str, Any]) -> None:
    rules = resources(stack, "aws_config_config_rule").values()
    managed = [r for r in rules if r["source"]["owner"] == "AWS"]
    got = sorted((r["provider"], r["source"]["source_identifier"], r.get("input_parameters")) for r in managed)
    expected = []
    for provider in ("aws", ANALYTICS):
        expected += [
            (provider, "VPC_DEFAULT_SECURITY_GROUP_CLOSED", None),
            (provider, "VPC_FLOW_LOGS_ENABLED", '{"trafficType": "ALL"}'),
            (provider, "VPC_PEERING_DNS_RESOLUTION_CHECK", None),
        ]
    got = [(p, i, None if i == "VPC_PEERING_DNS_RESOLUTION_CHECK" else params) for p, i, params in got]
    assert got == sorted(expected)
    # The managed rule that only looked at 0.0.0.0/0 is replaced by the custom rule (test_sg_rule).
    custom = [r for r in rules if r["source"]["owner"] == "CUSTOM_LAMBDA"]
    assert sorted(r["provider"] for r in custom) == sorted(["aws", ANALYTICS])
    assert len(rules) == len(managed) + len(custom)
