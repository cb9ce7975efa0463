"""The peering security-group Config rule against moto in-process (EC2) and a stubbed PutEvaluations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler
from platform_tooling.testing.query import resources

PACKAGE = Path(__file__).resolve().parents[2]
FOLDER = PACKAGE / "lambdas" / "peering_sg_rule"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PEER = ("10.1.0.0/20", "10.1.16.0/20")
TAG = {"PeeringGroup": "true"}
PARAMS = {"peerCidrs": ",".join(PEER), "peeringTagKey": "PeeringGroup", "peeringTagValue": "true"}
TOKEN = "token-1"
CAPTURED = "2026-11-30T10:00:00.000Z"
CAPTURED_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def perm(
    port: int | None = 443,
    to_port: int | None = None,
    protocol: str = "tcp",
    cidrs: tuple[str, ...] = PEER[:1],
    v6: tuple[str, ...] = (),
    prefix_lists: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One ingress rule as a configuration item writes it (both the old and the new CIDR shape)."""
    return {
        "ipProtocol": protocol,
        "fromPort": port,
        "toPort": port if to_port is None else to_port,
        "ipRanges": list(cidrs),
        "ipv4Ranges": [{"cidrIp": c} for c in cidrs],
        "ipv6Ranges": [{"cidrIpv6": c} for c in v6],
        "prefixListIds": [{"prefixListId": p} for p in prefix_lists],
        "userIdGroupPairs": [{"groupId": g, "userId": ACCOUNT} for g in groups],
    }


def change_event(
    permissions: list[dict[str, Any]],
    tags: dict[str, str] | None = None,
    status: str = "OK",
    left_scope: bool = False,
    params: dict[str, str] | None = None,
    token: str = TOKEN,
) -> dict[str, Any]:
    """A configuration-change invocation as AWS Config sends it."""
    item = {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": CAPTURED,
        "configurationItemStatus": status,
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": "sg-0123456789abcdef0",
        "awsAccountId": ACCOUNT,
        "awsRegion": REGION,
        "tags": TAG if tags is None else tags,
        "configuration": {"groupId": "sg-0123456789abcdef0", "ipPermissions": permissions, "ipPermissionsEgress": []},
    }
    invoking = {
        "configurationItem": item,
        "notificationCreationTime": CAPTURED,
        "messageType": "ConfigurationItemChangeNotification",
    }
    return rule_event(invoking, params, token) | {"eventLeftScope": left_scope}


