"""The payment API: an internal Application Load Balancer in front of the payment function.

- ALB: internal (no internet-facing resource), workload subnets in three AZs, cross-zone load
  balancing, invalid header fields dropped, access logs to S3. ALB access logs support only SSE-S3
  on the target bucket (docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html),
  so that one bucket uses SSE-S3, with the reason recorded as a policy suppression.
- HTTPS listener on 443 with a TLS 1.2+ policy and the certificate from configuration; requests
  under the payment path go to the payment function, ``/batch/*`` to the batch hosts over HTTPS,
  anything else gets a 404.
- The payment function (workload subnets, reserved concurrency, X-Ray) connects to the database
  through RDS Proxy with an IAM token as the application user (never the master), verifying the
  proxy's certificate and host name, queues accepted payments for batch settlement, publishes
  payment events on the bus and writes a masked transaction log to Firehose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import FunctionProps, PythonFunction, check_capacity
from shared_constructs.iam import Statement
from shared_constructs.naming import Kind
from shared_constructs.storage import ALB_ACCESS_LOG_SSE_REASON, BucketProps, LifecycleRule, SecureBucket

from pci_platform.access import Guardrails
from pci_platform.config import Settings
from pci_platform.data import DataStores
from pci_platform.database import PaymentDatabase
from pci_platform.networking import WORKLOAD, Network
from pci_platform.secrets import PG8000_BUNDLE, POSTGRES_PORT
from pci_platform.security import PlatformKeys

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-central-1": "054676820928",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
}
"""Elastic Load Balancing's log-delivery account per region (AWS documentation, link above)."""
BATCH_PORT = 8443


@dataclass(frozen=True, kw_only=True)
class PaymentApiProps:
    """Props of :class:`PaymentApi` (sized by ``settings.application``). ``environment``: variables
    of the payment function besides its database's."""

    context: AppContext[Settings]
    network: Network
    data: DataStores
    keys: PlatformKeys
    database: PaymentDatabase
    guardrails: Guardrails
    environment: Mapping[str, str]


