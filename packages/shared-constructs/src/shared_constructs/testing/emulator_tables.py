"""What the emulator cannot do, in two tables, and the drift check that reads them.

:data:`EMULATOR_EXCLUSIONS`: resource types the emulator cannot create; apps skip them through
``settings.creates(type)``. :data:`TOLERATED_DRIFT`: planned changes that come from moto returning
less than AWS. Both lists only shrink; anything else planned after an apply is a failure.
"""

from __future__ import annotations

from typing import Any

EMULATOR_EXCLUSIONS: dict[str, str] = {
    "aws_dynamodb_table.replica": "moto has no global tables: apply waits forever for replicas",
    "aws_guardduty_publishing_destination": "moto lacks CreatePublishingDestination (404)",
    "aws_securityhub_standards_subscription": "moto lacks BatchEnableStandards (404)",
    "aws_networkfirewall_rule_group": "moto lacks CreateRuleGroup (500)",
    "aws_networkfirewall_firewall_policy": "moto lacks CreateFirewallPolicy (500)",
    "aws_networkfirewall_firewall": "moto creates firewalls but lacks DeleteFirewall, so destroy fails",
    "aws_sqs_queue.redrive_allow_policy": "moto never returns redrive_allow_policy: the provider waits until timeout",
    "aws_xray_sampling_rule": "moto lacks the X-Ray sampling-rule API",
    "aws_xray_encryption_config": "moto lacks the X-Ray encryption-config API",
    "aws_cloudwatch_query_definition": "moto lacks the CloudWatch Logs query-definition API",
    "aws_route53_health_check.cloudwatch_metric": "moto drops the alarm of a CLOUDWATCH_METRIC check, so every plan replaces it",
}
"""Resource types (or ``type.block`` pseudo-types) the emulator cannot create, with the reason.
Packages skip them through ``settings.creates(type)``. This list only shrinks."""

TOLERATED_DRIFT: dict[tuple[str, str], str] = {
    ("aws_sqs_queue", "redrive_policy"): "moto returns the JSON with other whitespace",
    (
        "aws_s3_bucket_replication_configuration",
        "rule",
    ): "moto drops delete_marker_replication and source_selection_criteria",
    ("aws_lambda_function", "logging_config"): "moto does not return logging_config",
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


def changed_attributes(change: dict[str, Any]) -> set[str]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    keys = set(before) | set(after)
    return {k for k in keys if before.get(k) != after.get(k) or unknown.get(k) is True}


def untolerated_drift(plan: dict[str, Any]) -> list[str]:
    """Planned changes not explained by :data:`TOLERATED_DRIFT`, one line each."""
    problems = []
    for rc in plan.get("resource_changes", []):
        actions = rc.get("change", {}).get("actions", [])
        if actions in (["no-op"], ["read"]):
            continue
        if ("create" in actions and "delete" not in actions) or actions == ["delete"]:
            problems.append(f"{rc['address']}: {'/'.join(actions)}")
            continue
        changed = changed_attributes(rc["change"])
        left = sorted(a for a in changed if (rc["type"], a) not in TOLERATED_DRIFT)
        if left:
            problems.append(f"{rc['address']}: {'/'.join(actions)} of {', '.join(left)}")
    return problems
