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
