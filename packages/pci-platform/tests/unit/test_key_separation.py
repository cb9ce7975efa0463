"""Keys by service and by data classification (payment-platform-security.md section 8, pci-data-processing.md).

Every place a resource names a key to encrypt with is found in the synthesized stack; no key serves
two of Aurora, S3, Parameter Store and EventBridge, and each store's key carries the store's data
classification (the table below is this test's own reading of what each store holds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pci_platform.security import key_table_markdown
from platform_tooling.testing.query import resources

KEY_REFERENCE = re.compile(r"\$\{aws_kms_key\.keys_([a-z]+)_key_[0-9A-F]+\.(?:arn|key_id|id)\}")
SEPARATED = (
    "aws_rds_cluster",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_ssm_parameter",
    "aws_cloudwatch_event_bus",
)
"""Aurora, S3, Parameter Store, EventBridge: no key may serve two of them (section 8)."""
NOT_ENCRYPTION = ("aws_kms_alias", "aws_iam_policy")
"""Types that name a key without encrypting anything with it (its alias; grants to roles)."""
CLASSIFIED: list[tuple[str, str, str]] = [
    # (type, construct-path prefix of the address, classification of what it stores)
    ("aws_s3_bucket_server_side_encryption_configuration", "data_cardholder_", "cardholder"),  # full PANs
    ("aws_s3_bucket_server_side_encryption_configuration", "waf_logs_", "cardholder"),  # URIs may carry PANs
    ("aws_sqs_queue", "compute_dead_letters_", "cardholder"),  # failed events of cardholder objects
    ("aws_s3_bucket_server_side_encryption_configuration", "data_processed_", "confidential"),  # truncated
    ("aws_s3_bucket_server_side_encryption_configuration", "streaming_bucket_", "confidential"),  # masked
    ("aws_kinesis_firehose_delivery_stream", "streaming_", "confidential"),
    ("aws_rds_cluster", "database_", "confidential"),  # tokenized payments
    ("aws_rds_cluster_instance", "database_", "confidential"),
    ("aws_cloudwatch_event_bus", "events_", "confidential"),  # payment events
    ("aws_sqs_queue", "events_", "confidential"),
    ("aws_sns_topic", "events_ops_", "confidential"),  # payment.failed events
    ("aws_launch_template", "batch_", "confidential"),  # hosts settling payments
    ("aws_ssm_parameter", "parameters_", "restricted"),
    ("aws_s3_bucket_server_side_encryption_configuration", "data_flow_logs_", "internal"),
    ("aws_cloudwatch_log_group", "", "internal"),
    ("aws_lambda_function", "", "internal"),  # environment variables
    ("aws_networkfirewall_firewall", "", "internal"),
    ("aws_networkfirewall_firewall_policy", "", "internal"),
    ("aws_networkfirewall_rule_group", "", "internal"),
    ("aws_xray_encryption_config", "", "internal"),
]


def _references(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(attribute path, key name) of every key reference in ``value``."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _references(item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{path}.{index}")
    elif isinstance(value, str):
        for match in KEY_REFERENCE.finditer(value):
            yield path, match.group(1)


def encryptions(stack: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(type, name, attribute, key name) of every resource attribute that names a key to encrypt with.

    A function's environment may hand a key ARN to its code (the processor writes with the processed
    key): that is a use by the code, checked on its own, not what encrypts the function."""
    found = []
    for type_, items in stack["resource"].items():
        if type_ in NOT_ENCRYPTION:
            continue
        for name, config in items.items():
            for path, key in _references(config):
                if not path.startswith("environment."):
                    found.append((type_, name, path, key))
    return found


def key_classification(stack: dict[str, Any]) -> dict[str, str]:
    tagged = {
        name.split("_")[1]: key["tags"]["DataClassification"] for name, key in resources(stack, "aws_kms_key").items()
    }
    assert len(tagged) == 8
    return tagged


@pytest.mark.requirement("SEC-8")
def test_no_key_serves_two_of_aurora_s3_parameter_store_and_eventbridge(stack: dict[str, Any]) -> None:
    by_key: dict[str, set[str]] = {}
    for type_, _, _, key in encryptions(stack):
        if type_ in SEPARATED:
            by_key.setdefault(key, set()).add(type_)
    assert {t for types in by_key.values() for t in types} == set(SEPARATED)  # each is encrypted
    shared = {key: sorted(types) for key, types in by_key.items() if len(types) > 1}
    assert shared == {}


@pytest.mark.requirement("SEC-8", "PCI-3")
def test_every_key_serves_one_data_classification_that_of_what_it_encrypts(stack: dict[str, Any]) -> None:
    classification = key_classification(stack)
    found = encryptions(stack)
    assert len(found) > 30
    served: dict[str, set[str]] = {}
    for type_, name, path, key in found:
        matches = [c for t, prefix, c in CLASSIFIED if t == type_ and name.startswith(prefix)]
        assert matches, f"{type_}.{name} ({path}) is not in this test's classification table"
        assert classification[key] == matches[0], f"{type_}.{name} ({path}) uses the {key} key"
        served.setdefault(key, set()).add(matches[0])
    assert all(len(classes) == 1 for classes in served.values()), served


def test_the_secrets_key_serves_only_the_database_secrets(prod_stack: dict[str, Any]) -> None:
    stack = prod_stack
    (key,) = [k for n, k in resources(stack, "aws_kms_key").items() if n.startswith("keys_secrets_key_")]
    assert key["tags"]["DataClassification"] == "restricted"
    assert len(key["//"]["encrypts"]) == 2
    assert all(ref.startswith("${data.aws_secretsmanager_secret.") for ref in key["//"]["encrypts"])
    assert not [e for e in encryptions(stack) if e[3] == "secrets"]


def test_the_processor_writes_with_the_key_of_the_processed_bucket(stack: dict[str, Any]) -> None:
    (function,) = [f for n, f in resources(stack, "aws_lambda_function").items() if n.startswith("compute_processor_")]
    written = function["environment"]["variables"]["TARGET_KEY_ARN"]
    (encryption,) = [
        e
        for n, e in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").items()
        if n.startswith("data_processed_")
    ]
    assert written == encryption["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"]


def test_readme_key_table_is_generated_from_the_code() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert key_table_markdown() in readme
    assert key_table_markdown().count("\n| `") == 8
