from __future__ import annotations

import pytest
from platform_tooling.testing.query import only, resources, statement, statements
from shared_constructs.kms import KEY_ADMIN_ACTIONS

DEPLOYER = "arn:aws:iam::123456789012:role/deployer"


def test_keys_rotate_and_have_an_alias(reference):
    key = only(reference, "aws_kms_key", description="Reference data key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 7
    assert only(reference, "aws_kms_alias", name="alias/ref-data-use1-dev")["target_key_id"].startswith(
        "${aws_kms_key.key_"
    )


def test_key_policy_names_every_admin_action_and_scopes_logs_to_each_group(reference):
    key = only(reference, "aws_kms_key", description="Reference data key")
    admin = statement(key, "KeyAdministration")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::${data.aws_caller_identity.caller_identity.account_id}:root"}
    assert set(KEY_ADMIN_ACTIONS) <= set(admin["Action"])
    assert not any(
        "*" in action
        for s in statements(key)
        if s["Effect"] == "Allow"
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    )
    logs = [s for s in statements(key) if s.get("Principal") == {"Service": "logs.us-east-1.amazonaws.com"}]
    contexts = sorted(s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] for s in logs)
    assert [c.rsplit(":", 1)[1] for c in contexts] == [
        "/aws/lambda/ref-echo-use1-dev",
        "/ref/dev/flows",
        "aws-waf-logs-ref-edge-use1-dev",
    ]


@pytest.mark.requirement("DR-C15", "DR-C17")
def test_log_groups_are_encrypted_with_retention(reference):
    groups = resources(reference, "aws_cloudwatch_log_group").values()
    assert len(groups) == 3  # the function's, the flow logs' and the web ACL's
    for group in groups:
        assert group["kms_key_id"] == "${aws_kms_key.key_F64E54E4.arn}"
        assert group["retention_in_days"] == 365


def test_bucket_controls(reference):
    data = only(reference, "aws_s3_bucket", bucket="ref-data-use1-dev")
    assert data["force_destroy"] is True
    ref = "${aws_s3_bucket.data_bucket_F0368B94.id}"
    assert only(reference, "aws_s3_bucket_versioning", bucket=ref)["versioning_configuration"]["status"] == "Enabled"
    block = only(reference, "aws_s3_bucket_public_access_block", bucket=ref)
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    rule = only(reference, "aws_s3_bucket_server_side_encryption_configuration", bucket=ref)["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": "${aws_kms_key.key_F64E54E4.arn}",
    }
    assert rule["bucket_key_enabled"] is True
    lifecycle = only(reference, "aws_s3_bucket_lifecycle_configuration", bucket=ref)["rule"][0]
    assert lifecycle["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    assert lifecycle["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    logging = only(reference, "aws_s3_bucket_logging", bucket=ref)
    assert logging["target_prefix"] == "ref-data-use1-dev/"
    assert logging["depends_on"] == ["aws_s3_bucket_policy.access_logs_policy_39F5B31E"]


def test_bucket_policy_denies_insecure_requests(reference):
    policy = only(reference, "aws_s3_bucket_policy", bucket="${aws_s3_bucket.data_bucket_F0368B94.id}")
    assert statement(policy, "DenyInsecureTransport")["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement(policy, "DenyOutdatedTls")["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert statement(policy, "DenyOtherEncryption")["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    assert statement(policy, "DenyUnencryptedUpload")["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "true"}
    }


def test_access_log_bucket_admits_the_logging_service_and_records_its_exceptions(reference):
    logs = only(reference, "aws_s3_bucket", bucket="ref-access-logs-use1-dev")
    assert {s["rule"] for s in logs["//"]["suppressions"]} == {"S3_ACCESS_LOGGING", "S3_CMK_ENCRYPTION"}
    policy = only(reference, "aws_s3_bucket_policy", bucket="${aws_s3_bucket.access_logs_bucket_6F4F867B.id}")
    grant = statement(policy, "AccessLogsData")
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Resource"] == "${aws_s3_bucket.access_logs_bucket_6F4F867B.arn}/ref-data-use1-dev/*"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": None}, "sse-kms needs a key"),
        ({"encryption": "sse-s3", "sse_s3_reason": "short"}, "sse_s3_reason of at least 10"),
        ({"access_log_exemption": ""}, "give access_log_bucket"),
    ],
)
def test_fails_on_insecure_bucket_props(changes, message):
    from shared_constructs.cdk import App
    from shared_constructs.kms import Key, KeyProps
    from shared_constructs.settings import BaseSettings
    from shared_constructs.stack import PlatformStack
    from shared_constructs.storage import BucketProps, SecureBucket

    settings = BaseSettings(
        environment="dev",
        environment_suffix="dev",
        cost_center="cc",
        owner="team",
        account_id="123456789012",
        deployer_role_arn=DEPLOYER,
    )
    stack = PlatformStack(App(), "t", settings=settings, package="t", region="us-east-1")
    key = Key(stack, "k", KeyProps(context=stack.context, name="k", description="k", regional_name=False))
    props = {
        "name": "b",
        "key": key,
        "access_log_exemption": "a reason that is long",
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        SecureBucket(stack, "b", BucketProps(context=stack.context, **props, regional_name=False))