class PaymentApi(Construct):
    """Access-log bucket, load balancer, listener and rules, and the payment function."""

    def __init__(self, scope: Construct, id: str, props: PaymentApiProps) -> None:
        super().__init__(scope, id)
        config = props.context.settings.application
        check_capacity("payment", config.reserved_concurrency, config.target_tps, config.duration_s)
        self._logs_bucket(props)
        self._load_balancer(props)
        self.function = self._function(props)
        self._target_groups(props)
        self._listener(props)
        self._route("payments", 10, [config.payment_path, f"{config.payment_path}/*"], self.payment_target_group)
        self._route("batch", 20, ["/batch/*"], self.batch_target_group)
        self.alb_arn_suffix = self.alb.arn_suffix

    def _logs_bucket(self, props: PaymentApiProps) -> None:
        """The load balancer's access-log bucket, which Elastic Load Balancing's account writes to."""
        ctx = props.context
        config, region = ctx.settings.application, ctx.region
        self.logs_bucket = SecureBucket(
            self,
            "alb_logs",
            BucketProps(
                context=ctx,
                name="alb-logs",
                encryption="sse-s3",
                sse_s3_reason=ALB_ACCESS_LOG_SSE_REASON,
                access_log_bucket=props.data.access_logs,
                lifecycle=(LifecycleRule(id="expire-alb-logs", expiration_days=90, noncurrent_expiration_days=1),),
            ),
        )
        elb_account = config.elb_log_account or ELB_LOG_ACCOUNTS.get(region)
        if elb_account is None:
            raise ValueError(
                f"no Elastic Load Balancing log account known for {region!r}; set application.elb_log_account"
            )
        self.logs_bucket.add_to_policy(
            Statement(
                sid="ElbLogDelivery",
                actions=["s3:PutObject"],
                principals={"AWS": f"arn:aws:iam::{elb_account}:root"},
                resources=[f"{self.logs_bucket.bucket_arn}/AWSLogs/{ctx.account}/*"],
            )
        )

    def _load_balancer(self, props: PaymentApiProps) -> None:
        """The internal load balancer and its security group (HTTPS in from the client networks)."""
        ctx, network = props.context, props.network
        config = ctx.settings.application
        self.security_group = SecurityGroup(
            self,
            "alb_sg",
            name=ctx.name(Kind.SECURITY_GROUP, "payment-alb"),
            description="Internal ALB: HTTPS from the client networks only",
            vpc_id=network.vpc_id,
            ingress=[
                SecurityGroupIngress(
                    description="HTTPS from clients",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=list(config.client_cidrs),
                )
            ],
            egress=[
                SecurityGroupEgress(
                    description="HTTPS to batch hosts",
                    from_port=BATCH_PORT,
                    to_port=BATCH_PORT,
                    protocol="tcp",
                    cidr_blocks=network.cidrs(WORKLOAD),
                )
            ],
        )
        self.alb = Lb(
            self,
            "alb",
            name=ctx.name(Kind.ALB, "payments"),
            internal=True,
            load_balancer_type="application",
            subnets=network.subnet_ids(WORKLOAD),
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=ctx.settings.protect_stateful,
            desync_mitigation_mode="strictest",
            access_logs=LbAccessLogs(bucket=self.logs_bucket.bucket_name, enabled=True),
            depends_on=[self.logs_bucket.policy],
        )

    def _target_groups(self, props: PaymentApiProps) -> None:
        """The payment function's target group (the load balancer may invoke it) and the batch hosts'."""
        ctx, network = props.context, props.network
        self.payment_target_group = LbTargetGroup(
            self, "payment_tg", name=ctx.name(Kind.TARGET_GROUP, "payment-fn"), target_type="lambda"
        )
        permission = self.function.allow_service_invoke(
            self,
            "alb_invoke",
            statement_id="AllowPaymentAlb",
            principal="elasticloadbalancing.amazonaws.com",
            source_arn=self.payment_target_group.arn,
        )
        LbTargetGroupAttachment(
            self,
            "payment_target",
            target_group_arn=self.payment_target_group.arn,
            target_id=self.function.function_arn,
            depends_on=[permission],
        )
        self.batch_target_group = LbTargetGroup(
            self,
            "batch_tg",
            name=ctx.name(Kind.TARGET_GROUP, "batch"),
            target_type="instance",
            port=BATCH_PORT,
            protocol="HTTPS",
            vpc_id=network.vpc_id,
            health_check=LbTargetGroupHealthCheck(path="/health", protocol="HTTPS", matcher="200"),
        )

    def _listener(self, props: PaymentApiProps) -> None:
        """The HTTPS listener; what no rule routes gets a 404."""
        config = props.context.settings.application
        self.listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=config.certificate_arn,
            default_action=[
                LbListenerDefaultAction(
                    type="fixed-response",
                    fixed_response=LbListenerDefaultActionFixedResponse(
                        content_type="application/json", message_body='{"error":"not_found"}', status_code="404"
                    ),
                )
            ],
        )

    def _route(self, id: str, priority: int, paths: list[str], target_group: LbTargetGroup) -> None:
        LbListenerRule(
            self,
            f"{id}_rule",
            listener_arn=self.listener.arn,
            priority=priority,
            action=[LbListenerRuleAction(type="forward", target_group_arn=target_group.arn)],
            condition=[LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=paths))],
        )

    def _function(self, props: PaymentApiProps) -> PythonFunction:
        """The payment function: through RDS Proxy with an IAM token, in the workload subnets."""
        ctx, network, database = props.context, props.network, props.database
        config = ctx.settings.application
        security_group = network.workload_security_group(
            self,
            "function_sg",
            "payment",
            extra_egress=[
                SecurityGroupEgress(
                    description="PostgreSQL to RDS Proxy",
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    protocol="tcp",
                    cidr_blocks=network.cidrs(WORKLOAD),
                )
            ],
        )
        function = PythonFunction(
            self,
            "payment",
            FunctionProps(
                context=ctx,
                name="payment",
                description="Authorises a payment: stores it through RDS Proxy, queues it, publishes its event",
                source=LAMBDAS / "payment",
                handler="handler.handler",
                key=props.keys.logs,
                reserved_concurrency=config.reserved_concurrency,
                services=("events", "firehose", "sqs"),
                timeout_s=15,
                vendor=PG8000_BUNDLE,
                environment={
                    "DB_HOST": database.proxy_endpoint,
                    "DB_USER": database.application_user,
                    "DB_PORT": str(POSTGRES_PORT),
                    **props.environment,
                },
                vpc_subnet_ids=network.subnet_ids(WORKLOAD),
                security_group_ids=[security_group.id],
            ),
        )
        database.grant_connect(function.role)
        props.guardrails.attach(function.role, "payment")
        return function
