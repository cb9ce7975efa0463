"""The deployed application tier on the emulator (part 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.emulator import Deployment

pytestmark = [
    pytest.mark.emulator,
    # See test_deployed.py: moto's Lambda runner leaks a socket when the rotation schedule is attached.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PACKAGE_DIR = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def test_cluster_has_a_writer_and_two_readers_encrypted(deployment: Deployment) -> None:
    rds = deployment.client("rds", REGION)
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="pci-platform-payments-apse1-dev")["DBClusters"]
    assert cluster["StorageEncrypted"] is True
    assert cluster["Engine"] == "aurora-postgresql"
    assert len(cluster["DBClusterMembers"]) == 3
    assert cluster["MasterUsername"] == "payments_master"  # from the seeded master secret, not the application's


def test_proxy_requires_tls(deployment: Deployment, outputs: dict[str, Any]) -> None:
    (proxy,) = deployment.client("rds", REGION).describe_db_proxies(DBProxyName="pci-platform-payments-apse1-dev")[
        "DBProxies"
    ]
    assert proxy["RequireTLS"] is True
    (auth,) = proxy["Auth"]
    assert auth["IAMAuth"] == "REQUIRED"
    assert auth["SecretArn"] == outputs["database_secret_arn"]  # the application user's secret


def test_alb_is_internal_and_protected_by_waf(deployment: Deployment, outputs: dict[str, Any]) -> None:
    elb = deployment.client("elbv2", REGION)
    (alb,) = elb.describe_load_balancers(Names=["pci-platform-payments-apse1-dev"])["LoadBalancers"]
    assert alb["Scheme"] == "internal"
    acl = deployment.client("wafv2", REGION).get_web_acl_for_resource(ResourceArn=alb["LoadBalancerArn"])["WebACL"]
    assert acl["ARN"] == outputs["web_acl_arn"]
    assert {r["Name"] for r in acl["Rules"]} >= {"rate-limit", "sql-injection", "cross-site-scripting"}


def test_parameters_are_secure_strings(deployment: Deployment, outputs: dict[str, Any]) -> None:
    ssm = deployment.client("ssm", REGION)
    found = ssm.get_parameter(Name="/pci-platform/dev/database/proxy-endpoint", WithDecryption=True)["Parameter"]
    assert found["Type"] == "SecureString"
    assert found["Value"] == outputs["proxy_endpoint"]


def test_payment_queue_and_event_bus(deployment: Deployment, outputs: dict[str, Any]) -> None:
    attributes = deployment.client("sqs", REGION).get_queue_attributes(
        QueueUrl=outputs["payment_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["KmsMasterKeyId"] == outputs["events_key_arn"]
    assert "deadLetterTargetArn" in attributes["RedrivePolicy"]
    rules = deployment.client("events", REGION).list_rules(EventBusName=outputs["event_bus_name"])["Rules"]
    assert sorted(r["Name"] for r in rules) == [
        "pci-platform-payment-failed-apse1-dev",
        "pci-platform-payment-succeeded-apse1-dev",
    ]


def test_delivery_stream_compresses_and_backs_up(deployment: Deployment, outputs: dict[str, Any]) -> None:
    stream = deployment.client("firehose", REGION).describe_delivery_stream(
        DeliveryStreamName=outputs["delivery_stream_name"]
    )["DeliveryStreamDescription"]
    s3 = stream["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["S3BackupMode"] == "Enabled"


def test_private_zone_has_failover_records(deployment: Deployment, outputs: dict[str, Any]) -> None:
    records = deployment.client("route53", REGION).list_resource_record_sets(HostedZoneId=outputs["hosted_zone_id"])[
        "ResourceRecordSets"
    ]
    failover = sorted(r["Failover"] for r in records if r["Name"].startswith("payments.pci.internal"))
    assert failover == ["PRIMARY", "SECONDARY"]
