"""The emulator's server: as strict as IAM on the documents we send, and IAM enforced on callers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from platform_tooling.testing.emulator import Emulator

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/allowed"
IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": TABLE_ARN},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::allowed-bucket"},
        {"Effect": "Allow", "Action": "s3:PutBucketPublicAccessBlock", "Resource": "arn:aws:s3:::allowed-bucket"},
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "Platform/Test"}},
        },
    ],
}


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    started = Emulator()
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(started.log.parent, ignore_errors=True)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.mark.parametrize(
    "statement",
    [
        {**TRUST["Statement"][0], "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:AssumeRole"},
    ],
    ids=["with-resource", "without-principal"],
)
def test_fails_create_role_with_a_trust_policy_iam_refuses(server: Emulator, statement: dict[str, Any]) -> None:
    iam = server.client("iam")
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="refused", AssumeRolePolicyDocument=document)
    assert error_code(exc) == "MalformedPolicyDocument"
    assert "refused" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}


def test_fails_identity_policies_iam_refuses_on_every_create(server: Emulator) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="documents", AssumeRolePolicyDocument=json.dumps(TRUST))
    bad = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})
    policy = iam.create_policy(PolicyName="good", PolicyDocument=json.dumps(IDENTITY))["Policy"]["Arn"]
    calls = [
        lambda: iam.create_policy(PolicyName="bad", PolicyDocument=bad),
        lambda: iam.create_policy_version(PolicyArn=policy, PolicyDocument=bad),
        lambda: iam.put_role_policy(RoleName="documents", PolicyName="bad", PolicyDocument=bad),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "MalformedPolicyDocument"


@pytest.fixture(scope="module")
def role(server: Emulator) -> Iterator[str]:
    iam = server.client("iam")
    arn = str(iam.create_role(RoleName="caller", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])
    iam.put_role_policy(RoleName="caller", PolicyName="identity", PolicyDocument=json.dumps(IDENTITY))
    s3 = server.client("s3")
    for bucket in ("allowed-bucket", "other-bucket"):
        s3.create_bucket(Bucket=bucket)
    server.client("dynamodb").create_table(
        TableName="allowed",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    server.enforce_iam(True)
    try:
        yield arn
    finally:
        server.enforce_iam(False)


def test_enforced_iam_allows_what_the_role_may_do(server: Emulator, role: str) -> None:
    assert server.client("dynamodb", role_arn=role, as_role=True).describe_table(TableName="allowed")["Table"][
        "TableName"
    ]
    s3 = server.client("s3", role_arn=role, as_role=True)
    assert s3.list_objects_v2(Bucket="allowed-bucket")["KeyCount"] == 0
    block = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    s3.put_public_access_block(Bucket="allowed-bucket", PublicAccessBlockConfiguration=block)  # IAM's action name
    metric = {"MetricName": "Checks", "Value": 1.0}
    server.client("cloudwatch", role_arn=role, as_role=True).put_metric_data(
        Namespace="Platform/Test", MetricData=[metric]
    )


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("dynamodb", lambda c: c.delete_table(TableName="allowed")),
        ("s3", lambda c: c.list_objects_v2(Bucket="other-bucket")),
        ("sqs", lambda c: c.create_queue(QueueName="not-allowed")),
    ],
    ids=["other-action", "other-resource", "other-service"],
)
def test_fails_what_the_role_may_not_do_with_access_denied(
    server: Emulator, role: str, service: str, call: Any
) -> None:
    with pytest.raises(ClientError) as exc:
        call(server.client(service, role_arn=role, as_role=True))
    # S3 answers AccessDenied; JSON services answer 403 with "is not authorized to perform".
    assert error_code(exc) == "AccessDenied" or "is not authorized to perform" in str(exc.value)


def test_the_operator_is_never_authorized(server: Emulator, role: str) -> None:
    assert "allowed" in server.client("dynamodb").list_tables()["TableNames"]


def test_requests_are_timed_by_call_tag(server: Emulator) -> None:
    server.client("sts").get_caller_identity()
    other = server.server_timings()["other"]
    assert other["requests"] >= 1
    assert 0 < other["busy_s"] <= other["handling_s"]


def test_the_operator_acting_through_a_role_is_never_authorized(server: Emulator, role: str) -> None:
    assert server.client("sqs", role_arn=role).create_queue(QueueName="by-the-operator")["QueueUrl"]


def test_terraform_acting_through_a_role_is_never_authorized(server: Emulator, role: str) -> None:
    """Terraform's requests carry the call tag in their User-Agent (``TF_APPEND_USER_AGENT``): a
    provider that assumed a role in another account acts as the operator there, while IAM is
    enforced for the tests (which are denied the same call: the test above)."""
    creds = server.credentials(role)
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    tagged = Config(user_agent_extra="platform-call/123.4")
    assert session.client("sqs", endpoint_url=server.endpoint, config=tagged).create_queue(QueueName="by-terraform")
    with pytest.raises(ClientError):
        session.client("sqs", endpoint_url=server.endpoint).create_queue(QueueName="by-the-role")


def test_guardduty_update_detector_changes_only_the_features_it_names(server: Emulator) -> None:
    # One aws_guardduty_detector_feature per protection plan, each its own UpdateDetector call: on
    # AWS each call leaves the other features as they are (moto alone replaced the whole list).
    guardduty = server.client("guardduty")
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    for name, status in (
        ("S3_DATA_EVENTS", "ENABLED"),
        ("RDS_LOGIN_EVENTS", "DISABLED"),
        ("S3_DATA_EVENTS", "DISABLED"),
    ):
        guardduty.update_detector(DetectorId=detector, Features=[{"Name": name, "Status": status}])
    found = {f["Name"]: f["Status"] for f in guardduty.get_detector(DetectorId=detector)["Features"]}
    assert found == {"S3_DATA_EVENTS": "DISABLED", "RDS_LOGIN_EVENTS": "DISABLED"}


def _zipped_handler() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_lambda_keeps_and_returns_logging_and_dead_letter_config_as_aws_does(server: Emulator) -> None:
    # moto dropped both: every re-plan of a function with them planned to set them again.
    role = server.client("iam").create_role(RoleName="logged-function", AssumeRolePolicyDocument=json.dumps(TRUST))
    queue = server.client("sqs").create_queue(QueueName="function-dead-letters")["QueueUrl"]
    target = server.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    dead_letters = target["Attributes"]["QueueArn"]
    functions = server.client("lambda")
    common = {"Runtime": "python3.12", "Role": role["Role"]["Arn"], "Handler": "handler.handler"}
    functions.create_function(
        FunctionName="logged",
        Code={"ZipFile": _zipped_handler()},
        LoggingConfig={"LogFormat": "JSON", "LogGroup": "/aws/lambda/platform-logged"},
        DeadLetterConfig={"TargetArn": dead_letters},
        **common,
    )
    functions.create_function(FunctionName="plain", Code={"ZipFile": _zipped_handler()}, **common)

    logged = functions.get_function(FunctionName="logged")["Configuration"]
    assert logged["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/platform-logged",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
    }
    assert logged["DeadLetterConfig"] == {"TargetArn": dead_letters}
    plain = functions.get_function_configuration(FunctionName="plain")
    assert plain["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/plain"}
    assert "TargetArn" not in plain.get("DeadLetterConfig", {})

    functions.update_function_configuration(
        FunctionName="logged", LoggingConfig={"LogFormat": "Text"}, DeadLetterConfig={"TargetArn": ""}
    )
    updated = functions.get_function_configuration(FunctionName="logged")
    assert updated["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/platform-logged"}
    assert "TargetArn" not in updated.get("DeadLetterConfig", {})


def test_sqs_returns_the_redrive_policy_as_compact_json_as_aws_does(server: Emulator) -> None:
    sqs = server.client("sqs")
    dead_letters = sqs.create_queue(QueueName="redrive-dead-letters")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5}, separators=(",", ":"))
    queue = sqs.create_queue(QueueName="redriven", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    found = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert found["RedrivePolicy"] == policy


def test_s3_returns_replication_rules_as_they_were_put_as_aws_does(server: Emulator) -> None:
    # moto answered a blank filter, disabled delete-marker replication and no source selection.
    s3 = server.client("s3")
    for bucket in ("replicated-source", "replicated-target"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ID": "to-target",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": "receipts/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": "arn:aws:s3:::replicated-target",
            "StorageClass": "STANDARD",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:us-east-1:123456789012:alias/target"},
        },
    }
    role = "arn:aws:iam::123456789012:role/replication"
    s3.put_bucket_replication(Bucket="replicated-source", ReplicationConfiguration={"Role": role, "Rules": [rule]})
    found = s3.get_bucket_replication(Bucket="replicated-source")["ReplicationConfiguration"]
    assert found == {"Role": role, "Rules": [rule]}


def test_deleting_a_network_acl_entry_that_is_not_there_fails_as_aws_does(server: Emulator) -> None:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    entry = {"NetworkAclId": acl, "RuleNumber": 120, "Egress": False}
    ec2.create_network_acl_entry(
        **entry, Protocol="6", RuleAction="allow", CidrBlock="10.0.0.0/8", PortRange={"From": 443, "To": 443}
    )
    ec2.delete_network_acl_entry(**entry)
    with pytest.raises(ClientError) as missing:
        ec2.delete_network_acl_entry(**entry)
    assert error_code(missing) == "InvalidNetworkAclEntry.NotFound"


def test_the_server_sends_a_created_web_acls_answer_again_instead_of_a_duplicate(server: Emulator) -> None:
    import http.client

    body = json.dumps(
        {
            "Name": "sent-again",
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"},
        }
    )

    def create(attempt: int, invocation: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request(
                "POST",
                "/",
                body=body,
                headers={
                    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/wafv2/aws4_request, "
                    "SignedHeaders=host, Signature=0",
                    "X-Amz-Target": "AWSWAF_20190729.CreateWebACL",
                    "Content-Type": "application/x-amz-json-1.1",
                    "amz-sdk-invocation-id": invocation,
                    "amz-sdk-request": f"attempt={attempt}; max=3",
                },
            )
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    first = create(1, "waf-1")
    assert first[0] == 200, first[1]
    assert create(2, "waf-1") == first  # the same web ACL, not a duplicate
    status, answer = create(1, "waf-2")  # another call: the name is taken
    assert status == 400
    assert b"WAFDuplicateItemException" in answer or b"Duplicate" in answer
    listed = server.client("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]
    assert [acl["Name"] for acl in listed] == ["sent-again"]
