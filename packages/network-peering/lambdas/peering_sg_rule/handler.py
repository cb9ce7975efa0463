"""Custom AWS Config rule: the peering security groups admit only TCP 443 and 5432 from the peer's subnets.

A security group tagged as a peering group (``peeringTagKey`` = ``peeringTagValue``) is
COMPLIANT only when every ingress rule is TCP, names one port (no range) out of ``allowedPorts``
and admits only sources inside ``peerCidrs`` (or prefix lists and groups listed in
``allowedPrefixListIds`` / ``allowedGroupIds``); anything else - another port, a port range, another
protocol or all protocols, ``0.0.0.0/0``, ``::/0``, any other CIDR, prefix list or referenced group -
makes it NON_COMPLIANT, with the offending rules in the annotation. A group without the tag, a
deleted group, or one that left the rule's scope is NOT_APPLICABLE.

Invocations, as AWS Config sends them:
- configuration change (``ConfigurationItemChangeNotification``): the group in the configuration item;
- oversized configuration item (``OversizedConfigurationItemChangeNotification``): the group is read
  with ``ec2:DescribeSecurityGroups``;
- periodic (``ScheduledNotification``): every security group of the account and region.
The results go back with ``config:PutEvaluations`` and the event's result token (``TESTMODE``: the
evaluation is checked, not recorded).

Parameters: the rule's ``ruleParameters`` (JSON), each falling back to an environment variable:
    peerCidrs            PEER_CIDRS            comma-separated peer subnet CIDRs (required)
    allowedPorts         ALLOWED_PORTS         comma-separated TCP ports. Default: 443,5432
    peeringTagKey        PEERING_TAG_KEY       tag key of the peering groups (required)
    peeringTagValue      PEERING_TAG_VALUE     its value. Default: any value
    allowedPrefixListIds ALLOWED_PREFIX_LISTS  comma-separated prefix list ids. Default: none
    allowedGroupIds      ALLOWED_GROUP_IDS     comma-separated security group ids. Default: none
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import boto3

LOGGER = logging.getLogger("peering_sg_rule")
LOGGER.setLevel(logging.INFO)

RESOURCE_TYPE = "AWS::EC2::SecurityGroup"
COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
NOT_APPLICABLE = "NOT_APPLICABLE"
MAX_ANNOTATION = 256
BATCH = 100  # PutEvaluations takes at most 100 evaluations per call
TEST_MODE_TOKEN = "TESTMODE"  # noqa: S105 - the token AWS Config's rule test sends, not a secret
TCP = frozenset({"tcp", "6"})
DELETED = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded"})
PARAMETERS = {
    "peerCidrs": ("PEER_CIDRS", ""),
    "allowedPorts": ("ALLOWED_PORTS", "443,5432"),
    "peeringTagKey": ("PEERING_TAG_KEY", ""),
    "peeringTagValue": ("PEERING_TAG_VALUE", ""),
    "allowedPrefixListIds": ("ALLOWED_PREFIX_LISTS", ""),
    "allowedGroupIds": ("ALLOWED_GROUP_IDS", ""),
}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidEvent(ValueError):
    """The event or the rule's parameters are not what AWS Config sends."""


class Policy(NamedTuple):
    """What a peering group may admit."""

    peer_networks: tuple[Network, ...]
    ports: frozenset[int]
    tag_key: str
    tag_value: str
    prefix_lists: frozenset[str]
    groups: frozenset[str]


class Permission(NamedTuple):
    """One ingress rule, read from a configuration item or from DescribeSecurityGroups."""

    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]
    prefix_lists: tuple[str, ...]
    groups: tuple[str, ...]


def _client(service: str) -> Any:
    return boto3.client(service)


