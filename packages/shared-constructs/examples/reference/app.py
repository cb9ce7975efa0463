"""Reference app: every shared construct in one small stack, climbing the whole verification ladder."""

from __future__ import annotations

from pathlib import Path

from shared_constructs.cdk import App
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, assume_role_policy
from shared_constructs.kms import Key, KeyProps
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps, TopicProps
from shared_constructs.naming import Kind
from shared_constructs.network import PrivateVpc, SubnetTier, VpcProps
from shared_constructs.settings import BaseSettings, Region
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import BucketProps, SecureBucket, access_log_bucket

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
    logs = access_log_bucket(stack, "access_logs", settings=settings, namer=namer, region=settings.region)
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
    flow_logs = EncryptedLogGroup(
        stack,
        "app_logs",
        LogGroupProps(settings=settings, name=namer.path(Kind.LOG_GROUP, "flows"), key=key, region=settings.region),
    )
    vpc = PrivateVpc(
        stack,
        "vpc",
        VpcProps(
            settings=settings,
            namer=namer,
            name="core",
            cidr="10.20.0.0/16",
            region=settings.region,
            tiers=[SubnetTier(name="app", cidrs=["10.20.0.0/24", "10.20.1.0/24"])],
            flow_log_bucket=logs,
            flow_log_group=flow_logs,
        ),
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
            services=(),
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
    topic = EncryptedTopic(
        stack,
        "alerts",
        TopicProps(
            settings=settings, namer=namer, name="alerts", key=key, publishing_services=["cloudwatch.amazonaws.com"]
        ),
    )
    queue = EncryptedQueue(
        stack, "jobs", QueueProps(settings=settings, namer=namer, name="jobs", key=key, region=settings.region)
    )
    queue.grant_consume(fn.role)
    stack.output("data_bucket_name", data.bucket_name, description="Name of the data bucket")
    stack.output("function_name", fn.function_name, description="Name of the echo function")
    stack.output("topic_arn", topic.topic_arn, description="ARN of the alert topic")
    stack.output("queue_url", queue.queue_url, description="URL of the jobs queue")
    stack.output("vpc_id", vpc.vpc_id, description="Id of the VPC")
    stack.output("key_arn", key.key_arn, description="ARN of the data key")


if __name__ == "__main__":  # `cdktf synth` in this folder runs `python app.py`
    import os

    from platform_tooling.synth import AppPackage, synth_package

    outdir = os.environ.get("CDKTF_OUTDIR")
    synth_package(AppPackage(PACKAGE, HERE), environ=os.environ, outdir=Path(outdir) if outdir else None)
