"""What a destroyed package left in the emulator: its tagged resources, in every account and region."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from shared_constructs.tagging import APP_TAG

if TYPE_CHECKING:
    from platform_tooling.deploy.emulator import Emulator

TAG_KEYS = (APP_TAG, "Package")
"""Tag keys that name the owning package: ``App`` replaced ``Package``
(docs/decisions/0010-one-tag-policy.md); resources an older version tagged are found too."""
_FINISHED_PEERING = ("deleted", "rejected", "failed", "expired")
_FINISHED_NAT = ("deleted", "deleting", "failed")
_FINISHED_INSTANCE = ("shutting-down", "terminated")


def _providers(stack: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = stack.get("provider", {}).get("aws", [])
    return blocks if isinstance(blocks, list) else [blocks]


def _gone(emulator: Emulator, arn: str, region: str, role: str | None) -> bool:
    """Resources AWS (and moto) still list for a while after they are deleted: peering connections,
    NAT gateways and instances (an Auto Scaling group's, tagged by its launch template) in a final
    state, automated cluster snapshots, keys pending deletion."""
    if ":vpc-peering-connection/" in arn:
        ec2 = emulator.client("ec2", region, role)
        found = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[arn.rsplit("/", 1)[1]])
        return all(p["Status"]["Code"] in _FINISHED_PEERING for p in found["VpcPeeringConnections"])
    if ":natgateway/" in arn:
        ec2 = emulator.client("ec2", region, role)
        gateways = ec2.describe_nat_gateways(NatGatewayIds=[arn.rsplit("/", 1)[1]])["NatGateways"]
        return all(g["State"] in _FINISHED_NAT for g in gateways)
    if ":instance/" in arn and ":ec2:" in arn:
        ec2 = emulator.client("ec2", region, role)
        reservations = ec2.describe_instances(InstanceIds=[arn.rsplit("/", 1)[1]])["Reservations"]
        return all(i["State"]["Name"] in _FINISHED_INSTANCE for r in reservations for i in r["Instances"])
    if ":cluster-snapshot:rds:" in arn:
        return True  # automated Aurora snapshots outlive the cluster (AWS keeps them too)
    if ":kms:" in arn and ":key/" in arn:
        state = emulator.client("kms", region, role).describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]
        return bool(state == "PendingDeletion")
    return False


def leftovers(emulator: Emulator, package: str, stacks: Iterable[Mapping[str, Any]]) -> list[str]:
    """ARNs of resources tagged with ``package`` that the emulator still holds."""
    found: set[str] = set()
    seen: set[tuple[str, str | None]] = set()
    for stack in stacks:
        for provider in _providers(stack):
            role = (provider.get("assume_role") or [{}])[0].get("role_arn")
            if (provider["region"], role) in seen:
                continue
            seen.add((provider["region"], role))
            tagging = emulator.client("resourcegroupstaggingapi", provider["region"], role)
            for key in TAG_KEYS:
                pages = tagging.get_paginator("get_resources").paginate(TagFilters=[{"Key": key, "Values": [package]}])
                for page in pages:
                    for item in page["ResourceTagMappingList"]:
                        if not _gone(emulator, item["ResourceARN"], provider["region"], role):
                            found.add(item["ResourceARN"])
    return sorted(found)
