"""The deployed peering on the emulator, across both accounts, read through cfn-outputs/flat-outputs.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from network_peering.settings import EXTERNAL_ID_VARIABLE, Settings
from platform_tooling.deploy.workspace import emulator_variable_value
from platform_tooling.testing.emulator import Deployment
from shared_constructs.settings import load_settings

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(Settings, PACKAGE_DIR / "config" / "dev.toml")
SIDES = {"trading": SETTINGS.trading, "analytics": SETTINGS.analytics}
PEER = {"trading": "analytics", "analytics": "trading"}


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    """What a test against real AWS would read: the flat outputs file written after deployment."""
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def ec2(deployment: Deployment, label: str) -> Any:
    """An EC2 client in ``label``'s account and region (analytics through its deployment role)."""
    side = SIDES[label]
    return deployment.client("ec2", side.region, side.assume_role_arn)


def test_the_deployment_has_no_untolerated_drift(deployment: Deployment) -> None:
    assert deployment.drift == []


def test_connection_is_active_from_both_accounts(deployment: Deployment, outputs: dict[str, Any]) -> None:
    pcx = outputs["peering_connection_id"]
    assert pcx.startswith("pcx-")
    assert outputs["peering_connection_status"] == "active"
    for label in SIDES:
        (found,) = ec2(deployment, label).describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])[
            "VpcPeeringConnections"
        ]
        assert found["Status"]["Code"] == "active"
        assert found["RequesterVpcInfo"]["VpcId"] == outputs["trading_vpc_id"]
        assert found["RequesterVpcInfo"]["OwnerId"] == SETTINGS.trading.account_id
        assert found["AccepterVpcInfo"]["VpcId"] == outputs["analytics_vpc_id"]
        assert found["AccepterVpcInfo"]["OwnerId"] == SETTINGS.analytics.account_id
        assert found["AccepterVpcInfo"]["Region"] == SETTINGS.analytics.region