def rule_event(invoking: dict[str, Any], params: dict[str, str] | None = None, token: str = TOKEN) -> dict[str, Any]:
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(PARAMS if params is None else params),
        "resultToken": token,
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-abc123",
        "configRuleName": "network-peering-trading-sg-peer-use1-dev",
        "configRuleId": "config-rule-abc123",
        "accountId": ACCOUNT,
    }


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for key in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(key, REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield load_handler(FOLDER)


@pytest.fixture
def sent(handler: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The PutEvaluations requests (moto records none outside test mode): stubbed, checked, recorded."""
    config = boto3.client("config", region_name=REGION)
    stubber = Stubber(config)
    for _ in range(3):
        stubber.add_response("put_evaluations", {"FailedEvaluations": []})
    requests: list[dict[str, Any]] = []
    config.meta.events.register(
        "provide-client-params.config.PutEvaluations", lambda params, **_: requests.append(params)
    )
    real = handler._client
    monkeypatch.setattr(handler, "_client", lambda service: config if service == "config" else real(service))
    with stubber:
        yield requests


def verdict(requests: list[dict[str, Any]]) -> tuple[str, str]:
    (request,) = requests
    (evaluation,) = request["Evaluations"]
    assert request["ResultToken"] == "token-1"
    assert evaluation["ComplianceResourceType"] == "AWS::EC2::SecurityGroup"
    assert evaluation["OrderingTimestamp"] == CAPTURED_AT
    return evaluation["ComplianceType"], evaluation["Annotation"]


@pytest.mark.parametrize(
    "permissions",
    [
        [perm(443, cidrs=PEER), perm(5432, cidrs=PEER)],
        [perm(5432, cidrs=("10.1.0.0/24",))],  # narrower than a peer subnet
        [],  # admits nothing
    ],
    ids=["both-ports-both-subnets", "narrower-source", "no-ingress"],
)
def test_compliant(handler: ModuleType, sent: list[dict[str, Any]], permissions: list[dict[str, Any]]) -> None:
    out = handler.handler(change_event(permissions), None)
    assert verdict(sent) == ("COMPLIANT", "ingress only tcp 443, 5432 from the peer subnets")
    assert out["evaluations"][0]["ComplianceResourceId"] == "sg-0123456789abcdef0"


@pytest.mark.parametrize(
    ("permission", "reason"),
    [
        (perm(22), "tcp 22 (not an allowed port)"),
        (perm(443, to_port=5432), "tcp 443-5432 (a range)"),
        (perm(0, to_port=65535), "tcp 0-65535 (a range)"),
        (perm(None, protocol="-1"), "all protocols"),
        (perm(443, protocol="udp"), "protocol udp"),
        (perm(443, cidrs=("0.0.0.0/0",)), "tcp 443 from 0.0.0.0/0"),
        (perm(443, cidrs=(), v6=("::/0",)), "tcp 443 from ::/0"),
        (perm(5432, cidrs=("10.2.0.0/20",)), "tcp 5432 from 10.2.0.0/20"),
        (perm(5432, cidrs=("10.1.0.0/16",)), "tcp 5432 from 10.1.0.0/16"),  # wider than the peer subnets
        (perm(443, cidrs=(), prefix_lists=("pl-63a5400a",)), "tcp 443 from prefix list pl-63a5400a"),
        (perm(443, cidrs=(), groups=("sg-0fedcba9876543210",)), "tcp 443 from group sg-0fedcba9876543210"),
    ],
    ids=[
        "other-port",
        "port-range",
        "all-ports",
        "all-protocols",
        "udp",
        "anywhere-v4",
        "anywhere-v6",
        "other-cidr",
        "wider-cidr",
        "prefix-list",
        "referenced-group",
    ],
)
def test_non_compliant(
    handler: ModuleType, sent: list[dict[str, Any]], permission: dict[str, Any], reason: str
) -> None:
    # One allowed rule next to the offending one: a single bad rule is enough to fail.
    handler.handler(change_event([perm(443, cidrs=PEER), permission]), None)
    compliance, annotation = verdict(sent)
    assert compliance == "NON_COMPLIANT"
    assert annotation == f"ingress beyond tcp 443/5432 from peer subnets: {reason}"


def test_allow_listed_prefix_list_and_group_are_compliant(handler: ModuleType, sent: list[dict[str, Any]]) -> None:
    params = PARAMS | {"allowedPrefixListIds": "pl-63a5400a", "allowedGroupIds": "sg-0fedcba9876543210"}
    permissions = [perm(443, cidrs=(), prefix_lists=("pl-63a5400a",), groups=("sg-0fedcba9876543210",))]
    handler.handler(change_event(permissions, params=params), None)
    assert verdict(sent)[0] == "COMPLIANT"


def test_long_annotation_is_cut_to_what_aws_accepts(handler: ModuleType, sent: list[dict[str, Any]]) -> None:
    permissions = [perm(port, cidrs=("0.0.0.0/0",)) for port in range(1000, 1040)]
    handler.handler(change_event(permissions), None)
    compliance, annotation = verdict(sent)
    assert compliance == "NON_COMPLIANT"
    assert len(annotation) == 256
    assert annotation.endswith("...")


@pytest.mark.parametrize(
    ("changes", "annotation"),
    [
        ({"tags": {}}, "not a peering group (no tag PeeringGroup)"),
        ({"tags": {"PeeringGroup": "false"}}, "not a peering group (no tag PeeringGroup)"),
        ({"status": "ResourceDeleted"}, "the security group was deleted"),
        ({"left_scope": True}, "the security group left the rule's scope"),
    ],
    ids=["untagged", "other-tag-value", "deleted", "left-scope"],
)
def test_not_applicable(
    handler: ModuleType, sent: list[dict[str, Any]], changes: dict[str, Any], annotation: str
) -> None:
    handler.handler(change_event([perm(22, cidrs=("0.0.0.0/0",))], **changes), None)
    assert verdict(sent) == ("NOT_APPLICABLE", annotation)


def group(ec2: Any, vpc: str, name: str, tags: dict[str, str], permissions: list[dict[str, Any]]) -> str:
    spec = (
        [{"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    )
    group_id: str = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc, TagSpecifications=spec)[
        "GroupId"
    ]
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
    return group_id


def rule(port: int, cidr: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}


def test_periodic_evaluates_every_group(handler: ModuleType, sent: list[dict[str, Any]]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    good = group(ec2, vpc, "good", TAG, [rule(443, PEER[0]), rule(5432, PEER[1])])
    bad = group(ec2, vpc, "bad", TAG, [rule(22, PEER[0])])
    other = group(ec2, vpc, "other", {}, [rule(22, "0.0.0.0/0")])
    invoking = {"awsAccountId": ACCOUNT, "notificationCreationTime": CAPTURED, "messageType": "ScheduledNotification"}
    handler.handler(rule_event(invoking), None)
    evaluations = [e for request in sent for e in request["Evaluations"]]
    assert all(request["ResultToken"] == "token-1" for request in sent)
    by_id = {e["ComplianceResourceId"]: e["ComplianceType"] for e in evaluations}
    assert {good: by_id[good], bad: by_id[bad], other: by_id[other]} == {
        good: "COMPLIANT",
        bad: "NON_COMPLIANT",
        other: "NOT_APPLICABLE",
    }
    described = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert set(by_id) == described  # the default groups too, as NOT_APPLICABLE


def test_oversized_item_is_read_from_ec2(handler: ModuleType, sent: list[dict[str, Any]]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    bad = group(ec2, vpc, "big", TAG, [rule(443, "0.0.0.0/0")])
    summary = {
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": bad,
        "configurationItemCaptureTime": CAPTURED,
        "configurationItemStatus": "OK",
    }
    invoking = {"configurationItemSummary": summary, "messageType": "OversizedConfigurationItemChangeNotification"}
    handler.handler(rule_event(invoking), None)
    assert verdict(sent) == ("NON_COMPLIANT", "ingress beyond tcp 443/5432 from peer subnets: tcp 443 from 0.0.0.0/0")


def test_test_mode_token_sends_test_mode(handler: ModuleType, sent: list[dict[str, Any]]) -> None:
    handler.handler(change_event([perm(443)], token="TESTMODE"), None)
    assert sent[0]["TestMode"] is True
    assert sent[0]["ResultToken"] == "TESTMODE"


def test_parameters_fall_back_to_environment(
    handler: ModuleType, sent: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEER_CIDRS", ",".join(PEER))
    monkeypatch.setenv("PEERING_TAG_KEY", "PeeringGroup")
    monkeypatch.setenv("ALLOWED_PORTS", "5432")
    handler.handler(change_event([perm(443)], params={}), None)
    assert verdict(sent) == (
        "NON_COMPLIANT",
        "ingress beyond tcp 5432 from peer subnets: tcp 443 (not an allowed port)",
    )


def test_evaluations_go_100_at_a_time_and_a_refusal_raises(handler: ModuleType) -> None:
    config = boto3.client("config", region_name=REGION)
    evaluation = {
        "ComplianceResourceType": "AWS::EC2::SecurityGroup",
        "ComplianceResourceId": "sg-1",
        "ComplianceType": "COMPLIANT",
        "OrderingTimestamp": CAPTURED_AT,
    }
    with Stubber(config) as stubber:
        stubber.add_response("put_evaluations", {"FailedEvaluations": []})
        stubber.add_response("put_evaluations", {"FailedEvaluations": [evaluation]})
        handler._client = lambda service: config
        with pytest.raises(RuntimeError, match="PutEvaluations refused 1 evaluations"):
            handler.put([evaluation] * 150, "token-1")
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "expected an AWS Config rule event with a resultToken"),
        ({"resultToken": "t", "invokingEvent": "{bad"}, "invokingEvent and ruleParameters must be JSON strings"),
        (rule_event({"messageType": "Other"}), "unexpected messageType 'Other'"),
        (rule_event({"messageType": "ScheduledNotification"}, params={"peeringTagKey": "k"}), "peerCidrs"),
        (
            rule_event({"messageType": "ScheduledNotification"}, params=PARAMS | {"peerCidrs": "10.1.0.0/33"}),
            "peerCidrs",
        ),
        (
            rule_event({"messageType": "ScheduledNotification"}, params=PARAMS | {"allowedPorts": "443-5432"}),
            "allowedPorts",
        ),
        (
            rule_event({"messageType": "ConfigurationItemChangeNotification", "configurationItem": {}}),
            "configuration item",
        ),
    ],
)
def test_fails_bad_event(handler: ModuleType, event: dict[str, Any], message: str) -> None:
    with pytest.raises(handler.InvalidEvent, match=message.replace("(", r"\(")):
        handler.handler(event, None)


def test_the_deployed_peering_groups_comply_with_the_deployed_rules(
    handler: ModuleType, stacks: dict[str, dict[str, Any]]
) -> None:
    """Each side's synthesized rule, with its own parameters, passes that side's synthesized group."""
    (stack,) = stacks.values()
    rules = [r for r in resources(stack, "aws_config_config_rule").values() if r["source"]["owner"] == "CUSTOM_LAMBDA"]
    assert len(rules) == 2  # one per side
    groups = {f"${{aws_security_group.{n}.id}}": g for n, g in resources(stack, "aws_security_group").items()}
    ingress = resources(stack, "aws_vpc_security_group_ingress_rule").values()
    for rule in rules:
        params = json.loads(rule["input_parameters"])
        (group_id,) = [
            i for i, g in groups.items() if g["tags"].get(params["peeringTagKey"]) == params["peeringTagValue"]
        ]
        items = [r for r in ingress if r["security_group_id"] == group_id]
        assert items
        permissions = [perm(r["from_port"], r["to_port"], r["ip_protocol"], (r["cidr_ipv4"],)) for r in items]
        verdict = handler.judge(
            groups[group_id]["tags"],
            handler.from_configuration_item({"ipPermissions": permissions}),
            handler.policy(params),
        )
        assert verdict[0] == "COMPLIANT", verdict
