"""Access control (explicit denies, region deny, no inline policies) and the functions in the VPC."""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.query import only, resources, statement, statements

FUNCTIONS = ["pci-platform-processor-apse1-dev", "pci-platform-secret-rotation-apse1-dev"]


def guardrails(stack: dict[str, Any]) -> dict[str, Any]:
    return only(stack, "aws_iam_policy", name="pci-platform-guardrails-apse1-dev")


@pytest.mark.requirement("PCI-9")
def test_region_deny_covers_every_action_outside_approved_regions(stack: dict[str, Any]) -> None:
    deny = statement(guardrails(stack), "DenyOutsideApprovedRegions")
    assert (deny["Effect"], deny["Action"], deny["Resource"]) == ("Deny", "*", "*")
    assert deny["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": "ap-southeast-1"}}


@pytest.mark.requirement("PCI-9")
def test_guardrails_hold_only_explicit_denies(stack: dict[str, Any]) -> None:
    found = statements(guardrails(stack))
    assert [s["Sid"] for s in found] == [
        "DenyOutsideApprovedRegions",
        "DenyIamChanges",
        "DenyNetworkEscape",
        "DenyKeyTampering",
        "DenyStorageTampering",
    ]
    assert {s["Effect"] for s in found} == {"Deny"}
    network = statement(guardrails(stack), "DenyNetworkEscape")["Action"]
    assert {"ec2:CreateInternetGateway", "ec2:CreateNatGateway", "ec2:CreateRoute"} <= set(network)
    assert "kms:ScheduleKeyDeletion" in statement(guardrails(stack), "DenyKeyTampering")["Action"]
    assert "s3:PutBucketPolicy" in statement(guardrails(stack), "DenyStorageTampering")["Action"]


@pytest.mark.requirement("PCI-9")
def test_no_inline_policies(stack: dict[str, Any]) -> None:
    assert resources(stack, "aws_iam_role_policy") == {}
    assert resources(stack, "aws_iam_role_policies_exclusive") == {}
    roles = resources(stack, "aws_iam_role").values()
    assert len(roles) >= 9
    for role in roles:
        assert "inline_policy" not in role


@pytest.mark.requirement("PCI-9")
def test_every_role_carries_the_guardrails_and_its_own_managed_policy(stack: dict[str, Any]) -> None:
    roles = resources(stack, "aws_iam_role")
    attachments = resources(stack, "aws_iam_role_policy_attachment").values()
    assert len(roles) >= 9
    for name in roles:
        attached = [a["policy_arn"] for a in attachments if f"aws_iam_role.{name}." in a["role"]]
        assert any("access_policy" in arn for arn in attached), name
        assert len(attached) == 2, name


@pytest.mark.requirement("PCI-9")
def test_allow_statements_name_their_actions(stack: dict[str, Any]) -> None:
    policies = resources(stack, "aws_iam_policy")
    assert len(policies) >= 10
    for name, policy in policies.items():
        for s in statements(policy):
            if s["Effect"] == "Allow":
                actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                assert not any("*" in a for a in actions), name


@pytest.mark.requirement("PCI-5")
@pytest.mark.parametrize("function_name", FUNCTIONS)
def test_functions_run_in_the_workload_subnets(stack: dict[str, Any], function_name: str) -> None:
    function = only(stack, "aws_lambda_function", function_name=function_name)
    subnets = function["vpc_config"]["subnet_ids"]
    assert len(subnets) == 3
    assert all("network_vpc_workload_" in s for s in subnets)
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["kms_key_arn"].startswith("${aws_kms_key.keys_logs_key_")


def role_policy(stack: dict[str, Any], prefix: str) -> dict[str, Any]:
    found = [p for n, p in resources(stack, "aws_iam_policy").items() if n.startswith(prefix)]
    assert len(found) == 1
    return found[0]


