"""Reference app: every shared construct in one small stack, climbing the whole verification ladder."""

from __future__ import annotations

from pathlib import Path

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from shared_constructs.cdk import App
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, assume_role_policy
from shared_constructs.kms import Key, KeyProps
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.settings import BaseSettings, Region
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

PACKAGE = "reference"
HERE = Path(__file__).parent


class Settings(BaseSettings):
    """Settings of the reference example."""

    region: Region = "us-east-1"


def build(app: App, settings: Settings) -> None:
    stack = PlatformStack(app, "reference", settings=settings, package=PACKAGE, region=settings.region, service="ref")
    namer = stack.namer
    key = Key(
        stack,
        "key",
        KeyProps(settings=settings, namer=namer, name="data", region=settings.region, description="Reference data key"),
    )
    logs = SecureBucket(
        stack,
        "access_logs",
        BucketProps(
            settings=settings,
            namer=namer,
            name="access-logs",
            region=settings.region,
            encryption="sse-s3",
            sse_s3_reason="S3 server access log delivery supports SSE-S3 target buckets only",
            access_log_exemption="this is the access-log bucket; logging it to itself would loop",
            lifecycle=(LifecycleRule(id="expire", expiration_days=90),),
        ),
    )
    data = SecureBucket(
        stack,
        "data",
        BucketProps(
            settings=settings,
            namer=namer,
            name="data",
            region=settings.region,
            key=key,
            access_log_bucket=logs,
            require_encryption_header=True,
        ),
    )
    EncryptedLogGroup(
        stack,
        "app_logs",
        LogGroupProps(settings=settings, name=namer.path(Kind.LOG_GROUP, "app"), key=key, region=settings.region),
    )
    fn = PythonFunction(
        stack,
        "echo",
        FunctionProps(
            settings=settings,
            namer=namer,
            name="echo",
            description="Echo a message",
            source=HERE / "lambdas" / "echo",
            handler="handler.handler",
            key=key,
            region=settings.region,
            reserved_concurrency=2,
        ),
    )
    data.grant_read(fn.role)
    reader = LeastPrivilegeRole(
        stack,
        "reader",
        RoleProps(
            namer=namer,
            name="reader",
            description="Reads the data bucket",
            trust_policy=assume_role_policy(services=["ec2.amazonaws.com"]),
        ),
    )
    data.grant_read(reader)
    key.policy.allow_service("SnsUse", "sns.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey"))
    topic = SnsTopic(stack, "topic", name=namer.name(Kind.SNS, "alerts"), kms_master_key_id=key.key_arn)
    stack.output("data_bucket_name", data.bucket_name, description="Name of the data bucket")
    stack.output("function_name", fn.function_name, description="Name of the echo function")
    stack.output("topic_arn", topic.arn, description="ARN of the alert topic")
    stack.output("key_arn", key.key_arn, description="ARN of the data key")
