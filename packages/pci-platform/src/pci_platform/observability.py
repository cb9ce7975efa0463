"""Operational observability of the application tier: X-Ray, alarms, Logs Insights queries.

- X-Ray: traces encrypted with the logs key; a sampling rule that traces 100% of requests on the
  payment path (``fixed_rate = 1``, priority 1). Lambda functions trace actively; their own
  sampling is chosen by Lambda, which the README explains.
- Alarms to the ops topic: batch CPU and memory (CloudWatch agent metric), payment queue depth,
  messages in any dead-letter queue, failed payments (metric filter on the payment function's
  log), and load-balancer 5XX responses (which also drive the DNS failover health check).
- CloudWatch Logs Insights saved queries for security analysis of flow logs, the firewall alert
  log and the payment log.

(The emulator has no X-Ray sampling-rule, X-Ray encryption or Logs query-definition API: the
tooling's emulator target profile leaves those three types out; this module does not know.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_query_definition import CloudwatchQueryDefinition
from cdktf_cdktf_provider_aws.xray_encryption_config import XrayEncryptionConfig
from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.messaging import EncryptedQueue
from shared_constructs.monitoring import Alarm, AlarmProps, Metric, MetricFilter, MetricFilterProps
from shared_constructs.naming import Kind

from pci_platform.config import Settings
from pci_platform.host_setup import AGENT_NAMESPACE
from pci_platform.security import PlatformKeys

SECURITY_QUERIES: dict[str, tuple[str, str]] = {
    "rejected-flows": (
        "flow",
        "fields @timestamp, srcAddr, dstAddr, dstPort, protocol, action\n"
        '| filter action = "REJECT"\n| stats count(*) as rejected by srcAddr, dstAddr, dstPort\n'
        "| sort rejected desc\n| limit 50",
    ),
    "top-talkers": ("flow", "stats sum(bytes) as bytes by srcAddr, dstAddr\n| sort bytes desc\n| limit 20"),
    "firewall-blocked-domains": (
        "firewall",
        "fields @timestamp, event.src_ip, event.tls.sni, event.alert.signature\n"
        '| filter event.alert.action = "blocked"\n'
        "| stats count(*) as blocked by event.tls.sni, event.src_ip\n"
        "| sort blocked desc",
    ),
    "failed-payments": (
        "payment",
        'fields @timestamp, payment_id, reason\n| filter outcome = "failed"\n'
        "| stats count(*) as failures by reason\n| sort failures desc",
    ),
}
"""Saved query name -> (log group role, query)."""


@dataclass(frozen=True, kw_only=True)
class ObservabilityProps:
    """Props of :class:`AppObservability`: the ``keys`` (X-Ray encryption) and the ops ``topic_arn``
    every alarm notifies; the sampled path is ``settings.application.payment_path``."""

    context: AppContext[Settings]
    keys: PlatformKeys
    topic_arn: str


class AppObservability(Construct):
    """X-Ray configuration, operational alarms and saved queries."""

    def __init__(self, scope: Construct, id: str, props: ObservabilityProps) -> None:
        super().__init__(scope, id)
        ctx = self._context = props.context
        self.topic_arn = props.topic_arn
        self.namespace = f"PciPlatform/{ctx.namer.suffix}"
        self.alarms: dict[str, Alarm] = {}
        # X-Ray uses the key with the access of whoever configures it: the deployer, through X-Ray only.
        props.keys.logs.policy.allow_principals(
            "DeployerConfiguresXRay",
            [ctx.settings.deployer_role_arn],
            ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
            conditions={"StringEquals": {"kms:ViaService": f"xray.{ctx.region}.amazonaws.com"}},
        )
        XrayEncryptionConfig(self, "xray_encryption", type="KMS", key_id=props.keys.logs.key_arn)
        self.sampling_rule = XraySamplingRule(
            self,
            "payments_sampling",
            rule_name=ctx.name(Kind.XRAY, "payments", regional=False),
            priority=1,
            fixed_rate=1,
            reservoir_size=1,
            service_name="*",
            service_type="*",
            host="*",
            http_method="*",
            url_path=f"{ctx.settings.application.payment_path}*",
            resource_arn="*",
            version=1,
        )

    def alarm(self, name: str, description: str, metric: Metric, threshold: float, *, periods: int = 1) -> Alarm:
        """An alarm at ``threshold`` (greater or equal) on ``metric`` that notifies the ops topic."""
        alarm = Alarm(
            self,
            f"{name}_alarm",
            AlarmProps(
                context=self._context,
                name=name,
                description=description,
                watch=metric,
                threshold=threshold,
                evaluation_periods=periods,
                actions=[self.topic_arn],
            ),
        )
        self.alarms[name] = alarm
        return alarm

    def add_app_alarms(
        self,
        *,
        group_name: str,
        queue: EncryptedQueue,
        dead_letter_queues: Sequence[Metric],
        alb_arn_suffix: str,
        payment_logs: EncryptedLogGroup,
    ) -> None:
        """The application tier's alarms (module docstring). ``dead_letter_queues``: the visible
        messages of every dead-letter queue."""
        config = self._context.settings.alerts
        group = {"AutoScalingGroupName": group_name}
        cpu = Metric(namespace="AWS/EC2", name="CPUUtilization", dimensions=group, statistic="Average")
        memory = Metric(namespace=AGENT_NAMESPACE, name="mem_used_percent", dimensions=group, statistic="Average")
        self.alarm("batch-cpu", "Batch hosts CPU high", cpu, config.cpu_percent, periods=2)
        self.alarm(
            "batch-memory", "Batch hosts memory high (CloudWatch agent)", memory, config.memory_percent, periods=2
        )
        self.alarm(
            "payment-queue-depth",
            "Payments waiting for settlement",
            queue.metric_visible_messages(),
            config.queue_depth,
        )
        for dead_letters in dead_letter_queues:
            dlq = dead_letters.dimensions["QueueName"]
            self.alarm(f"{dlq}-messages", f"Messages in dead-letter queue {dlq}", dead_letters, 1)
        failed = MetricFilter(
            self,
            "failed_payments_filter",
            MetricFilterProps(
                context=self._context,
                name="failed-payments",
                log_group=payment_logs,
                pattern='{ $.outcome = "failed" }',
                metric_name="FailedPayments",
                namespace=self.namespace,
                default_value="0",
            ),
        )
        self.alarm("failed-payments", "Failed payments", failed.metric(), config.failed_payments)
        errors = Metric(
            namespace="AWS/ApplicationELB",
            name="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": alb_arn_suffix},
            period_s=60,
        )
        self.alarm("alb-5xx", "Load balancer 5XX responses", errors, config.alb_5xx)

    def add_saved_queries(self, groups: dict[str, EncryptedLogGroup]) -> None:
        """Logs Insights saved queries over the named log groups (``flow``, ``firewall``, ``payment``)."""
        for name, (role, query) in SECURITY_QUERIES.items():
            CloudwatchQueryDefinition(
                self,
                f"{name}_query",
                name=f"pci-platform/{self._context.namer.suffix}/{name}",
                log_group_names=[groups[role].log_group.name],
                query_string=query,
            )