@pytest.mark.requirement("PCI-5")
def test_processor_reads_one_bucket_and_writes_the_other(stack: dict[str, Any]) -> None:
    policy = statements(role_policy(stack, "compute_processor_role_policy"))
    by_resource = {
        json.dumps(s["Resource"]): sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        for s in policy
    }
    read = [r for r in by_resource if "data_cardholder_bucket" in r]
    write = [r for r in by_resource if "data_processed_bucket" in r]
    assert [by_resource[r] for r in read] == [["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]]
    assert [by_resource[r] for r in write] == [["s3:AbortMultipartUpload", "s3:PutObject"]]
    assert not any("s3:DeleteObject" in a for actions in by_resource.values() for a in actions)


def test_processor_is_triggered_by_the_incoming_prefix(stack: dict[str, Any]) -> None:
    (notification,) = resources(stack, "aws_s3_bucket_notification").values()
    (target,) = notification["lambda_function"]
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert target["filter_prefix"] == "incoming/"
    permission = only(stack, "aws_lambda_permission", principal="s3.amazonaws.com")
    assert "data_cardholder_bucket" in permission["source_arn"]


@pytest.mark.requirement("PCI-6", "PCI-C8")
def test_rotation_is_attached_to_the_existing_secret(stack: dict[str, Any]) -> None:
    secrets = stack["data"]["aws_secretsmanager_secret"]
    assert {s["name"] for s in secrets.values()} == {"pci-platform/dev/database", "pci-platform/dev/database-master"}
    assert resources(stack, "aws_secretsmanager_secret") == {}  # referenced, never created
    (rotation,) = resources(stack, "aws_secretsmanager_secret_rotation").values()
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    assert rotation["rotate_immediately"] is False
    assert rotation["secret_id"] == "${data.aws_secretsmanager_secret.secrets_database_secret_9214DE69.arn}"
    permission = only(stack, "aws_lambda_permission", principal="secretsmanager.amazonaws.com")
    assert permission["source_arn"] == rotation["secret_id"]


@pytest.mark.requirement("PCI-6")
def test_rotation_role_is_limited_to_the_secret(stack: dict[str, Any]) -> None:
    policy = role_policy(stack, "secrets_rotation_role_policy")
    rotate = statement(policy, "RotateDatabaseSecret")
    assert rotate["Action"] == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ]
    assert rotate["Resource"] == "${data.aws_secretsmanager_secret.secrets_database_secret_9214DE69.arn}"
    assert statement(policy, "GeneratePassword")["Action"] == "secretsmanager:GetRandomPassword"
    # The master secret (alternating users): read only, never rotated here.
    master = statement(policy, "ReadMasterSecret")
    assert master["Action"] == "secretsmanager:GetSecretValue"
    assert master["Resource"] == "${data.aws_secretsmanager_secret.secrets_master_secret_3C6CFEBE.arn}"


def test_rotation_bundle_vendors_pg8000_and_its_dependencies(stack: dict[str, Any]) -> None:
    import zipfile
    from pathlib import Path

    bundle = Path(__file__).resolve().parents[2] / ".build" / "pci-platform-secret-rotation-apse1-dev.zip"
    names = zipfile.ZipFile(bundle).namelist()
    for top in (
        "handler.py",
        "pg8000/native.py",
        "scramp/core.py",
        "asn1crypto/x509.py",
        "dateutil/parser/__init__.py",
        "six.py",
    ):
        assert top in names


@pytest.mark.requirement("PCI-C9")
def test_failed_s3_events_of_the_processor_land_in_its_dead_letter_queue(stack: dict[str, Any]) -> None:
    function = only(stack, "aws_lambda_function", function_name="pci-platform-processor-apse1-dev")
    queue_name = name_of_queue(stack, "pci-platform-processor-dlq-apse1-dev")
    # Two retries within an hour, then the queue as on-failure destination (not also the function's
    # dead-letter configuration, which would deliver the failed event a second time).
    assert "dead_letter_config" not in function
    (invoke,) = resources(stack, "aws_lambda_function_event_invoke_config").values()
    assert invoke["function_name"] == "${aws_lambda_function.compute_processor_function_0BA77FF8.function_name}"
    assert (invoke["maximum_retry_attempts"], invoke["maximum_event_age_in_seconds"]) == (2, 3600)
    assert invoke["destination_config"] == {"on_failure": {"destination": f"${{aws_sqs_queue.{queue_name}.arn}}"}}
    # Lambda refuses the configuration while the role cannot yet send to the queue: wait for the policy.
    (policy_id,) = [
        n for n, p in resources(stack, "aws_iam_policy").items() if p["name"] == "pci-platform-processor-fn-apse1-dev"
    ]
    (attachment,) = [
        n
        for n, a in resources(stack, "aws_iam_role_policy_attachment").items()
        if a["policy_arn"] == f"${{aws_iam_policy.{policy_id}.arn}}"
    ]
    assert f"aws_iam_role_policy_attachment.{attachment}" in invoke.get("depends_on", [])
    queue = resources(stack, "aws_sqs_queue")[queue_name]
    assert queue["kms_master_key_id"].startswith("${aws_kms_key.keys_cardholder_key_")
    policy = only(stack, "aws_iam_policy", name="pci-platform-processor-fn-apse1-dev")
    sends = [s for s in statements(policy) if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"] for s in sends] == [f"${{aws_sqs_queue.{queue_name}.arn}}"]
    alarms = [
        a
        for a in resources(stack, "aws_cloudwatch_metric_alarm").values()
        if a.get("dimensions") == {"QueueName": "pci-platform-processor-dlq-apse1-dev"}
    ]
    assert len(alarms) == 1


def name_of_queue(stack: dict[str, Any], name: str) -> str:
    (found,) = [n for n, q in resources(stack, "aws_sqs_queue").items() if q["name"] == name]
    return found


def test_every_invoke_permission_follows_its_function(stack: dict[str, Any]) -> None:
    """Each permission names its function by reference: Terraform creates it after the function
    (the load balancer's was once created beside it, and the provider retried it for 78 s)."""
    functions = {f"${{aws_lambda_function.{name}.function_name}}" for name in resources(stack, "aws_lambda_function")}
    permissions = resources(stack, "aws_lambda_permission")
    assert {p["principal"] for p in permissions.values()} == {
        "elasticloadbalancing.amazonaws.com",
        "s3.amazonaws.com",
        "secretsmanager.amazonaws.com",
    }
    assert all(p["function_name"] in functions for p in permissions.values())
