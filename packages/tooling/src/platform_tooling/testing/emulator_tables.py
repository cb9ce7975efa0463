"""What the emulator cannot do, in two tables, and the drift check that reads them.

:data:`EMULATOR`: the target profile of the emulator; its exclusions name what moto cannot create,
and :func:`platform_tooling.targets.apply_target` takes them (and what refers to them) out of the
synthesized stacks. :data:`TOLERATED_DRIFT`: planned changes that come from moto returning less
than AWS. Both lists only shrink; anything else planned after an apply is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from platform_tooling.targets import Address, Exclusion, Stacks, Target

_TABLE_ARN = re.compile(r":dynamodb:([a-z0-9-]+):[^:]*:table/([A-Za-z0-9_.-]+)$")


def _region_of(doc: Any, config: Any) -> str:
    """The region of the provider a resource or data source of ``doc`` uses."""
    alias = str(config.get("provider", "")).removeprefix("${aws.").removesuffix("}") or None
    blocks = doc.get("provider", {}).get("aws", [])
    for block in blocks if isinstance(blocks, list) else [blocks]:
        if block.get("alias") == alias:
            return str(block.get("region", ""))
    return ""


def _replica_companions(stacks: Stacks) -> set[Address]:
    """Lookups of a global table's replicas by name (data sources, tags on the replica's ARN) in the
    replicas' regions: without the replicas there is nothing there to find."""
    replicated = {
        (table.get("name"), replica.get("region_name"))
        for doc in stacks.values()
        for table in doc.get("resource", {}).get("aws_dynamodb_table", {}).values()
        for replica in table.get("replica", []) or []
    }
    found: set[Address] = set()
    for stack, doc in stacks.items():
        for name, config in doc.get("data", {}).get("aws_dynamodb_table", {}).items():
            if (config.get("name"), _region_of(doc, config)) in replicated:
                found.add((stack, f"data.aws_dynamodb_table.{name}"))
        for name, config in doc.get("resource", {}).get("aws_dynamodb_tag", {}).items():
            match = _TABLE_ARN.search(str(config.get("resource_arn", "")))
            if match and (match.group(2), match.group(1)) in replicated:
                found.add((stack, f"aws_dynamodb_tag.{name}"))
    return found


EMULATOR = Target(
    "emulator",
    exclusions=(
        Exclusion(
            type="aws_dynamodb_table",
            block="replica",
            reason="moto has no global tables: apply waits forever for replicas",
            companions=_replica_companions,
        ),
        Exclusion(type="aws_guardduty_publishing_destination", reason="moto lacks CreatePublishingDestination (404)"),
        Exclusion(type="aws_securityhub_standards_subscription", reason="moto lacks BatchEnableStandards (404)"),
        Exclusion(type="aws_networkfirewall_rule_group", reason="moto lacks CreateRuleGroup (500)"),
        Exclusion(type="aws_networkfirewall_firewall_policy", reason="moto lacks CreateFirewallPolicy (500)"),
        Exclusion(
            type="aws_networkfirewall_firewall",
            reason="moto creates firewalls but lacks DeleteFirewall, so destroy fails",
        ),
        Exclusion(
            type="aws_sqs_queue",
            block="redrive_allow_policy",
            reason="moto never returns redrive_allow_policy: the provider waits until timeout",
        ),
        Exclusion(type="aws_xray_sampling_rule", reason="moto lacks the X-Ray sampling-rule API"),
        Exclusion(type="aws_lambda_invocation", reason="moto invokes Lambda functions only through Docker"),
        *(
            Exclusion(type=f"aws_route53_resolver_{kind}", reason="moto lacks the Route 53 Resolver DNS Firewall API")
            for kind in (
                "firewall_domain_list",
                "firewall_rule_group",
                "firewall_rule",
                "firewall_rule_group_association",
                "firewall_config",
            )
        ),
        *(
            Exclusion(
                type=f"aws_route53_resolver_{kind}",
                reason="moto creates query-log configurations but lacks their delete and disassociate calls",
            )
            for kind in ("query_log_config", "query_log_config_association")
        ),
        Exclusion(type="aws_xray_encryption_config", reason="moto lacks the X-Ray encryption-config API"),
        Exclusion(type="aws_cloudwatch_query_definition", reason="moto lacks the CloudWatch Logs query-definition API"),
        Exclusion(
            type="aws_route53_health_check",
            where={"type": "CLOUDWATCH_METRIC"},
            detach=("health_check_id",),
            reason="moto drops the alarm of a CLOUDWATCH_METRIC check, so every plan replaces it",
        ),
    ),
)
"""The emulator's target profile. This list only shrinks."""

