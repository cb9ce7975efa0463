"""The reference example on the emulator: applied, no drift, resources as configured."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.emulator


def test_replan_shows_no_drift(deployment):
    assert deployment.drift == []


def test_outputs_written_for_integration_tests(deployment):
    flat = (deployment.directory / "cfn-outputs" / "flat-outputs.json").read_text()
    assert deployment.outputs["data_bucket_name"] in flat
    assert deployment.outputs["data_bucket_name"] == "ref-data-use1-dev"


def test_data_bucket_is_kms_encrypted_with_the_key(deployment):
    s3 = deployment.client("s3")
    rules = s3.get_bucket_encryption(Bucket=deployment.outputs["data_bucket_name"])[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == deployment.outputs["key_arn"]


def test_function_is_traced_and_concurrency_reserved(deployment):
    lam = deployment.client("lambda")
    config = lam.get_function(FunctionName=deployment.outputs["function_name"])
    assert config["Configuration"]["TracingConfig"]["Mode"] == "Active"
    assert config["Concurrency"]["ReservedConcurrentExecutions"] == 2


def test_topic_uses_the_customer_managed_key(deployment):
    sns = deployment.client("sns")
    attributes = sns.get_topic_attributes(TopicArn=deployment.outputs["topic_arn"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == deployment.outputs["key_arn"]


def test_echo_handler_runs_as_its_deployed_role(deployment):
    result = deployment.run_handler("function_name", {"message": "hello"}, folder="echo")
    assert result == {"statusCode": 200, "body": '{"message": "hello"}'}


def test_the_function_role_reads_the_data_bucket_and_may_not_write_it(deployment):
    """IAM is enforced during integration tests: the echo function's role is granted reads only."""
    from botocore.exceptions import ClientError

    role = deployment.client("lambda").get_function_configuration(FunctionName=deployment.outputs["function_name"])
    s3 = deployment.client("s3", as_role=role["Role"])
    bucket = deployment.outputs["data_bucket_name"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="written-by-echo", Body=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_private_subnets_reach_the_internet_only_through_the_one_nat_gateway(deployment):
    ec2 = deployment.client("ec2")
    vpc = deployment.outputs["vpc_id"]
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
    live = [g for g in gateways if g["State"] not in ("deleted", "deleting")]
    assert len(live) == 1
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    to_nat = [t for t in tables if any(r.get("NatGatewayId") == live[0]["NatGatewayId"] for r in t["Routes"])]
    assert len(to_nat) == 2


def test_alarms_notify_the_alert_topic(deployment):
    cloudwatch = deployment.client("cloudwatch")
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix="ref-")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == [
        "ref-alert-deliveries-failed-use1-dev",
        "ref-app-errors-use1-dev",
        "ref-echo-failure-rate-use1-dev",
        "ref-echo-invocations-band-use1-dev",
        "ref-jobs-dead-letters-use1-dev",
    ]
    assert {tuple(a["AlarmActions"]) for a in alarms} == {(deployment.outputs["topic_arn"],)}


def test_web_acl_logs_to_its_waf_log_group(deployment):
    wafv2 = deployment.client("wafv2")
    logging = wafv2.get_logging_configuration(ResourceArn=deployment.outputs["web_acl_arn"])["LoggingConfiguration"]
    assert logging["LogDestinationConfigs"][0].endswith(":log-group:aws-waf-logs-ref-edge-use1-dev")