def test_dns_resolution_is_allowed_in_both_directions(deployment: Deployment, outputs: dict[str, Any]) -> None:
    (found,) = ec2(deployment, "analytics").describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[outputs["peering_connection_id"]]
    )["VpcPeeringConnections"]
    assert found["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert found["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True


@pytest.mark.parametrize("label", sorted(SIDES))
def test_peered_route_tables_route_only_the_peer_subnets(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    pcx = outputs["peering_connection_id"]
    peered = outputs[f"{label}_peered_route_table_ids"].split(",")
    every = outputs[f"{label}_route_table_ids"].split(",")
    assert set(peered) < set(every)
    tables = ec2(deployment, label).describe_route_tables(RouteTableIds=every)["RouteTables"]
    assert len(tables) == len(every) == 3
    expected = sorted(SIDES[PEER[label]].peered)
    for table in tables:
        to_peer = sorted(r["DestinationCidrBlock"] for r in table["Routes"] if r.get("VpcPeeringConnectionId") == pcx)
        assert to_peer == (expected if table["RouteTableId"] in peered else []), table["RouteTableId"]
        assert all(r.get("DestinationCidrBlock") != "0.0.0.0/0" for r in table["Routes"])


@pytest.mark.parametrize("label", sorted(SIDES))
def test_security_group_holds_only_the_allowed_rules(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    group = outputs[f"{label}_security_group_id"]
    rules = ec2(deployment, label).describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])[
        "SecurityGroupRules"
    ]
    got = sorted((r["IsEgress"], r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIpv4")) for r in rules)
    peer_cidrs = SIDES[PEER[label]].peered
    assert got == sorted(
        (egress, "tcp", port, port, cidr) for egress in (False, True) for port in (443, 5432) for cidr in peer_cidrs
    )


@pytest.mark.parametrize("label", sorted(SIDES))
def test_network_acl_denies_the_peer_then_lets_the_rest_through(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    (nacl,) = ec2(deployment, label).describe_network_acls(NetworkAclIds=[outputs[f"{label}_nacl_id"]])["NetworkAcls"]
    entries = {(e["Egress"], e["RuleNumber"]): e for e in nacl["Entries"]}
    peer_cidrs = SIDES[PEER[label]].peered
    for egress in (False, True):
        numbers = sorted(n for e, n in entries if e is egress and n < 32767)
        assert numbers == sorted(
            [100 + 10 * j + slot for j in range(len(peer_cidrs)) for slot in range(3)] + [32000, 32766]
        )
        deny = entries[(egress, 32000)]
        assert (deny["RuleAction"], deny["CidrBlock"], deny["Protocol"]) == ("deny", SIDES[PEER[label]].vpc_cidr, "-1")
        rest = entries[(egress, 32766)]
        assert (rest["RuleAction"], rest["CidrBlock"], rest["Protocol"]) == ("allow", "0.0.0.0/0", "-1")
        https = entries[(egress, 100)]
        assert (https["RuleAction"], https["CidrBlock"], https["PortRange"]) == (
            "allow",
            peer_cidrs[0],
            {"From": 443, "To": 443},
        )
    assert len(nacl["Associations"]) == len(SIDES[label].peered)


@pytest.mark.parametrize("label", sorted(SIDES))
def test_flow_logs_capture_all_traffic_every_minute(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    logs = ec2(deployment, label).describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [outputs[f"{label}_vpc_id"]]}]
    )["FlowLogs"]
    assert sorted(f["LogDestinationType"] for f in logs) == ["cloud-watch-logs", "s3"]
    assert {(f["TrafficType"], f["MaxAggregationInterval"]) for f in logs} == {("ALL", 60)}


def test_accepter_role_lives_in_the_analytics_account(deployment: Deployment, outputs: dict[str, Any]) -> None:
    arn = outputs["accepter_role_arn"]
    assert arn.startswith(f"arn:aws:iam::{SETTINGS.analytics.account_id}:role/")
    iam = deployment.client("iam", SETTINGS.analytics.region, SETTINGS.analytics.assume_role_arn)
    role = iam.get_role(RoleName=arn.split("/")[-1])["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{SETTINGS.trading.account_id}:root"}
    assert trust["Statement"][0]["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": SETTINGS.trading.peering_operator_arn},
        "StringEquals": {"sts:ExternalId": emulator_variable_value(EXTERNAL_ID_VARIABLE)},
    }


@pytest.mark.parametrize("label", sorted(SIDES))
def test_alarms_and_metric_filters_watch_the_flow_logs_in_each_account(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    side = SIDES[label]
    logs = deployment.client("logs", side.region, side.assume_role_arn)
    filters = logs.describe_metric_filters(logGroupName=outputs[f"{label}_flow_log_group_name"])["metricFilters"]
    assert sorted(f["metricTransformations"][0]["metricName"] for f in filters) == [
        "PeerBytesIn",
        "RejectedFlows",
        "UnexpectedPortFlows",
        "UnexpectedPortFlows",
    ]
    cloudwatch = deployment.client("cloudwatch", side.region, side.assume_role_arn)
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=f"network-peering-{label}-")["MetricAlarms"]
    assert len(alarms) == 3
    assert all(outputs[f"{label}_alarm_topic_arn"] in a["AlarmActions"] for a in alarms)
    assert outputs[f"{label}_dashboard_url"].endswith(
        f"#dashboards:name=network-peering-{label}-network-{'use1' if label == 'trading' else 'use2'}-dev"
    )


@pytest.mark.parametrize("label", sorted(SIDES))
def test_config_rules_and_gateway_endpoints_in_each_account(
    deployment: Deployment, outputs: dict[str, Any], label: str
) -> None:
    side = SIDES[label]
    config = deployment.client("config", side.region, side.assume_role_arn)
    rules = config.describe_config_rules()["ConfigRules"]
    mine = [r for r in rules if r["ConfigRuleName"].startswith(f"network-peering-{label}-")]
    assert sorted(r["Source"]["SourceIdentifier"] for r in mine if r["Source"]["Owner"] == "AWS") == [
        "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
        "VPC_FLOW_LOGS_ENABLED",
        "VPC_PEERING_DNS_RESOLUTION_CHECK",
    ]
    (custom,) = [r for r in mine if r["Source"]["Owner"] == "CUSTOM_LAMBDA"]
    code = "use1" if label == "trading" else "use2"
    function = f"arn:aws:lambda:{side.region}:{side.account_id}:function:network-peering-{label}-sg-rule-{code}-dev"
    assert custom["Source"]["SourceIdentifier"] == function
    endpoints = ec2(deployment, label).describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [outputs[f"{label}_vpc_id"]]}]
    )["VpcEndpoints"]
    assert sorted(e["ServiceName"] for e in endpoints) == [
        f"com.amazonaws.{side.region}.dynamodb",
        f"com.amazonaws.{side.region}.s3",
    ]
    for endpoint in endpoints:
        policy = endpoint["PolicyDocument"]
        policy = json.loads(policy) if isinstance(policy, str) else policy
        assert policy["Statement"][0]["Condition"]["StringEquals"]["aws:ResourceAccount"] == side.account_id
