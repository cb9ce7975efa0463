"""Buckets (deny statements, logging, lifecycle) and keys per classification (named roles only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import resources, statement, statements

BUCKETS = {
    "access_logs": "pci-platform-access-logs-apse1-dev",
    "flow_logs": "pci-platform-flow-logs-apse1-dev",
    "cardholder": "pci-platform-cardholder-data-apse1-dev",
    "processed": "pci-platform-processed-data-apse1-dev",
}
DATA_BUCKETS = ["cardholder", "processed"]


def bucket_policy(stack: dict[str, Any], role: str) -> dict[str, Any]:
    found = [p for n, p in resources(stack, "aws_s3_bucket_policy").items() if n.startswith(f"data_{role}_")]
    assert len(found) == 1
    return found[0]


def companion(stack: dict[str, Any], type_: str, role: str) -> dict[str, Any]:
    found = [r for n, r in resources(stack, type_).items() if n.startswith(f"data_{role}_")]
    assert len(found) == 1, (type_, role)
    return found[0]


APP_BUCKETS = [
    "pci-platform-alb-logs-apse1-dev",
    "pci-platform-transaction-logs-apse1-dev",
    "aws-waf-logs-pci-platform-payments-apse1-dev",
]


@pytest.mark.requirement("SEC-D2", "PCI-C7")
def test_bucket_names(stack: dict[str, Any]) -> None:
    assert sorted(b["bucket"] for b in resources(stack, "aws_s3_bucket").values()) == sorted(
        [*BUCKETS.values(), *APP_BUCKETS]
    )
    assert all(b["force_destroy"] is True for b in resources(stack, "aws_s3_bucket").values())


@pytest.mark.requirement("PCI-4", "PCI-C6")
@pytest.mark.parametrize("role", list(BUCKETS))
def test_every_bucket_denies_insecure_transport_and_old_tls(stack: dict[str, Any], role: str) -> None:
    policy = bucket_policy(stack, role)
    tls = statement(policy, "DenyInsecureTransport")
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", {"AWS": "*"}, "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    old = statement(policy, "DenyOutdatedTls")
    assert old["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


@pytest.mark.requirement("PCI-4")
@pytest.mark.parametrize("role", DATA_BUCKETS)
def test_data_buckets_deny_unencrypted_uploads_and_version_deletion_without_mfa(
    stack: dict[str, Any], role: str
) -> None:
    policy = bucket_policy(stack, role)
    unencrypted = statement(policy, "DenyUnencryptedUpload")
    assert (unencrypted["Effect"], unencrypted["Action"]) == ("Deny", "s3:PutObject")
    assert unencrypted["Condition"] == {"Null": {"s3:x-amz-server-side-encryption": "true"}}
    other = statement(policy, "DenyOtherEncryption")
    assert other["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    mfa = statement(policy, "DenyVersionDeletionWithoutMfa")
    assert (mfa["Effect"], mfa["Principal"], mfa["Action"]) == ("Deny", {"AWS": "*"}, "s3:DeleteObjectVersion")
    # dev is destroyable: only the deployer (config/dev.toml) may delete versions without MFA.
    assert mfa["Condition"] == {
        "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
        "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/pci-platform-deployer"},
    }
    deny_sids = sorted(s["Sid"] for s in statements(policy) if s["Effect"] == "Deny")
    assert deny_sids == [
        "DenyInsecureTransport",
        "DenyOtherEncryption",
        "DenyOutdatedTls",
        "DenyUnencryptedUpload",
        "DenyVersionDeletionWithoutMfa",
    ]


def test_log_buckets_deny_exactly_the_transport_and_encryption_statements(stack: dict[str, Any]) -> None:
    flow = sorted(s["Sid"] for s in statements(bucket_policy(stack, "flow_logs")) if s["Effect"] == "Deny")
    assert flow == ["DenyInsecureTransport", "DenyOtherEncryption", "DenyOutdatedTls"]
    access = sorted(s["Sid"] for s in statements(bucket_policy(stack, "access_logs")) if s["Effect"] == "Deny")
    assert access == ["DenyInsecureTransport", "DenyOutdatedTls"]


@pytest.mark.requirement("PCI-3")
@pytest.mark.parametrize(
    ("role", "key"), [("cardholder", "cardholder"), ("processed", "processed"), ("flow_logs", "logs")]
)
def test_buckets_use_their_classification_key(stack: dict[str, Any], role: str, key: str) -> None:
    rule = companion(stack, "aws_s3_bucket_server_side_encryption_configuration", role)["rule"][0]
    default = rule["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms"
    assert default["kms_master_key_id"].startswith(f"${{aws_kms_key.keys_{key}_key_")
    assert rule["bucket_key_enabled"] is True


@pytest.mark.requirement("PCI-4")
@pytest.mark.parametrize("role", ["flow_logs", "cardholder", "processed"])
def test_every_bucket_is_access_logged(stack: dict[str, Any], role: str) -> None:
    logging = companion(stack, "aws_s3_bucket_logging", role)
    assert logging["target_bucket"].startswith("${aws_s3_bucket.data_access_logs_bucket_")
    assert logging["target_prefix"] == f"{BUCKETS[role]}/"


@pytest.mark.requirement("PCI-4")
@pytest.mark.parametrize("role", DATA_BUCKETS)
def test_where_stateful_resources_are_protected_nobody_deletes_versions_without_mfa(
    synth: Callable[..., SynthResult], role: str
) -> None:
    prod = synth("pci-platform", environment="prod").stacks["pci-platform"]
    (policy,) = [p for n, p in resources(prod, "aws_s3_bucket_policy").items() if n.startswith(f"data_{role}_")]
    mfa = statement(policy, "DenyVersionDeletionWithoutMfa")
    assert (mfa["Effect"], mfa["Principal"]) == ("Deny", {"AWS": "*"})
    assert mfa["Condition"] == {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}


@pytest.mark.requirement("PCI-1")
@pytest.mark.parametrize(
    ("role", "expiration", "noncurrent"),
    [("flow_logs", 90, 1), ("access_logs", 365, 30), ("cardholder", 30, 7), ("processed", None, 365)],
)
def test_bucket_lifecycles(stack: dict[str, Any], role: str, expiration: int | None, noncurrent: int) -> None:
    """Raw cardholder objects expire (``data.cardholder_retention_days`` = 30 and 7 days for old
    versions by default); the other buckets keep the retention their purpose needs."""
    (rule,) = companion(stack, "aws_s3_bucket_lifecycle_configuration", role)["rule"]
    assert rule["status"] == "Enabled"
    assert (rule.get("expiration") or [{}])[0].get("days") == expiration
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == noncurrent


@pytest.mark.requirement("PCI-4")
@pytest.mark.parametrize("role", list(BUCKETS))
def test_every_bucket_is_versioned_and_private(stack: dict[str, Any], role: str) -> None:
    assert companion(stack, "aws_s3_bucket_versioning", role)["versioning_configuration"]["status"] == "Enabled"
    block = companion(stack, "aws_s3_bucket_public_access_block", role)
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


KEY_NAMES = ["cardholder", "processed", "database", "events", "volumes", "parameters", "secrets", "logs"]


def key_policy(stack: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found = [k for n, k in resources(stack, "aws_kms_key").items() if n.startswith(f"keys_{name}_key_")]
    assert len(found) == 1
    assert found[0]["enable_key_rotation"] is True
    return json.loads(found[0]["policy"])["Statement"]  # type: ignore[no-any-return]


@pytest.mark.requirement("PCI-3", "SEC-8")
@pytest.mark.parametrize("name", KEY_NAMES)
def test_root_administers_but_cannot_use_keys(stack: dict[str, Any], name: str) -> None:
    admin = next(s for s in key_policy(stack, name) if s["Sid"] == "KeyAdministration")
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])


@pytest.mark.requirement("PCI-3", "SEC-8")
@pytest.mark.parametrize(
    ("name", "roles"),
    [
        ("cardholder", {"compute_processor_role"}),
        ("processed", {"compute_processor_role", "streaming_role", "batch_role"}),
        ("database", set()),
        ("events", {"api_payment_role", "batch_role"}),
        ("volumes", set()),
        ("parameters", {"api_payment_role"}),
        # dev's database secrets are under the operator's key (config/dev.toml): this key serves nothing.
        ("secrets", set()),
        (
            "logs",
            {
                "compute_processor_role",
                "secrets_rotation_role",
                "secrets_schema_role",
                "api_payment_role",
                "streaming_transformer_role",
            },
        ),
    ],
)
def test_keys_name_the_specific_roles_allowed_to_use_them(stack: dict[str, Any], name: str, roles: set[str]) -> None:
    principals = set()
    for s in key_policy(stack, name):
        for arn in (
            [s["Principal"].get("AWS", [])]
            if isinstance(s["Principal"].get("AWS"), str)
            else s["Principal"].get("AWS", [])
        ):
            if "aws_iam_role." in arn:
                principals.add(arn.split(".")[1].rsplit("_", 1)[0])
    assert principals == roles


def test_secrets_key_is_used_only_through_secrets_manager(prod_stack: dict[str, Any]) -> None:
    """prod keeps the database secrets under this package's secrets key: the rotation, the proxy and
    the schema step use it, each through Secrets Manager only."""
    stack = prod_stack
    policy = key_policy(stack, "secrets")
    users = {}
    for s in policy:
        named = s["Principal"].get("AWS", [])
        for arn in [named] if isinstance(named, str) else named:
            if "aws_iam_role." in arn:
                users[arn.split(".")[1].rsplit("_", 1)[0]] = s
    assert set(users) == {"secrets_rotation_role", "database_proxy_role", "secrets_schema_role"}
    assert all(
        s["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.ap-southeast-1.amazonaws.com"}}
        for s in users.values()
    )
    assert sorted(users["secrets_rotation_role"]["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    assert users["secrets_schema_role"]["Action"] == "kms:Decrypt"
    vias = [s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService") for s in policy]
    assert "ssm.ap-southeast-1.amazonaws.com" not in vias  # Parameter Store has its own key


@pytest.mark.requirement("PCI-3", "SEC-8")
def test_key_aliases_per_service_and_classification(stack: dict[str, Any]) -> None:
    aliases = sorted(a["name"] for a in resources(stack, "aws_kms_alias").values())
    assert aliases == sorted(f"alias/pci-platform-{name}-apse1-dev" for name in KEY_NAMES)


@pytest.mark.requirement("SEC-C9", "PCI-C9")
def test_log_groups_are_encrypted_with_the_logs_key(stack: dict[str, Any]) -> None:
    groups = resources(stack, "aws_cloudwatch_log_group").values()
    assert sorted(g["name"] for g in groups) == [
        "/aws/kinesisfirehose/pci-platform-transactions-apse1-dev",
        "/aws/lambda/pci-platform-database-schema-apse1-dev",
        "/aws/lambda/pci-platform-payment-apse1-dev",
        "/aws/lambda/pci-platform-processor-apse1-dev",
        "/aws/lambda/pci-platform-secret-rotation-apse1-dev",
        "/aws/lambda/pci-platform-transformer-apse1-dev",
        "/aws/rds/cluster/pci-platform-payments-apse1-dev/postgresql",
        "/pci-platform/dev/dns-queries",
        "/pci-platform/dev/network-firewall/alerts",
        "/pci-platform/dev/vpc-flow-logs",
    ]
    assert all(g["kms_key_id"].startswith("${aws_kms_key.keys_logs_key_") for g in groups)
    retention = {g["name"]: g["retention_in_days"] for g in groups}
    assert (
        retention.pop("/pci-platform/dev/vpc-flow-logs") == 30
    )  # the platform security requirements: flow logs kept 30 days
    assert set(retention.values()) == {365}  # log_retention_days default (PCI DSS 10.5.1)


DEPLOYER = "arn:aws:iam::123456789012:role/pci-platform-deployer"


@pytest.mark.parametrize("name", KEY_NAMES)
def test_the_deployer_reads_back_through_secrets_manager_and_parameter_store_only(
    stack: dict[str, Any], name: str
) -> None:
    reads = next(s for s in key_policy(stack, name) if s["Sid"] == "DeployerReadsBack")
    assert reads["Principal"] == {"AWS": DEPLOYER}
    assert sorted(reads["Action"]) == ["kms:Decrypt", "kms:DescribeKey"]
    assert reads["Condition"] == {
        "StringLike": {"kms:ViaService": ["secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com"]}
    }


def test_the_deployer_configures_x_ray_encryption_through_x_ray_only(stack: dict[str, Any]) -> None:
    xray = next(s for s in key_policy(stack, "logs") if s["Sid"] == "DeployerConfiguresXRay")
    assert xray["Principal"] == {"AWS": DEPLOYER}
    assert xray["Condition"] == {"StringEquals": {"kms:ViaService": "xray.ap-southeast-1.amazonaws.com"}}


def test_the_volume_key_names_the_auto_scaling_service_linked_role(stack: dict[str, Any]) -> None:
    role = (
        "arn:aws:iam::${data.aws_caller_identity.caller_identity.account_id}:role/aws-service-role/"
        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    statements = {s["Sid"]: s for s in key_policy(stack, "volumes")}
    volumes, grants = statements["AutoScalingVolumes"], statements["AutoScalingGrants"]
    assert volumes["Principal"] == grants["Principal"] == {"AWS": role}
    assert sorted(volumes["Action"]) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ]
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_the_secrets_key_declares_it_encrypts_the_database_secrets(prod_stack: dict[str, Any]) -> None:
    stack = prod_stack
    names = sorted(stack["data"]["aws_secretsmanager_secret"])
    assert len(names) == 2  # the application's and the master's
    (key,) = [k for n, k in resources(stack, "aws_kms_key").items() if n.startswith("keys_secrets_key_")]
    assert sorted(key["//"]["encrypts"]) == [f"${{data.aws_secretsmanager_secret.{name}.arn}}" for name in names]


@pytest.mark.requirement("PCI-4")
def test_buckets_holding_cardholder_data_are_published_for_data_events(stack: dict[str, Any]) -> None:
    # security-baseline reads this output (shared_constructs.contracts.pci_platform) and logs the
    # object-level events of exactly these buckets; a data bucket missing here goes unlogged.
    names = {n: b["bucket"] for n, b in resources(stack, "aws_s3_bucket").items()}
    published = stack["output"]["data_bucket_arns"]["value"]
    assert sorted(names[ref.split(".")[1]] for ref in published) == sorted(
        [BUCKETS["cardholder"], BUCKETS["processed"], "pci-platform-transaction-logs-apse1-dev"]
    )
    assert all(ref.endswith(".arn}") for ref in published)
