"""Reference app: every shared construct in one small stack, climbing the whole verification ladder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared_constructs.cdk import App
from shared_constructs.config_rules import ConfigRule, ConfigRuleProps, ManagedRule
from shared_constructs.context import AppContext
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, assume_role_policy
from shared_constructs.kms import Key, KeyPolicy, KeyProps
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps, TopicProps
from shared_constructs.monitoring import (
    Alarm,
    AlarmProps,
    AnomalyBand,
    MathExpression,
    Metric,
    MetricFilter,
    MetricFilterProps,
    rate_percent,
)
from shared_constructs.naming import Kind
from shared_constructs.network import PrivateVpc, SubnetTier, VpcProps
from shared_constructs.settings import BaseSettings, Region
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import BucketProps, SecureBucket, access_log_bucket
from shared_constructs.waf import WebAcl, WebAclProps, managed_rule_group, rate_limit

PACKAGE = "reference"
HERE = Path(__file__).parent


class Settings(BaseSettings):
    """Settings of the reference example."""

    region: Region = "us-east-1"


@dataclass(frozen=True)
class Storage:
    key: Key
    jobs_key: Key
    access_logs: SecureBucket
    data: SecureBucket
    app_logs: EncryptedLogGroup


def build(app: App, settings: Settings) -> None:
    """The reference stack: storage, network, compute, messaging, monitoring, compliance, WAF."""
    stack = PlatformStack[Settings](
        app, "reference", settings=settings, package=PACKAGE, region=settings.region, service="ref"
    )
    ctx = stack.context
    storage = _storage(ctx)
    vpc = PrivateVpc(
        stack,
        "vpc",
        VpcProps(
            context=ctx,
            name="core",
            cidr="10.20.0.0/16",
            tiers=[SubnetTier(name="app", cidrs=["10.20.0.0/24", "10.20.1.0/24"])],
            flow_log_bucket=storage.access_logs,
            flow_log_group=storage.app_logs,
            nat_subnet="10.20.255.0/24",
        ),
    )
    fn, topic, queue = _compute(ctx, storage)
    _monitoring(ctx, storage, fn, topic, queue)
    ConfigRule(
        stack,
        "flow_logs_rule",
        ConfigRuleProps(
            context=ctx,
            rule=ManagedRule(name="flow-logs", identifier="VPC_FLOW_LOGS_ENABLED", description="VPCs log flows"),
        ),
    )
    acl = WebAcl(
        stack,
        "waf",
        WebAclProps(
            context=ctx,
            name="edge",
            description="Reference web ACL: AWS managed rule groups and a per-IP rate limit",
            rules=[
                managed_rule_group("common", 1, "AWSManagedRulesCommonRuleSet", metric="ref-common"),
                # Known bad inputs include the Log4j (CVE-2021-44228) lookups every web ACL must block.
                managed_rule_group(
                    "known-bad-inputs", 2, "AWSManagedRulesKnownBadInputsRuleSet", metric="ref-bad-inputs"
                ),
                rate_limit("per-ip", 3, 1000, metric="ref-per-ip"),
            ],
            key=storage.key,
            blocked_only=True,
        ),
    )
    stack.output("data_bucket_name", storage.data.bucket_name, description="Name of the data bucket")
    stack.output("function_name", fn.function_name, description="Name of the echo function")
    stack.output("topic_arn", topic.topic_arn, description="ARN of the alert topic")
    stack.output("queue_url", queue.queue_url, description="URL of the jobs queue")
    stack.output("vpc_id", vpc.vpc_id, description="Id of the VPC")
    stack.output("key_arn", storage.key.key_arn, description="ARN of the data key")
    stack.output("jobs_key_arn", storage.jobs_key.key_arn, description="ARN of the jobs key (named roles only)")
    stack.output("web_acl_arn", acl.acl_arn, description="ARN of the web ACL")


def _storage(ctx: AppContext[Settings]) -> Storage:
    """The data key, a key only named roles may use, the buckets and the application log group."""
    key = Key(ctx.stack, "key", KeyProps(context=ctx, name="data", description="Reference data key"))
    jobs_key = Key(
        ctx.stack,
        "jobs_key",
        KeyProps(
            context=ctx,
            name="jobs",
            description="Reference jobs key: only the roles granted use are named in its policy",
            policy=KeyPolicy(ctx.account, root_can_use=False, deployer_role_arn=ctx.settings.deployer_role_arn),
        ),
    )
    logs = access_log_bucket(ctx.stack, "access_logs", ctx)
    data = SecureBucket(
        ctx.stack,
        "data",
        BucketProps(
            context=ctx,
            name="data",
            key=key,
            access_log_bucket=logs,
            require_encryption_header=True,
        ),
    )
    app_logs = EncryptedLogGroup(
        ctx.stack,
        "app_logs",
        LogGroupProps(context=ctx, name=ctx.path(Kind.LOG_GROUP, "flows"), key=key),
    )
    return Storage(key=key, jobs_key=jobs_key, access_logs=logs, data=data, app_logs=app_logs)


def _compute(ctx: AppContext[Settings], storage: Storage) -> tuple[PythonFunction, EncryptedTopic, EncryptedQueue]:
    """The echo function, a role that reads the data and invokes it, the alert topic and the jobs queue."""
    stack = ctx.stack
    fn = PythonFunction(
        stack,
        "echo",
        FunctionProps(
            context=ctx,
            name="echo",
            description="Echo a message",
            source=HERE / "lambdas" / "echo",
            handler="handler.handler",
            key=storage.key,
            reserved_concurrency=2,
            services=(),
        ),
    )
    storage.data.grant_read(fn.role)
    reader = LeastPrivilegeRole(
        stack,
        "reader",
        RoleProps(
            context=ctx,
            name="reader",
            description="Reads the data bucket and invokes the echo function",
            trust_policy=assume_role_policy(services=["ec2.amazonaws.com"]),
            regional_name=False,
        ),
    )
    storage.data.grant_read(reader)
    fn.grant_invoke(reader)
    topic = EncryptedTopic(
        stack,
        "alerts",
        TopicProps(
            context=ctx,
            name="alerts",
            key=storage.key,
            publishing_services=["cloudwatch.amazonaws.com"],
            regional_name=False,
        ),
    )
    queue = EncryptedQueue(stack, "jobs", QueueProps(context=ctx, name="jobs", key=storage.jobs_key))
    queue.grant_consume(fn.role)
    return fn, topic, queue


def _monitoring(
    ctx: AppContext[Settings], storage: Storage, fn: PythonFunction, topic: EncryptedTopic, queue: EncryptedQueue
) -> None:
    """An alarm on each kind of watched value: a metric, metric math, an anomaly band, a log filter."""
    actions = [topic.topic_arn]
    errors = MetricFilter(
        ctx.stack,
        "app_errors_filter",
        MetricFilterProps(
            context=ctx,
            name="app-errors",
            log_group=fn.log_group,
            pattern='{ $.level = "ERROR" }',
            metric_name="AppErrors",
            namespace=f"Reference/{ctx.namer.suffix}",
            default_value="0",
        ),
    )
    watched: dict[str, tuple[Metric | MathExpression, float, str]] = {
        "app-errors": (errors.metric(), 1.0, "Error lines in the echo function's log"),
        "echo-failure-rate": (
            rate_percent(fn.metric_errors(period_s=60), fn.metric_invocations(period_s=60)),
            5.0,
            "More than 5% of echo invocations fail",
        ),
        "jobs-dead-letters": (queue.metric_visible_messages(dead_letter=True), 1.0, "Jobs in the dead-letter queue"),
        "alert-deliveries-failed": (topic.metric_notifications_failed(), 1.0, "Alert deliveries failed"),
    }
    for name, (watch, threshold, description) in watched.items():
        Alarm(
            ctx.stack,
            f"{name.replace('-', '_')}_alarm",
            AlarmProps(
                context=ctx,
                name=name,
                description=description,
                watch=watch,
                threshold=threshold,
                actions=actions,
                depends_on=[errors] if name == "app-errors" else (),
            ),
        )
    Alarm(
        ctx.stack,
        "echo_invocations_band_alarm",
        AlarmProps(
            context=ctx,
            name="echo-invocations-band",
            description="Echo invocations left their expected band",
            watch=AnomalyBand(metric=fn.metric_invocations(), width=3, metric_id="invocations"),
            evaluation_periods=2,
            actions=actions,
        ),
    )


if __name__ == "__main__":  # `cdktf synth` in this folder runs `python app.py`
    import os

    from platform_tooling.synth import AppPackage, synth_package

    outdir = os.environ.get("CDKTF_OUTDIR")
    synth_package(AppPackage(PACKAGE, HERE), environ=os.environ, outdir=Path(outdir) if outdir else None)
