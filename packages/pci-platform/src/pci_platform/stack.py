"""The ``pci-platform`` stack: a table of contents of the platform's constructs."""

from __future__ import annotations

from typing import TypedDict

from shared_constructs.cdk import Construct, Fn
from shared_constructs.contracts import security_baseline
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import BaseSettings
from shared_constructs.stack import PlatformStack
from shared_constructs.state import RemoteOutputs
from shared_constructs.tagging import required_tags

from pci_platform.access import Guardrails
from pci_platform.application import PaymentApi
from pci_platform.batch import BatchHosts
from pci_platform.compliance import ComplianceMonitoring
from pci_platform.compute import DEAD_LETTER_QUEUE, Processing
from pci_platform.config import Settings
from pci_platform.data import DataStores
from pci_platform.database import PaymentDatabase
from pci_platform.dns import FailoverDns
from pci_platform.events import EVENT_SOURCE, PaymentEvents
from pci_platform.firewall import EgressFirewall
from pci_platform.monitoring import LogAlarm, SecurityMonitoring
from pci_platform.networking import TIERS, Network
from pci_platform.observability import AppObservability
from pci_platform.parameters import Parameters
from pci_platform.secrets import SecretRotation
from pci_platform.security import PlatformKeys
from pci_platform.streaming import TransactionStream
from pci_platform.waf import PaymentWaf


class Common(TypedDict):
    """The arguments every construct of this stack takes."""

    settings: BaseSettings
    namer: Namer
    region: str


PACKAGE = "pci-platform"
STACK = "pci-platform"


