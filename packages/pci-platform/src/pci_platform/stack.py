"""The ``pci-platform`` stack: a table of contents of the platform's constructs."""

from __future__ import annotations

from shared_constructs.cdk import Construct, Fn
from shared_constructs.contracts import pci_platform as contract
from shared_constructs.contracts import security_baseline
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.stack import PlatformStack
from shared_constructs.state import RemoteOutputs
from shared_constructs.tagging import required_tags
from shared_constructs.waf import WafLogBucket, WebAcl, WebAclProps

from pci_platform.access import Guardrails, GuardrailsProps
from pci_platform.application import PaymentApi, PaymentApiProps
from pci_platform.batch import BatchHosts, BatchProps
from pci_platform.compliance import ComplianceMonitoring, ComplianceProps
from pci_platform.compute import Processing, ProcessingProps
from pci_platform.config import Settings
from pci_platform.data import DataProps, DataStores
from pci_platform.database import DatabaseProps, PaymentDatabase
from pci_platform.dns import DnsProps, FailoverDns
from pci_platform.dns_firewall import BLOCKED_LOG_PATTERN, DnsFirewall, DnsFirewallProps
from pci_platform.events import EVENT_SOURCE, EventsProps, PaymentEvents
from pci_platform.firewall import EgressFirewall, FirewallProps
from pci_platform.monitoring import LogAlarm, MonitoringProps, SecurityMonitoring
from pci_platform.networking import TIERS, Network, NetworkProps
from pci_platform.observability import AppObservability, ObservabilityProps
from pci_platform.parameters import Parameters, ParametersProps
from pci_platform.secrets import SecretRotation, SecretRotationProps
from pci_platform.security import CLASSIFICATION_TAG, KEYS, KeysProps, PlatformKeys
from pci_platform.streaming import StreamProps, TransactionStream
from pci_platform.tag_scope import config_scope, taggable_types
from pci_platform.waf import waf_rules

PACKAGE = contract.PACKAGE
STACK = contract.STACK
FLOW_LOG_GROUP_DAYS = 30
"""The CloudWatch copy of the flow logs, for Logs Insights; the S3 copy is kept longer."""