TOLERATED_DRIFT: dict[tuple[str, str], str] = {
    ("aws_security_group_rule", "description"): "moto drops descriptions of prefix-list rules",
    ("aws_flow_log", "destination_options"): "moto does not return destination_options",
    ("aws_rds_cluster", "scaling_configuration"): "moto returns an empty scaling_configuration block",
    ("aws_rds_cluster_instance", "performance_insights_enabled"): "moto does not return performance insights",
    ("aws_rds_cluster_instance", "performance_insights_kms_key_id"): "moto does not return performance insights",
    ("aws_rds_cluster_instance", "performance_insights_retention_period"): "moto does not return performance insights",
    ("aws_autoscaling_group", "default_instance_warmup"): "moto does not return default_instance_warmup",
    ("aws_autoscaling_policy", "enabled"): "moto does not return enabled",
    ("aws_autoscaling_policy", "predictive_scaling_configuration"): "moto does not return it",
    ("aws_vpc_peering_connection_accepter", "tags"): "moto keeps one tag set for both sides of a peering",
    ("aws_vpc_peering_connection_accepter", "tags_all"): "moto keeps one tag set for both sides of a peering",
    ("aws_vpc_peering_connection", "tags"): "moto keeps one tag set for both sides of a peering",
    ("aws_vpc_peering_connection", "tags_all"): "moto keeps one tag set for both sides of a peering",
    ("aws_launch_template", "tag_specifications"): "moto returns the template's own tags as a tag specification",
    ("aws_launch_template", "latest_version"): "follows moto's tag_specifications difference",
    ("aws_launch_template", "default_version"): "follows moto's tag_specifications difference",
    ("aws_route53_zone", "vpc"): "moto returns no VPCs for a private hosted zone",
}
"""(resource type, attribute) -> why moto, not the product, makes this planned change."""


def changed_attributes(change: Mapping[str, Any]) -> set[str]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    keys = set(before) | set(after)
    return {k for k in keys if before.get(k) != after.get(k) or unknown.get(k) is True}


def is_tolerated(rc: Mapping[str, Any]) -> bool:
    """True when a planned resource change (``resource_changes`` item) is the emulator's known
    drift: an update or replacement whose changed attributes are all in :data:`TOLERATED_DRIFT`."""
    actions = rc.get("change", {}).get("actions", [])
    if actions in (["no-op"], ["read"]):
        return True
    if ("create" in actions and "delete" not in actions) or actions == ["delete"]:
        return False
    return all((rc["type"], a) in TOLERATED_DRIFT for a in changed_attributes(rc["change"]))


def untolerated_drift(plan: dict[str, Any]) -> list[str]:
    """Planned changes not explained by :data:`TOLERATED_DRIFT`, one line each."""
    problems = []
    for rc in plan.get("resource_changes", []):
        if is_tolerated(rc):
            continue
        actions = rc.get("change", {}).get("actions", [])
        left = sorted(a for a in changed_attributes(rc["change"]) if (rc["type"], a) not in TOLERATED_DRIFT)
        whole = ("create" in actions and "delete" not in actions) or actions == ["delete"]
        detail = f" of {', '.join(left)}" if left and not whole else ""
        problems.append(f"{rc['address']}: {'/'.join(actions)}{detail}")
    return problems
