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
from platform_tooling.testing import moto_launcher
from platform_tooling.testing.emulator import Emulator
from platform_tooling.testing.moto_launcher import Timings

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


def test_busy_time_counts_overlapping_requests_once() -> None:
    timings = Timings()
    for started, ended in [(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]:
        timings.add("call", started, ended)
    summary = timings.summary()["call"]
    assert summary["handling_s"] == 5.0
    assert summary["busy_s"] == 4.0
    assert (summary["first"], summary["last"]) == (0.0, 6.0)


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


@pytest.mark.parametrize(
    ("status", "seconds", "logged"),
    [
        ("500 Internal Server Error", 0.0, True),
        ("200 OK", 0.0, False),
        ("200 OK", moto_launcher.SLOW_S + 1, True),
        ("", 0.0, True),
    ],
    ids=["server-error", "quick", "slow", "no-answer"],
)
def test_server_errors_and_slow_requests_are_written_to_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: str, seconds: float, logged: bool
) -> None:
    clock = iter([100.0, 100.0 + seconds])
    monkeypatch.setattr(moto_launcher.time, "time", lambda: next(clock))

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if not status:
            raise RuntimeError("the backend failed")  # the server answers 500 itself
        start_response(status, [])
        return [b"{}"]

    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "PATH_INFO": "/2015-03-31/functions",
        "HTTP_USER_AGENT": "Terraform platform-call/7",
    }
    app = moto_launcher.timed(backend, Timings())
    if status:
        assert app(environ, lambda *args: None) == [b"{}"]
    else:
        with pytest.raises(RuntimeError):
            app(environ, lambda *args: None)
    written = capsys.readouterr().err
    assert ("POST 127.0.0.1:5000/2015-03-31/functions" in written and "(7)" in written) is logged
    assert (status in written) is logged


def test_a_dropped_connection_names_the_request_its_service_and_the_call() -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "PATH_INFO": "/",
        "HTTP_X_AMZ_TARGET": "",
        "HTTP_USER_AGENT": "Terraform platform-call/12",
        **_signed("ec2"),
    }
    line = moto_launcher.dropped_line(BrokenPipeError("pipe"), environ)
    assert "POST 127.0.0.1:5000/ [ec2]" in line
    assert "(12)" in line
    assert "BrokenPipeError" in line
    assert "(other)" in moto_launcher.dropped_line(TimeoutError(), None)


def _signed(service: str) -> dict[str, Any]:
    credential = f"Credential=testing/20261201/us-east-1/{service}/aws4_request"
    return {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 {credential}, SignedHeaders=host, Signature=0"}


def test_requests_to_one_service_are_handled_one_at_a_time_but_sqs_long_polls() -> None:
    import threading
    import time as clock

    lock = threading.Lock()
    inside: dict[str, int] = {}
    most: dict[str, int] = {}

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        service = environ["service"]
        with lock:
            inside[service] = inside.get(service, 0) + 1
            most[service] = max(most.get(service, 0), inside[service])
        clock.sleep(0.05)
        with lock:
            inside[service] -= 1
        return [b"ok"]

    app = moto_launcher.serialized(backend)
    calls = [{**_signed(s), "service": s} for s in ["guardduty"] * 4 + ["sqs"] * 4 + ["ec2"] * 2]
    threads = [threading.Thread(target=lambda e=e: list(app(e, lambda *a: None))) for e in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most["guardduty"] == 1
    assert most["ec2"] == 1
    assert most["sqs"] > 1  # a long poll must not hold up the message it waits for


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


def _attempt(number: int, invocation: str = "inv-1") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "PATH_INFO": "/",
        "HTTP_X_AMZ_TARGET": "AWSWAF_20190729.CreateWebACL",
        "HTTP_USER_AGENT": "Terraform platform-call/9",
        "HTTP_AMZ_SDK_INVOCATION_ID": invocation,
        "HTTP_AMZ_SDK_REQUEST": f"attempt={number}; max=4",
    }


def test_a_success_sent_again_gets_its_first_answer_and_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    handled: list[str] = []

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        handled.append(environ["HTTP_AMZ_SDK_REQUEST"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [f'{{"made": {len(handled)}}}'.encode()]

    sent: list[str] = []
    app = moto_launcher.timed(backend, Timings())
    assert app(_attempt(1), lambda status, headers: sent.append(status)) == [b'{"made": 1}']
    assert capsys.readouterr().err == ""  # a first attempt is not news
    assert app(_attempt(2), lambda status, headers: sent.append(status)) == [b'{"made": 1}']
    assert handled == ["attempt=1; max=4"]  # the work was not done twice
    assert sent == ["200 OK", "200 OK"]
    written = capsys.readouterr().err
    assert "attempt 2 of POST 127.0.0.1:5000/ AWSWAF_20190729.CreateWebACL (9)" in written
    assert "the attempt before: 200 OK (that answer sent again)" in written


def test_an_error_sent_again_is_handled_again_and_logged(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["400 Bad Request", "200 OK"])
    handled: list[str] = []

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        handled.append(environ["HTTP_AMZ_SDK_REQUEST"])
        start_response(next(answers), [])
        return [b"{}"]

    app = moto_launcher.timed(backend, Timings())
    app(_attempt(1), lambda *args: None)
    app(_attempt(2), lambda *args: None)
    assert handled == ["attempt=1; max=4", "attempt=2; max=4"]
    written = capsys.readouterr().err
    assert "the attempt before: 400 Bad Request" in written
    assert "sent again)" not in written
    attempts = moto_launcher.Attempts()
    assert "never reached the server" in (attempts.started(_attempt(2, "inv-2"))[0] or "")
    assert moto_launcher.Attempts.IN_PROGRESS in (attempts.started(_attempt(3, "inv-2"))[0] or "")


def test_a_large_success_is_not_kept(capsys: pytest.CaptureFixture[str]) -> None:
    attempts = moto_launcher.Attempts()
    attempts.started(_attempt(1))
    big = b"x" * (moto_launcher.Attempts.KEPT_BYTES + 1)
    attempts.answered(_attempt(1), moto_launcher.Answer("200 OK", (), (big,)))
    line, replay = attempts.started(_attempt(2))
    assert replay is None
    assert "the attempt before: 200 OK" in (line or "")


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
                    "Authorization": _signed("wafv2")["HTTP_AUTHORIZATION"],
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


def test_the_servers_own_lines_reach_the_runs_summary(tmp_path: Any) -> None:
    from platform_tooling.testing.emulator import server_lines

    log = tmp_path / "server.log"
    attempts = moto_launcher.Attempts()
    first = _attempt(1, "i")
    attempts.started(first)
    attempts.answered(first, moto_launcher.Answer("200 OK", (), (b"{}",)))
    again = attempts.started(_attempt(2, "i"))[0] or ""
    error = moto_launcher._noted(_attempt(1, "j"), "", 0.2) or ""
    log.write_text(f"docker noise\n{again}\nTraceback (most recent call last):\n{error}\n" * 2)
    shown = server_lines(log)
    assert shown == [f"emulator: {line.removeprefix('platform: ')}" for line in (again, error, again, error)]
    assert [bool(moto_launcher.SERVER_ERROR.match(line.removeprefix("emulator: "))) for line in shown] == [
        False,
        True,
        False,
        True,
    ]
    assert not moto_launcher.SERVER_ERROR.match(moto_launcher._noted(_attempt(1), "200 OK", 31.0) or "")
    limited = server_lines(log, limit=1)
    assert len(limited) == 2
    assert "3 more lines of the server" in limited[1]
    log.write_text("docker noise\n")
    assert server_lines(log) == []
