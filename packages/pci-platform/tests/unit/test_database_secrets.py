"""The database secrets' key is checked by the plan, the schema step is deployed and invoked by
Terraform, and the application may log in as either user of the alternating-users rotation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pci_platform.secrets import CLONE_SUFFIX
from platform_tooling.testing.query import only, resources, statement

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
SECRETS = {"pci-platform/dev/database", "pci-platform/dev/database-master"}


def key_checks(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The KMS lookups of the secrets' keys by secret name."""
    secrets = {
        f"${{data.aws_secretsmanager_secret.{n}.kms_key_id}}": s["name"]
        for n, s in stack["data"]["aws_secretsmanager_secret"].items()
    }
    found = {secrets[k["key_id"]]: k for k in stack["data"]["aws_kms_key"].values() if k["key_id"] in secrets}
    assert len(found) == 2
    return found


@pytest.mark.requirement("SEC-8", "PCI-3")
def test_the_plan_stops_unless_both_secrets_use_the_operator_key_dev_names(stack: dict[str, Any]) -> None:
    (operator,) = [n for n, k in stack["data"]["aws_kms_key"].items() if k["key_id"].startswith("alias/")]
    assert stack["data"]["aws_kms_key"][operator]["key_id"] == "alias/pci-platform-dev-database-secrets"
    checks = key_checks(stack)
    assert {n.replace("-master", "") for n in checks} == {"pci-platform/dev/database"}
    for name, check in checks.items():
        (pre,) = check["lifecycle"]["precondition"]
        assert pre["condition"] == f"${{(length({check['key_id'][2:-1]}) >= 1)}}"
        assert "AWS managed key" in pre["error_message"]
        assert name in pre["error_message"]
        (post,) = check["lifecycle"]["postcondition"]
        assert post["condition"] == f"${{(self.arn == data.aws_kms_key.{operator}.arn)}}"
        assert f"--secret-id {name} " in post["error_message"]


@pytest.mark.requirement("SEC-8", "PCI-3")
def test_where_no_operator_key_is_named_the_secrets_must_use_the_platform_secrets_key(
    prod_stack: dict[str, Any],
) -> None:
    checks = key_checks(prod_stack)
    (key,) = [n for n in resources(prod_stack, "aws_kms_key") if n.startswith("keys_secrets_key_")]
    for check in checks.values():
        (post,) = check["lifecycle"]["postcondition"]
        assert post["condition"] == f"${{(self.arn == aws_kms_key.{key}.arn)}}"
        assert "alias/pci-platform-secrets-apse1-prod" in post["error_message"]


@pytest.mark.parametrize(
    "role",
    [
        "pci-platform-secret-rotation-apse1-dev",
        "pci-platform-database-schema-apse1-dev",
        "pci-platform-db-proxy-apse1-dev",
    ],
)
def test_roles_that_read_the_secrets_may_use_the_operator_key_through_secrets_manager_only(
    stack: dict[str, Any], role: str
) -> None:
    policies = [
        p for p in resources(stack, "aws_iam_policy").values() if p["name"].startswith(role.rsplit("-apse1", 1)[0])
    ]
    assert policies, role
    use = [s for p in policies for s in json.loads(p["policy"])["Statement"] if s.get("Sid") == "OperatorSecretKey"]
    assert len(use) == 1, role
    assert use[0]["Resource"].startswith("${data.aws_kms_key.")
    assert use[0]["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.ap-southeast-1.amazonaws.com"}}


def test_the_schema_step_is_deployed_and_invoked_after_the_cluster_whenever_it_changes(stack: dict[str, Any]) -> None:
    function = only(stack, "aws_lambda_function", function_name="pci-platform-database-schema-apse1-dev")
    assert function["handler"] == "schema.handler"
    variables = function["environment"]["variables"]
    assert variables["MASTER_SECRET_ARN"].startswith("${data.aws_secretsmanager_secret.secrets_master_secret_")
    assert variables["APP_SECRET_ARN"].startswith("${data.aws_secretsmanager_secret.secrets_database_secret_")
    assert variables["DB_HOST"].startswith("${aws_rds_cluster.database_cluster_")
    assert function["vpc_config"]["subnet_ids"]
    (invocation,) = resources(stack, "aws_lambda_invocation").values()
    assert invocation["function_name"] == "pci-platform-database-schema-apse1-dev"
    source = (LAMBDAS / "rotation" / "schema.py").read_bytes()
    assert invocation["triggers"] == {"schema_sha256": hashlib.sha256(source).hexdigest()}
    instances = [f"aws_rds_cluster_instance.{n}" for n in resources(stack, "aws_rds_cluster_instance")]
    assert len(instances) == 3
    assert set(instances) < set(invocation["depends_on"])
    policy = only(stack, "aws_iam_policy", name="pci-platform-database-schema-fn-apse1-dev")
    read = statement(policy, "ReadDatabaseSecrets")
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert len(read["Resource"]) == 2


def test_every_handler_names_the_clone_user_as_the_rotation_makes_it() -> None:
    for handler in ("payment/handler.py", "rotation/handler.py", "rotation/schema.py"):
        assert f'CLONE_SUFFIX = "{CLONE_SUFFIX}"' in (LAMBDAS / handler).read_text(), handler