def _items(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def policy(rule_parameters: dict[str, Any]) -> Policy:
    """The policy from the rule's parameters, then the environment; raises :class:`InvalidEvent`."""
    raw = {
        k: str(rule_parameters.get(k) or os.environ.get(env, "") or default) for k, (env, default) in PARAMETERS.items()
    }
    for required in ("peerCidrs", "peeringTagKey"):
        if not raw[required]:
            raise InvalidEvent(f"rule parameter {required} (or {PARAMETERS[required][0]}) is required")
    try:
        networks = tuple(ipaddress.ip_network(c) for c in _items(raw["peerCidrs"]))
    except ValueError as exc:
        raise InvalidEvent(f"rule parameter peerCidrs: {exc}") from exc
    ports = _items(raw["allowedPorts"])
    if not ports or not all(p.isdigit() and 0 < int(p) < 65536 for p in ports):
        raise InvalidEvent(f"rule parameter allowedPorts must be ports 1-65535 separated by commas, got {ports!r}")
    return Policy(
        peer_networks=networks,
        ports=frozenset(int(p) for p in ports),
        tag_key=raw["peeringTagKey"],
        tag_value=raw["peeringTagValue"],
        prefix_lists=frozenset(_items(raw["allowedPrefixListIds"])),
        groups=frozenset(_items(raw["allowedGroupIds"])),
    )


def _port(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def from_configuration_item(configuration: dict[str, Any]) -> list[Permission]:
    """The ingress rules of a configuration item's ``configuration`` (camelCase; both CIDR shapes)."""
    found = []
    for perm in configuration.get("ipPermissions") or []:
        cidrs = [r if isinstance(r, str) else r.get("cidrIp", "") for r in perm.get("ipRanges") or []]
        cidrs += [r.get("cidrIp", "") for r in perm.get("ipv4Ranges") or []]
        cidrs += [r.get("cidrIpv6", "") for r in perm.get("ipv6Ranges") or []]
        found.append(
            Permission(
                protocol=str(perm.get("ipProtocol", "")).lower(),
                from_port=_port(perm.get("fromPort")),
                to_port=_port(perm.get("toPort")),
                cidrs=tuple(dict.fromkeys(c for c in cidrs if c)),
                prefix_lists=tuple(p.get("prefixListId", "") for p in perm.get("prefixListIds") or []),
                groups=tuple(g.get("groupId", "") for g in perm.get("userIdGroupPairs") or []),
            )
        )
    return found


def from_describe(group: dict[str, Any]) -> list[Permission]:
    """The ingress rules of a DescribeSecurityGroups group (PascalCase)."""
    return [
        Permission(
            protocol=str(perm.get("IpProtocol", "")).lower(),
            from_port=_port(perm.get("FromPort")),
            to_port=_port(perm.get("ToPort")),
            cidrs=tuple(
                [r["CidrIp"] for r in perm.get("IpRanges", [])] + [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])]
            ),
            prefix_lists=tuple(p["PrefixListId"] for p in perm.get("PrefixListIds", [])),
            groups=tuple(g["GroupId"] for g in perm.get("UserIdGroupPairs", [])),
        )
        for perm in group.get("IpPermissions", [])
    ]


def _inside_peer(cidr: str, networks: tuple[Network, ...]) -> bool:
    try:
        source = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    # subnet_of compares only networks of one IP version.
    return any(source.version == n.version and source.subnet_of(n) for n in networks)  # type: ignore[arg-type]


def violations(permissions: list[Permission], rules: Policy) -> list[str]:
    """Why ``permissions`` break ``rules``: one short reason per offending rule; empty when compliant."""
    found = []
    for perm in permissions:
        if perm.protocol not in TCP:
            what = "all protocols" if perm.protocol in ("-1", "all") else f"protocol {perm.protocol}"
            found.append(what)
            continue
        if perm.from_port != perm.to_port or perm.from_port is None:
            found.append(f"tcp {perm.from_port}-{perm.to_port} (a range)")
        elif perm.from_port not in rules.ports:
            found.append(f"tcp {perm.from_port} (not an allowed port)")
        port = f"tcp {perm.from_port}" if perm.from_port == perm.to_port else f"tcp {perm.from_port}-{perm.to_port}"
        found += [f"{port} from {c}" for c in perm.cidrs if not _inside_peer(c, rules.peer_networks)]
        found += [f"{port} from prefix list {p}" for p in perm.prefix_lists if p not in rules.prefix_lists]
        found += [f"{port} from group {g}" for g in perm.groups if g not in rules.groups]
    return found


def _tagged(tags: dict[str, str], rules: Policy) -> bool:
    return rules.tag_key in tags and (not rules.tag_value or tags[rules.tag_key] == rules.tag_value)


def judge(tags: dict[str, str], permissions: list[Permission], rules: Policy) -> tuple[str, str]:
    """The compliance of one group and its annotation."""
    if not _tagged(tags, rules):
        return NOT_APPLICABLE, f"not a peering group (no tag {rules.tag_key})"
    reasons = violations(permissions, rules)
    if not reasons:
        ports = ", ".join(str(p) for p in sorted(rules.ports))
        return COMPLIANT, f"ingress only tcp {ports} from the peer subnets"
    annotation = "ingress beyond tcp " + "/".join(str(p) for p in sorted(rules.ports)) + " from peer subnets: "
    annotation += "; ".join(reasons)
    return NON_COMPLIANT, annotation if len(annotation) <= MAX_ANNOTATION else annotation[: MAX_ANNOTATION - 3] + "..."


