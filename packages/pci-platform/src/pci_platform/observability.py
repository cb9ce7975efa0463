"""Operational observability of the application tier: X-Ray, alarms, Logs Insights queries.

- X-Ray: traces encrypted with the logs key; a sampling rule that traces 100% of requests on the
  payment path (``fixed_rate = 1``, priority 1). Lambda functions trace actively; their own
  sampling is chosen by Lambda, which the README explains.
- Alarms to the ops topic: batch CPU and memory (CloudWatch agent metric), payment queue depth,
  messages in any dead-letter queue, failed payments (metric filter on the payment function's
  log), and load-balancer 5XX responses (which also drive the DNS failover health check).
- CloudWatch Logs Insights saved queries for security analysis of flow logs, the firewall alert
  log and the payment log.

moto has no X-Ray sampling-rule, X-Ray encryption or Logs query-definition API: those three types
are skipped on the emulator through ``settings.creates``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.cloudwatch_query_definition import CloudwatchQueryDefinition
from cdktf_cdktf_provider_aws.xray_encryption_config import XrayEncryptionConfig
from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from shared_constructs.cdk import Construct
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import BaseSettings

from pci_platform.config import AlertSettings
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


class AppObservability(Construct):
    """X-Ray configuration, operational alarms and saved queries."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: BaseSettings,
        namer: Namer,
        region: str,
        keys: PlatformKeys,
        topic_arn: str,
        payment_path: str,
    ) -> None:
        super().__init__(scope, id)
        self._namer = namer
        self._region = region
        self.topic_arn = topic_arn
        self.namespace = f"PciPlatform/{namer.suffix}"
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        # X-Ray uses the key with the access of whoever configures it: the deployer, through X-Ray only.
        keys.logs.policy.allow_principals(
            "DeployerConfiguresXRay",
            [settings.deployer_role_arn],
            ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
            conditions={"StringEquals": {"kms:ViaService": f"xray.{region}.amazonaws.com"}},
        )
        XrayEncryptionConfig(self, "xray_encryption", type="KMS", key_id=keys.logs.key_arn)
        self.sampling_rule = XraySamplingRule(
            self,
            "payments_sampling",
            rule_name=namer.name(Kind.XRAY, "payments"),
            priority=1,
            fixed_rate=1,
            reservoir_size=1,
            service_name="*",
            service_type="*",
            host="*",
            http_method="*",
            url_path=f"{payment_path}*",
            resource_arn="*",
            version=1,
        )

    def alarm(
        self,
        name: str,
        description: str,
        *,
        namespace: str,
        metric: str,
        threshold: float,
        dimensions: dict[str, str] | None = None,
        statistic: str = "Sum",
        period: int = 300,
        periods: int = 1,
    ) -> CloudwatchMetricAlarm:
        """An alarm at ``threshold`` (greater or equal) that notifies the ops topic."""
        alarm = CloudwatchMetricAlarm(
            self,
            f"{name}_alarm",
            alarm_name=self._namer.name(Kind.ALARM, name, region=self._region),
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            statistic=statistic,
            dimensions=dimensions,
            period=period,
            evaluation_periods=periods,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
        )
        self.alarms[name] = alarm
        return alarm

    def add_app_alarms(
        self,
        config: AlertSettings,
        *,
        group_name: str,
        queue_name: str,
        dead_letter_queues: Sequence[str],
        alb_arn_suffix: str,
        payment_logs: EncryptedLogGroup,
    ) -> None:
        """The application tier's alarms (module docstring)."""
        group = {"AutoScalingGroupName": group_name}
        self.alarm(
            "batch-cpu",
            "Batch hosts CPU high",
            namespace="AWS/EC2",
            metric="CPUUtilization",
            threshold=config.cpu_percent,
            dimensions=group,
            statistic="Average",
            periods=2,
        )
        self.alarm(
            "batch-memory",
            "Batch hosts memory high (CloudWatch agent)",
            namespace="CWAgent",
            metric="mem_used_percent",
            threshold=config.memory_percent,
            dimensions=group,
            statistic="Average",
            periods=2,
        )
        self.alarm(
            "payment-queue-depth",
            "Payments waiting for settlement",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            threshold=config.queue_depth,
            dimensions={"QueueName": queue_name},
            statistic="Maximum",
        )
        for dlq in dead_letter_queues:
            self.alarm(
                f"{dlq}-messages",
                f"Messages in dead-letter queue {dlq}",
                namespace="AWS/SQS",
                metric="ApproximateNumberOfMessagesVisible",
                threshold=1,
                dimensions={"QueueName": dlq},
                statistic="Maximum",
            )
        CloudwatchLogMetricFilter(
            self,
            "failed_payments_filter",
            name=self._namer.name(Kind.GENERIC, "failed-payments", region=self._region),
            log_group_name=payment_logs.log_group.name,
            pattern='{ $.outcome = "failed" }',
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name="FailedPayments", namespace=self.namespace, value="1", default_value="0"
            ),
        )
        self.alarm(
            "failed-payments",
            "Failed payments",
            namespace=self.namespace,
            metric="FailedPayments",
            threshold=config.failed_payments,
        )
        self.alarm(
            "alb-5xx",
            "Load balancer 5XX responses",
            namespace="AWS/ApplicationELB",
            metric="HTTPCode_ELB_5XX_Count",
            threshold=config.alb_5xx,
            dimensions={"LoadBalancer": alb_arn_suffix},
            period=60,
        )

    def add_saved_queries(self, settings: BaseSettings, groups: dict[str, EncryptedLogGroup]) -> None:
        """Logs Insights saved queries over the named log groups (``flow``, ``firewall``, ``payment``)."""
        for name, (role, query) in SECURITY_QUERIES.items():
            CloudwatchQueryDefinition(
                self,
                f"{name}_query",
                name=f"pci-platform/{self._namer.suffix}/{name}",
                log_group_names=[groups[role].log_group.name],
                query_string=query,
            )
