"""The deployed platform on the emulator, checked through cfn-outputs/flat-outputs.json and the AWS APIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pci_platform.security import KEYS
from platform_tooling.testing.emulator import Deployment

pytestmark = [
    pytest.mark.emulator,
    # Attaching the rotation schedule makes moto invoke the rotation function's testSecret step; with
    # no Docker daemon its Lambda runner leaves a socket and a `docker` subprocess behind. That is
    # the emulator's leak, not the product's, so only this warning class is ignored here.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PACKAGE_DIR = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"
DATA_BUCKETS = {"cardholder_bucket_name": "cardholder_key_arn", "processed_bucket_name": "processed_key_arn"}
"""Data bucket output -> the output of the key of its classification."""


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    """What a test against real AWS would read: the flat outputs file written after deployment."""
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def test_no_planned_changes_after_apply(deployment: Deployment) -> None:
    assert deployment.drift == []


def test_outputs(outputs: dict[str, Any]) -> None:
    assert outputs["vpc_id"].startswith("vpc-")
    for tier in ("workload", "firewall", "endpoint"):
        assert len(outputs[f"{tier}_subnet_ids"].split(",")) == 3
    # The emulator's target profile takes the firewall (moto cannot create it) and its output out.
    assert "firewall_arn" not in outputs
    assert outputs["cardholder_bucket_name"] == "pci-platform-cardholder-data-apse1-dev"
    assert outputs["database_secret_arn"].startswith(f"arn:aws:secretsmanager:{REGION}:")


def test_vpc_has_no_internet_path(deployment: Deployment, outputs: dict[str, Any]) -> None:
    ec2 = deployment.client("ec2", REGION)
    vpc = [{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}]
    assert (
        ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [outputs["vpc_id"]]}])[
            "InternetGateways"
        ]
        == []
    )
    assert ec2.describe_nat_gateways(Filters=vpc)["NatGateways"] == []
    subnets = ec2.describe_subnets(Filters=vpc)["Subnets"]
    assert len(subnets) == 9
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    for table in ec2.describe_route_tables(Filters=vpc)["RouteTables"]:
        for route in table["Routes"]:
            assert not route.get("GatewayId", "local").startswith("igw-")
            assert "NatGatewayId" not in route


def test_interface_endpoints_in_the_endpoint_tier(deployment: Deployment, outputs: dict[str, Any]) -> None:
    ec2 = deployment.client("ec2", REGION)
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])["VpcEndpoints"]
    interface = sorted(e["ServiceName"].rsplit(".", 1)[1] for e in endpoints if e["VpcEndpointType"] == "Interface")
    assert interface == [
        "ec2",
        "events",
        "kinesis-firehose",
        "kms",
        "logs",
        "monitoring",
        "secretsmanager",
        "sqs",
        "sts",
        "xray",
    ]
    endpoint_subnets = set(outputs["endpoint_subnet_ids"].split(","))
    for endpoint in endpoints:
        if endpoint["VpcEndpointType"] == "Interface":
            assert set(endpoint["SubnetIds"]) == endpoint_subnets


@pytest.mark.parametrize("output", [f"{name}_key_arn" for name in KEYS])
def test_keys_rotate_and_deny_root_use(deployment: Deployment, outputs: dict[str, Any], output: str) -> None:
    kms = deployment.client("kms", REGION)
    assert kms.get_key_rotation_status(KeyId=outputs[output])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=outputs[output], PolicyName="default")["Policy"])
    admin = next(s for s in policy["Statement"] if s["Sid"] == "KeyAdministration")
    assert "kms:Decrypt" not in admin["Action"]


@pytest.mark.parametrize("output", list(DATA_BUCKETS))
def test_data_buckets(deployment: Deployment, outputs: dict[str, Any], output: str) -> None:
    s3 = deployment.client("s3", REGION)
    bucket = outputs[output]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == outputs[DATA_BUCKETS[output]]
    sids = {s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]}
    assert {"DenyInsecureTransport", "DenyUnencryptedUpload", "DenyVersionDeletionWithoutMfa"} <= sids
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging["TargetBucket"] == outputs["access_logs_bucket_name"]


def test_flow_logs_bucket_expires_after_90_days(deployment: Deployment, outputs: dict[str, Any]) -> None:
    rules = deployment.client("s3", REGION).get_bucket_lifecycle_configuration(Bucket=outputs["flow_logs_bucket_name"])[
        "Rules"
    ]
    assert [r["Expiration"]["Days"] for r in rules] == [90]
    flows = deployment.client("ec2", REGION).describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [outputs["vpc_id"]]}]
    )["FlowLogs"]
    assert sorted(f["LogDestinationType"] for f in flows) == ["cloud-watch-logs", "s3"]


@pytest.mark.parametrize("output", ["processor_function_arn", "rotation_function_arn", "schema_function_arn"])
def test_functions_run_in_the_workload_tier(deployment: Deployment, outputs: dict[str, Any], output: str) -> None:
    config = deployment.client("lambda", REGION).get_function_configuration(FunctionName=outputs[output])
    assert set(config["VpcConfig"]["SubnetIds"]) == set(outputs["workload_subnet_ids"].split(","))
    assert config["KMSKeyArn"] == outputs["logs_key_arn"]


def test_existing_secret_rotates_with_the_function(deployment: Deployment, outputs: dict[str, Any]) -> None:
    secret = deployment.client("secretsmanager", REGION).describe_secret(SecretId=outputs["database_secret_arn"])
    assert secret["RotationEnabled"] is True
    assert secret["RotationLambdaARN"] == outputs["rotation_function_arn"]
    assert secret["RotationRules"]["AutomaticallyAfterDays"] == 30


def test_config_rules_and_event_rules(deployment: Deployment) -> None:
    rules = deployment.client("config", REGION).describe_config_rules()["ConfigRules"]
    names = {r["ConfigRuleName"] for r in rules}
    assert {"pci-platform-pci-tags-apse1-dev", "pci-platform-s3-kms-encryption-apse1-dev"} <= names
    events = deployment.client("events", REGION).list_rules(NamePrefix="pci-platform-")["Rules"]
    assert len(events) == 8  # 7 compliance rules and the RDS failover rule


def test_roles_have_no_inline_policies(deployment: Deployment) -> None:
    iam = deployment.client("iam", REGION)
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("pci-platform-")]
    assert len(roles) == 10  # five functions', batch hosts', RDS Proxy's, Firehose's, flow logs', enhanced monitoring's
    for role in roles:
        assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []
        attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}
        assert "pci-platform-guardrails-apse1-dev" in attached