class PciPlatformStack(PlatformStack):
    """Part 1: isolated network, encryption, data, processing, secrets, monitoring, compliance, access.
    Part 2: the payment application tier (database, API, batch, WAF, DNS, events, streaming, parameters)."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        region = settings.region
        super().__init__(scope, STACK, settings=settings, package=PACKAGE, region=region)
        namer = self.namer
        common: Common = {"settings": settings, "namer": namer, "region": region}

        # Security: keys per data classification, and the explicit-deny guardrails.
        self.keys = PlatformKeys(self, "keys", **common)
        self.guardrails = Guardrails(
            self, "access", namer=namer, region=region, approved_regions=settings.approved_regions
        )
        # Data: buckets (access logs, flow logs, cardholder and processed data).
        self.data = DataStores(
            self, "data", **common, keys=self.keys, flow_log_days=settings.network.flow_log_retention_days
        )
        # Networking: private tiers, interface endpoints, and the egress firewall. Flow logs go to S3
        # (90 days) and to CloudWatch Logs (30 days, for Logs Insights).
        self.flow_log_group = EncryptedLogGroup(
            self,
            "flow_log_group",
            LogGroupProps(
                settings=settings,
                name=namer.path(Kind.LOG_GROUP, "vpc-flow-logs"),
                key=self.keys.logs,
                region=region,
                retention_days=30,
            ),
        )
        self.network = Network(
            self,
            "network",
            **common,
            config=settings.network,
            flow_log_bucket=self.data.flow_logs,
            flow_log_group=self.flow_log_group,
        )
        self.guardrails.attach(self.network.vpc.node.find_child("flow_log_role"), "flow_logs")  # type: ignore[arg-type]
        self.firewall = EgressFirewall(
            self,
            "firewall",
            **common,
            config=settings.firewall,
            network=self.network,
            keys=self.keys,
            flow_log_bucket=self.data.flow_logs,
        )
        # Compute and secrets: the processing function and the rotation of the existing DB secret.
        self.processing = Processing(
            self,
            "compute",
            **common,
            config=settings.processing,
            network=self.network,
            keys=self.keys,
            data=self.data,
            guardrails=self.guardrails,
        )
        self.rotation = SecretRotation(
            self,
            "secrets",
            **common,
            config=settings.secrets,
            network=self.network,
            keys=self.keys,
            guardrails=self.guardrails,
        )
        # Monitoring and compliance, notifying security-baseline's security topic.
        baseline_region = settings.baseline_region or region
        baseline = RemoteOutputs(self, "baseline", settings=settings, stack=security_baseline.stack(baseline_region))
        topic_arn = baseline.get(security_baseline.SECURITY_TOPIC_ARN)
        self.monitoring = SecurityMonitoring(self, "monitoring", namer=namer, region=region, topic_arn=topic_arn)
        self._alarms(settings)
        self.compliance = ComplianceMonitoring(
            self,
            "compliance",
            namer=namer,
            region=region,
            topic_arn=topic_arn,
            tags=required_tags(settings, PACKAGE, region),
        )
        self._application_tier(settings)
        self._outputs()

    def _application_tier(self, settings: Settings) -> None:
        namer, region = self.namer, settings.region
        common: Common = {"settings": settings, "namer": namer, "region": region}
        app = settings.application
        # Database: Aurora Serverless v2 behind RDS Proxy; the rotation function targets the cluster.
        self.database = PaymentDatabase(
            self,
            "database",
            **common,
            config=settings.database,
            network=self.network,
            keys=self.keys,
            secrets=self.rotation,
            guardrails=self.guardrails,
        )
        self.rotation.function.function.add_override("environment.variables.DB_HOST", self.database.cluster.endpoint)
        # Queues, the payment bus and the ops topic; streaming; parameters.
        self.events = PaymentEvents(
            self,
            "events",
            **common,
            keys=self.keys,
            emails=settings.alerts.emails,
            cluster_identifier=self.database.cluster_identifier,
        )
        self.stream = TransactionStream(
            self,
            "streaming",
            **common,
            network=self.network,
            keys=self.keys,
            data=self.data,
            guardrails=self.guardrails,
        )
        user, database_name = self.database.master_username, settings.database.database_name
        self.parameters = Parameters(
            self,
            "parameters",
            namer=namer,
            region=region,
            keys=self.keys,
            values={
                "database/proxy-endpoint": self.database.proxy_endpoint,
                "database/connection-string": f"postgresql://{user}@{self.database.proxy_endpoint}:5432/{database_name}?sslmode=verify-full",
                **{f"app/{key}": value for key, value in settings.app_settings.items()},
            },
        )
        # The payment API (internal ALB -> payment function), the batch hosts, and WAF on the ALB.
        self.api = PaymentApi(
            self,
            "api",
            **common,
            config=app,
            network=self.network,
            keys=self.keys,
            data=self.data,
            database=self.database,
            guardrails=self.guardrails,
            environment={
                "DB_NAME": database_name,
                "QUEUE_URL": self.events.payment_queue.queue_url,
                "BUS_NAME": self.events.bus_name,
                "STREAM_NAME": self.stream.stream_name,
                "EVENT_SOURCE": EVENT_SOURCE,
                "MAX_BODY_BYTES": str(settings.waf.max_payment_body_bytes),
            },
        )
        payment_role = self.api.function.role
        self.events.payment_queue.grant_send(payment_role)
        self.keys.allow_role(
            self.keys.cardholder, payment_role, ("kms:Decrypt", "kms:GenerateDataKey"), label="payment-queue"
        )
        self.events.grant_put_events(payment_role, self.keys)
        self.stream.grant_put(payment_role)
        self.parameters.grant_read(payment_role, "payment-parameters")
        self.batch = BatchHosts(
            self,
            "batch",
            **common,
            config=app,
            network=self.network,
            keys=self.keys,
            queue=self.events.payment_queue,
            target_group_arn=self.api.batch_target_group.arn,
            guardrails=self.guardrails,
        )
        self.waf = PaymentWaf(
            self,
            "waf",
            **common,
            config=settings.waf,
            payment_path=app.payment_path,
            alb_arn=self.api.alb.arn,
            keys=self.keys,
            data=self.data,
        )
        # Observability (X-Ray, alarms, saved queries) and DNS failover driven by the 5XX alarm.
        self.observability = AppObservability(
            self,
            "observability",
            **common,
            keys=self.keys,
            topic_arn=self.events.ops_topic.topic_arn,
            payment_path=app.payment_path,
        )
        self.observability.add_app_alarms(
            settings.alerts,
            group_name=self.batch.group_name,
            queue_name=self.events.payment_queue.queue_name,
            dead_letter_queues=[
                namer.name(Kind.SQS, n, region=region)
                for n in ("payments-dlq", "payment-analytics-dlq", "payment-events-dlq", DEAD_LETTER_QUEUE)
            ],
            alb_arn_suffix=self.api.alb_arn_suffix,
            payment_logs=self.api.function.log_group,
        )
        self.observability.add_saved_queries(
            settings,
            {
                "flow": self.flow_log_group,
                "firewall": self.firewall.alert_log_group,
                "payment": self.api.function.log_group,
            },
        )
        self.dns = FailoverDns(
            self,
            "dns",
            settings=settings,
            namer=namer,
            region=region,
            config=settings.dns,
            vpc_id=self.network.vpc_id,
            alb=self.api.alb,
            alarm=self.observability.alarms["alb-5xx"],
        )

    def _alarms(self, settings: Settings) -> None:
        limits = settings.monitoring
        self.monitoring.add_log_alarm(
            LogAlarm(
                name="firewall-blocked",
                log_group=self.firewall.alert_log_group,
                pattern='{ $.event.alert.action = "blocked" }',
                threshold=limits.firewall_blocked_threshold,
                description="Network Firewall blocked egress from the workload tier",
            )
        )
        self.monitoring.add_log_alarm(
            LogAlarm(
                name="rotation-failed",
                log_group=self.rotation.function.log_group,
                pattern='{ $.level = "ERROR" }',
                threshold=limits.rotation_failure_threshold,
                description="A rotation step of the database secret failed",
            )
        )
        self.monitoring.add_log_alarm(
            LogAlarm(
                name="processor-access-denied",
                log_group=self.processing.function.log_group,
                pattern='{ $.error_code = "AccessDenied" }',
                threshold=1,
                description="The processing function was denied access to a bucket or key",
            )
        )
        self.monitoring.add_function_errors(
            "secret-rotation", self.rotation.function.function_name, limits.rotation_failure_threshold
        )
        self.monitoring.add_function_errors("processor", self.processing.function.function_name)

    def _outputs(self) -> None:
        self.output("vpc_id", self.network.vpc_id, description="Id of the isolated VPC")
        for tier in TIERS:
            self.output(
                f"{tier}_subnet_ids",
                Fn.join(",", self.network.subnet_ids(tier)),
                description=f"Comma-separated subnet ids of the {tier} tier, in AZ order",
            )
        self.output(
            "firewall_arn",
            self.firewall.firewall_arn,
            description="ARN of the Network Firewall ('not-created' where the target cannot create it)",
        )
        for name, arn in self.keys.arns().items():
            self.output(f"{name}_key_arn", arn, description=f"ARN of the {name} KMS key")
        for name, bucket in self.data.buckets.items():
            self.output(f"{name}_bucket_name", bucket.bucket_name, description=f"Name of the {name} bucket")
        self.output("processor_function_arn", self.processing.function_arn, description="ARN of the processor")
        self.output("rotation_function_arn", self.rotation.function_arn, description="ARN of the rotation function")
        self.output("database_secret_arn", self.rotation.secret_arn, description="ARN of the rotated database secret")
        app_outputs = {
            "cluster_endpoint": (self.database.cluster.endpoint, "Writer endpoint of the Aurora cluster"),
            "cluster_reader_endpoint": (self.database.cluster.reader_endpoint, "Reader endpoint of the cluster"),
            "proxy_endpoint": (self.database.proxy_endpoint, "RDS Proxy endpoint (TLS, IAM authentication)"),
            "alb_dns_name": (self.api.alb.dns_name, "DNS name of the internal load balancer"),
            "payment_url": (
                f"https://{self.dns.fqdn}{self.settings.application.payment_path}",  # type: ignore[attr-defined]
                "Payment API URL (private DNS, failover records)",
            ),
            "hosted_zone_id": (self.dns.zone_id, "Private hosted zone id"),
            "payment_function_arn": (self.api.function.function_arn, "ARN of the payment function"),
            "transformer_function_arn": (self.stream.transformer.function_arn, "ARN of the Firehose transformer"),
            "payment_queue_url": (self.events.payment_queue.queue_url, "URL of the payment queue"),
            "analytics_queue_url": (self.events.analytics_queue.queue_url, "URL of the analytics queue"),
            "event_bus_name": (self.events.bus_name, "Name of the payment event bus"),
            "ops_topic_arn": (self.events.ops_topic.topic_arn, "ARN of the ops alert topic"),
            "delivery_stream_name": (self.stream.stream_name, "Name of the transaction-log delivery stream"),
            "transaction_logs_bucket_name": (self.stream.bucket.bucket_name, "Transaction-log bucket"),
            "alb_logs_bucket_name": (self.api.logs_bucket.bucket_name, "ALB access-log bucket"),
            "waf_logs_bucket_name": (self.waf.log_bucket.bucket_name, "WAF log bucket"),
            "web_acl_arn": (self.waf.acl_arn, "ARN of the WAF web ACL"),
            "batch_group_name": (self.batch.group_name, "Name of the batch Auto Scaling group"),
            "flow_log_group_name": (self.flow_log_group.log_group_name, "Flow-log group (30 days)"),
        }
        for name, (value, description) in app_outputs.items():
            self.output(name, value, description=description)