class PciPlatformStack(PlatformStack[Settings]):
    """Part 1: isolated network, encryption, data, processing, secrets, monitoring, compliance, access.
    Part 2: the payment application tier (database, API, batch, WAF, DNS, events, streaming, parameters)."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(
            scope, STACK, settings=settings, package=PACKAGE, region=settings.region, publishes=contract.stack()
        )
        ctx = self.context
        # Security: keys per data classification, and the explicit-deny guardrails.
        self.keys = PlatformKeys(self, "keys", KeysProps(context=ctx))
        self.guardrails = Guardrails(self, "access", GuardrailsProps(context=ctx))
        # Data: buckets (access logs, flow logs, cardholder and processed data).
        self.data = DataStores(self, "data", DataProps(context=ctx, keys=self.keys))
        # Networking: private tiers, interface endpoints, and the egress firewall. Flow logs go to S3
        # and to CloudWatch Logs (30 days, for Logs Insights).
        self.flow_log_group = EncryptedLogGroup(
            self,
            "flow_log_group",
            LogGroupProps(
                context=ctx,
                name=ctx.path(Kind.LOG_GROUP, "vpc-flow-logs"),
                key=self.keys.logs,
                retention_days=FLOW_LOG_GROUP_DAYS,
            ),
        )
        self.network = Network(
            self,
            "network",
            NetworkProps(context=ctx, flow_log_bucket=self.data.flow_logs, flow_log_group=self.flow_log_group),
        )
        if self.network.vpc.flow_log_role is not None:
            self.guardrails.attach(self.network.vpc.flow_log_role, "flow_logs")
        self.firewall = EgressFirewall(
            self,
            "firewall",
            FirewallProps(context=ctx, network=self.network, keys=self.keys, flow_log_bucket=self.data.flow_logs),
        )
        # DNS egress: the Resolver answers only the names the platform uses.
        self.dns_firewall = DnsFirewall(
            self, "dns_firewall", DnsFirewallProps(context=ctx, vpc_id=self.network.vpc_id, keys=self.keys)
        )
        # Compute: the processing function.
        self.processing = Processing(
            self,
            "compute",
            ProcessingProps(
                context=ctx, network=self.network, keys=self.keys, data=self.data, guardrails=self.guardrails
            ),
        )
        self._database()
        # Monitoring and compliance, notifying security-baseline's security topic.
        baseline = RemoteOutputs(
            self,
            "baseline",
            settings=settings,
            stack=security_baseline.stack(settings.baseline_region or settings.region, settings.account_id),
        )
        topic_arn = baseline.get(security_baseline.SECURITY_TOPIC_ARN)
        self.monitoring = SecurityMonitoring(self, "monitoring", MonitoringProps(context=ctx, topic_arn=topic_arn))
        self._alarms()
        self.compliance = ComplianceMonitoring(
            self,
            "compliance",
            ComplianceProps(context=ctx, topic_arn=topic_arn, tags=self._accepted_tags()),
        )
        self._application_tier()
        self._observability()
        self._outputs()
        # Last: the tag rule evaluates every taggable type the stack now holds.
        self.compliance.add_tag_rule(config_scope(taggable_types(self)))

    def _database(self) -> None:
        """The database and the rotation of its existing secret (each needs the other, so two
        steps), then the schema step, which needs both."""
        ctx = self.context
        self.rotation = SecretRotation(
            self,
            "secrets",
            SecretRotationProps(context=ctx, network=self.network, keys=self.keys, guardrails=self.guardrails),
        )
        self.database = PaymentDatabase(
            self,
            "database",
            DatabaseProps(
                context=ctx, network=self.network, keys=self.keys, secrets=self.rotation, guardrails=self.guardrails
            ),
        )
        self.rotation.add_rotation(database_host=self.database.cluster.endpoint)
        self.rotation.add_schema_step(
            database_host=self.database.cluster.endpoint,
            database_name=ctx.settings.database.database_name,
            after=self.database.instances,
        )

    def _accepted_tags(self) -> dict[str, list[str]]:
        """The values the tag rule accepts: the required tags' values, and for the data classification
        also each key's (a key carries the classification of what it serves)."""
        accepted = {tag: [value] for tag, value in required_tags(self.settings, PACKAGE, self.settings.region).items()}
        classes = {self.settings.data_classification, *(spec.classification for spec in KEYS.values())}
        accepted[CLASSIFICATION_TAG] = sorted(classes)
        return accepted

    def _application_tier(self) -> None:
        """Queues, the payment bus and the ops topic; streaming; parameters; the payment API behind
        the internal ALB, the batch hosts, and WAF on the ALB."""
        ctx, settings = self.context, self.settings
        self.events = PaymentEvents(
            self,
            "events",
            EventsProps(context=ctx, keys=self.keys, cluster_identifier=self.database.cluster_identifier),
        )
        self.stream = TransactionStream(
            self,
            "streaming",
            StreamProps(context=ctx, network=self.network, keys=self.keys, data=self.data, guardrails=self.guardrails),
        )
        user, database_name = self.database.application_user, settings.database.database_name
        proxy = self.database.proxy_endpoint
        self.parameters = Parameters(
            self,
            "parameters",
            ParametersProps(
                context=ctx,
                keys=self.keys,
                values={
                    "database/proxy-endpoint": proxy,
                    "database/connection-string": f"postgresql://{user}@{proxy}:5432/{database_name}?sslmode=verify-full",
                    **{f"app/{key}": value for key, value in settings.app_settings.items()},
                },
                secrets={f"app/{key}": secret for key, secret in settings.app_secrets.items()},
            ),
        )
        self.api = PaymentApi(
            self,
            "api",
            PaymentApiProps(
                context=ctx,
                network=self.network,
                data=self.data,
                keys=self.keys,
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
            ),
        )
        payment_role = self.api.function.role
        self.events.payment_queue.grant_send(payment_role)
        self.events.grant_put_events(payment_role, self.keys)
        self.stream.grant_put(payment_role)
        self.parameters.grant_read(payment_role, "payment-parameters")
        self._batch_and_waf()

    def _batch_and_waf(self) -> None:
        """The batch hosts behind the load balancer, and WAF on it."""
        ctx, settings = self.context, self.settings
        self.batch = BatchHosts(
            self,
            "batch",
            BatchProps(
                context=ctx,
                network=self.network,
                keys=self.keys,
                queue=self.events.payment_queue,
                output_bucket=self.data.processed,
                target_group_arn=self.api.batch_target_group.arn,
                load_balancer_security_group_id=self.api.security_group.id,
                guardrails=self.guardrails,
                tags=required_tags(settings, PACKAGE, settings.region),
            ),
        )
        self.waf = WebAcl(
            self,
            "waf",
            WebAclProps(
                context=ctx,
                name="payments",
                description="Payment API protection",
                rules=waf_rules(settings.waf, settings.application.payment_path, ctx.name(Kind.WAF, "payments")),
                resource_arn=self.api.alb.arn,
                key=self.keys.cardholder,
                log_bucket=WafLogBucket(access_log_bucket=self.data.access_logs, glacier_days=90),
                blocked_only=True,
            ),
        )

    def _observability(self) -> None:
        """X-Ray, alarms and saved queries; DNS failover driven by the load balancer's 5XX alarm."""
        ctx, events = self.context, self.events
        self.observability = AppObservability(
            self,
            "observability",
            ObservabilityProps(context=ctx, keys=self.keys, topic_arn=events.ops_topic.topic_arn),
        )
        self.observability.add_app_alarms(
            group_name=self.batch.group_name,
            queue=events.payment_queue,
            dead_letter_queues=[
                events.payment_queue.metric_visible_messages(dead_letter=True),
                events.analytics_queue.metric_visible_messages(dead_letter=True),
                events.events_dlq.metric_visible_messages(),
                self.processing.dead_letters.metric_visible_messages(),
            ],
            alb_arn_suffix=self.api.alb_arn_suffix,
            payment_logs=self.api.function.log_group,
        )
        self.observability.add_saved_queries(
            {
                "flow": self.flow_log_group,
                "firewall": self.firewall.alert_log_group,
                "payment": self.api.function.log_group,
            }
        )
        self.dns = FailoverDns(
            self,
            "dns",
            DnsProps(
                context=ctx,
                vpc_id=self.network.vpc_id,
                alb=self.api.alb,
                alarm=self.observability.alarms["alb-5xx"],
            ),
        )

    def _alarms(self) -> None:
        limits = self.settings.monitoring
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
                name="dns-blocked",
                log_group=self.dns_firewall.log_group,
                pattern=BLOCKED_LOG_PATTERN,
                threshold=limits.firewall_blocked_threshold,
                description="DNS Firewall blocked names outside the platform's allow-list",
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
            "secret-rotation", self.rotation.function, limits.rotation_failure_threshold
        )
        self.monitoring.add_function_errors("processor", self.processing.function)

    def _outputs(self) -> None:
        self.output("vpc_id", self.network.vpc_id, description="Id of the isolated VPC")
        for tier in TIERS:
            self.output(
                f"{tier}_subnet_ids",
                Fn.join(",", self.network.subnet_ids(tier)),
                description=f"Comma-separated subnet ids of the {tier} tier, in AZ order",
            )
        self.output("firewall_arn", self.firewall.firewall_arn, description="ARN of the Network Firewall")
        for name, arn in self.keys.arns().items():
            self.output(f"{name}_key_arn", arn, description=f"ARN of the {name} KMS key")
        for name, bucket in self.data.buckets.items():
            self.output(f"{name}_bucket_name", bucket.bucket_name, description=f"Name of the {name} bucket")
        # security-baseline logs the object-level events of the buckets holding cardholder data in
        # CloudTrail: the data buckets and the transaction logs Firehose writes.
        holding = (*self.data.data_buckets, self.stream.bucket)
        self.publish(contract.DATA_BUCKET_ARNS, [b.bucket_arn for b in holding])
        self.output("processor_function_arn", self.processing.function_arn, description="ARN of the processor")
        self.output("rotation_function_arn", self.rotation.function_arn, description="ARN of the rotation function")
        self.output(
            "schema_function_arn",
            self.rotation.schema_function.function_arn,
            description="ARN of the schema function (Terraform invokes it once per schema change)",
        )
        self.output("database_secret_arn", self.rotation.secret_arn, description="ARN of the rotated database secret")
        self._application_outputs()

    def _application_outputs(self) -> None:
        waf_bucket = self.waf.log_bucket
        app_outputs = {
            "cluster_endpoint": (self.database.cluster.endpoint, "Writer endpoint of the Aurora cluster"),
            "cluster_reader_endpoint": (self.database.cluster.reader_endpoint, "Reader endpoint of the cluster"),
            "proxy_endpoint": (self.database.proxy_endpoint, "RDS Proxy endpoint (TLS, IAM authentication)"),
            "alb_dns_name": (self.api.alb.dns_name, "DNS name of the internal load balancer"),
            "payment_url": (
                f"https://{self.dns.fqdn}{self.settings.application.payment_path}",
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
            "waf_logs_bucket_name": (waf_bucket.bucket_name if waf_bucket else "", "WAF log bucket"),
            "web_acl_arn": (self.waf.acl_arn, "ARN of the WAF web ACL"),
            "batch_group_name": (self.batch.group_name, "Name of the batch Auto Scaling group"),
            "flow_log_group_name": (self.flow_log_group.log_group_name, "Flow-log group (30 days)"),
        }
        for name, (value, description) in app_outputs.items():
            self.output(name, value, description=description)
