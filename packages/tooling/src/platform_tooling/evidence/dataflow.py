"""PCI DSS 1.2.4 account-data flow diagram from a synthesized package (see :mod:`.diagrams`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_tooling.evidence.diagrams import CARDHOLDER, _id, _label, _name, _refs, _resources
from platform_tooling.evidence.matrix import Stacks

ENCRYPTED = (
    "aws_cloudwatch_event_bus",
    "aws_cloudwatch_log_group",
    "aws_dynamodb_table",
    "aws_kinesis_firehose_delivery_stream",
    "aws_lambda_function",
    "aws_launch_template",
    "aws_rds_cluster",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_sfn_state_machine",
    "aws_sns_topic",
    "aws_sqs_queue",
    "aws_ssm_parameter",
)
"""Resource types whose configuration names the KMS key their data is encrypted with."""
IGNORED_KEYS = ("policy", "//", "tags", "tags_all", "environment", "depends_on")
"""Attributes that mention keys without encrypting the resource's data with them."""
DESTINATIONS = (
    "aws_cloudwatch_event_bus",
    "aws_dynamodb_table",
    "aws_kinesis_firehose_delivery_stream",
    "aws_rds_cluster",
    "aws_s3_bucket",
    "aws_sns_topic",
    "aws_sqs_queue",
)
"""Types a function's environment may name as a place it moves data to or from."""


def _classification(document: Mapping[str, Any]) -> str:
    providers = document.get("provider", {}).get("aws", [])
    tags = [p.get("default_tags", [{}])[0].get("tags", {}) for p in providers]
    return str(tags[0].get("DataClassification", "")) if tags else ""


LABEL_KEYS = ("function_name", "bucket", "cluster_identifier", "name")


def _labels(stack: str, document: Mapping[str, Any]) -> dict[str, str]:
    """Node id -> readable label for every resource of the stack."""
    found = {}
    for type_, items in document.get("resource", {}).items():
        for name, resource in items.items():
            value = next((resource[k] for k in LABEL_KEYS if isinstance(resource.get(k), str)), None)
            label = value if value and "${" not in value else _name(resource, name)
            found[_id(stack, type_, name)] = f"{type_.removeprefix('aws_')} {label}"
    return found


def _encrypted(stack: str, document: Mapping[str, Any]) -> dict[str, str]:
    """Node id -> key node id for every resource encrypted with a key of the stack."""
    found = {}
    for type_ in ENCRYPTED:
        for name, resource in _resources(document, type_):
            config = {k: v for k, v in resource.items() if k not in IGNORED_KEYS}
            keys = sorted({n for t, n in _refs(config) if t == "aws_kms_key"})
            if not keys:
                continue
            node = _id(stack, type_, name)
            if type_ == "aws_s3_bucket_server_side_encryption_configuration":
                node = _id(stack, *next(r for r in _refs(resource["bucket"]) if r[0] == "aws_s3_bucket"))
            found[node] = _id(stack, "aws_kms_key", keys[0])
    return found


def _moves(stack: str, document: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(from, to, how) for triggers, targets and named destinations that move data."""
    moves = []
    for _, note in _resources(document, "aws_s3_bucket_notification"):
        source = _id(stack, *next(r for r in _refs(note["bucket"]) if r[0] == "aws_s3_bucket"))
        for type_, name in _refs(note.get("lambda_function", [])):
            moves.append((source, _id(stack, type_, name), "object created"))
    for _, mapping in _resources(document, "aws_lambda_event_source_mapping"):
        pairs = zip(_refs(mapping["event_source_arn"]), _refs(mapping["function_name"]), strict=False)
        for source_ref, function_ref in pairs:
            moves.append((_id(stack, *source_ref), _id(stack, *function_ref), "event source"))
    rules = document.get("resource", {}).get("aws_cloudwatch_event_rule", {})
    for _, target in _resources(document, "aws_cloudwatch_event_target"):
        rule = rules.get(_refs(target["rule"])[0][1], {}) if _refs(target["rule"]) else {}
        buses = [r for r in _refs(rule.get("event_bus_name", "")) if r[0] == "aws_cloudwatch_event_bus"]
        for destination in _refs(target["arn"])[:1]:
            if buses:
                moves.append((_id(stack, *buses[0]), _id(stack, *destination), "event rule"))
    for name, stream in _resources(document, "aws_kinesis_firehose_delivery_stream"):
        for type_, other in _refs(stream.get("extended_s3_configuration", [])):
            if type_ in ("aws_s3_bucket", "aws_lambda_function"):
                moves.append(
                    (_id(stack, "aws_kinesis_firehose_delivery_stream", name), _id(stack, type_, other), "delivery")
                )
    # A function's environment names the stores, queues and buses it reads or writes.
    for name, function in _resources(document, "aws_lambda_function"):
        for type_, other in _refs(function.get("environment", [])):
            if type_ in DESTINATIONS:
                moves.append(
                    (_id(stack, "aws_lambda_function", name), _id(stack, type_, other), "named in environment")
                )
    return moves


def account_data_flow(stacks: Stacks) -> str | None:
    """Mermaid flowchart of cardholder-data stores and flows; None outside a cardholder package."""
    if not any(_classification(d) == CARDHOLDER for d in stacks.values()):
        return None
    encrypted: dict[str, str] = {}
    labels: dict[str, str] = {}
    keys: dict[str, str] = {}
    moves: list[tuple[str, str, str]] = []
    for stack, document in sorted(stacks.items()):
        encrypted |= _encrypted(stack, document)
        labels |= _labels(stack, document)
        for _, alias in _resources(document, "aws_kms_alias"):
            for type_, name in _refs(alias["target_key_id"]):
                keys[_id(stack, type_, name)] = str(alias["name"])
        moves += _moves(stack, document)
    cardholder_keys = {k for k, alias in keys.items() if CARDHOLDER in alias}
    scoped = {n for n, key in encrypted.items() if key in cardholder_keys}
    scoped |= {end for a, b, _ in moves if a in scoped or b in scoped for end in (a, b) if end in labels}
    lines = ["flowchart LR", f"  subgraph cde[{_label('stores and carries cardholder data')}]"]
    lines += [f"    {n}[{_label(labels[n])}]" for n in sorted(scoped)]
    lines += ["  end", f"  subgraph kms[{_label('KMS keys')}]"]
    lines += [
        f"    {k}[({_label(keys.get(k, k))[1:-1]})]" for k in sorted({encrypted[n] for n in scoped if n in encrypted})
    ]
    lines.append("  end")
    edges = {f"  {a} -->|{how}| {b}" for a, b, how in moves if a in scoped and b in scoped}
    edges |= {f"  {n} -.->|encrypted by| {encrypted[n]}" for n in scoped if n in encrypted}
    return "\n".join([*lines, *sorted(edges)]) + "\n"