def _evaluation(group_id: str, verdict: tuple[str, str], when: datetime) -> dict[str, Any]:
    compliance, annotation = verdict
    return {
        "ComplianceResourceType": RESOURCE_TYPE,
        "ComplianceResourceId": group_id,
        "ComplianceType": compliance,
        "Annotation": annotation,
        "OrderingTimestamp": when,
    }


def _describe(group_ids: list[str] | None = None) -> Iterator[dict[str, Any]]:
    pages = _client("ec2").get_paginator("describe_security_groups")
    kwargs = {"GroupIds": group_ids} if group_ids else {}
    for page in pages.paginate(**kwargs):
        yield from page.get("SecurityGroups", [])


def _from_group(group: dict[str, Any], rules: Policy, when: datetime) -> dict[str, Any]:
    tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
    return _evaluation(group["GroupId"], judge(tags, from_describe(group), rules), when)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.now(UTC)


def evaluate(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The evaluations an AWS Config rule event asks for; raises :class:`InvalidEvent`."""
    try:
        invoking = json.loads(event["invokingEvent"])
        parameters = json.loads(event.get("ruleParameters") or "{}")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"invokingEvent and ruleParameters must be JSON strings: {exc}") from exc
    if not isinstance(invoking, dict) or not isinstance(parameters, dict):
        raise InvalidEvent("invokingEvent and ruleParameters must be JSON objects")
    rules = policy(parameters)
    kind = invoking.get("messageType")
    if kind == "ScheduledNotification":
        when = _timestamp(invoking.get("notificationCreationTime"))
        return [_from_group(group, rules, when) for group in _describe()]
    if kind == "OversizedConfigurationItemChangeNotification":
        summary = invoking.get("configurationItemSummary") or {}
        return _changed(
            summary, event, lambda when: [_from_group(g, rules, when) for g in _describe([summary["resourceId"]])]
        )
    if kind == "ConfigurationItemChangeNotification":
        item = invoking.get("configurationItem") or {}
        permissions = from_configuration_item(item.get("configuration") or {})
        tags = {str(k): str(v) for k, v in (item.get("tags") or {}).items()}
        return _changed(
            item, event, lambda when: [_evaluation(item["resourceId"], judge(tags, permissions, rules), when)]
        )
    raise InvalidEvent(f"unexpected messageType {kind!r}")


def _changed(
    item: dict[str, Any], event: dict[str, Any], judged: Callable[[datetime], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """A change notification: NOT_APPLICABLE when the group was deleted or left the rule's scope."""
    if item.get("resourceType") != RESOURCE_TYPE or not item.get("resourceId"):
        raise InvalidEvent(f"expected a {RESOURCE_TYPE} configuration item, got {item.get('resourceType')!r}")
    when = _timestamp(item.get("configurationItemCaptureTime"))
    if item.get("configurationItemStatus") in DELETED:
        return [_evaluation(item["resourceId"], (NOT_APPLICABLE, "the security group was deleted"), when)]
    if event.get("eventLeftScope"):
        return [_evaluation(item["resourceId"], (NOT_APPLICABLE, "the security group left the rule's scope"), when)]
    return judged(when)


def put(evaluations: list[dict[str, Any]], token: str) -> None:
    """Send ``evaluations`` with the event's result token, 100 at a time; raise on a refused one."""
    config = _client("config")
    for start in range(0, len(evaluations), BATCH):
        batch = evaluations[start : start + BATCH]
        kwargs: dict[str, Any] = {"Evaluations": batch, "ResultToken": token}
        if token == TEST_MODE_TOKEN:
            kwargs["TestMode"] = True
        failed = config.put_evaluations(**kwargs).get("FailedEvaluations", [])
        if failed:
            raise RuntimeError(f"PutEvaluations refused {len(failed)} evaluations: {failed[:3]}")


def handler(event: Any, context: object) -> dict[str, Any]:
    """Lambda entry point: evaluate, send the evaluations with the result token, return them."""
    if not isinstance(event, dict) or not event.get("resultToken"):
        raise InvalidEvent("expected an AWS Config rule event with a resultToken")
    evaluations = evaluate(event)
    if evaluations:
        put(evaluations, str(event["resultToken"]))
    for item in evaluations:
        line = {"message": "evaluation", **item, "OrderingTimestamp": item["OrderingTimestamp"].isoformat()}
        LOGGER.info(json.dumps(line, sort_keys=True))
    return {"evaluations": [{k: v for k, v in e.items() if k != "OrderingTimestamp"} for e in evaluations]}
