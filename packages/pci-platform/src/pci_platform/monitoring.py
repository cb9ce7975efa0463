"""This platform's security monitoring (PCI DSS 10.4, 10.7): metric filters and alarms.

The account-wide CIS alarms (unauthorized API calls, root account use, security-group changes,
...) are security-baseline's, on the CloudTrail log group; this module watches what only this
platform sees, and sends every alarm to the baseline's security topic:

- blocked egress attempts in the Network Firewall alert log,
- failed rotations of the database secret (handler ``ERROR`` lines and Lambda errors),
- access-denied errors of the processing function.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from shared_constructs.cdk import Construct
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.naming import Kind, Namer


@dataclass(frozen=True, kw_only=True)
class LogAlarm:
    """A metric filter on one log group and the alarm on its metric."""

    name: str
    log_group: EncryptedLogGroup
    pattern: str
    threshold: int
    description: str


class SecurityMonitoring(Construct):
    """Metric filters and alarms on this platform's logs, all notifying ``topic_arn``."""

    def __init__(self, scope: Construct, id: str, *, namer: Namer, region: str, topic_arn: str) -> None:
        super().__init__(scope, id)
        self._namer = namer
        self._region = region
        self.topic_arn = topic_arn
        self.namespace = f"PciPlatform/{namer.suffix}"
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}

    def add_log_alarm(self, alarm: LogAlarm) -> CloudwatchMetricAlarm:
        """A metric filter counting ``alarm.pattern`` matches and an alarm at ``alarm.threshold`` per 5 minutes."""
        metric = "".join(part.title() for part in alarm.name.split("-"))
        CloudwatchLogMetricFilter(
            self,
            f"{alarm.name}_filter",
            name=self._namer.name(Kind.GENERIC, alarm.name, region=self._region),
            log_group_name=alarm.log_group.log_group.name,
            pattern=alarm.pattern,
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name=metric, namespace=self.namespace, value="1", default_value="0"
            ),
        )
        return self._alarm(alarm.name, alarm.description, metric, self.namespace, alarm.threshold, "Sum", None)

    def add_function_errors(self, name: str, function_name: str, threshold: int = 1) -> CloudwatchMetricAlarm:
        """An alarm on the Lambda ``Errors`` metric of ``function_name``."""
        return self._alarm(
            f"{name}-errors",
            f"Lambda function {function_name} failed",
            "Errors",
            "AWS/Lambda",
            threshold,
            "Sum",
            {"FunctionName": function_name},
        )

    def _alarm(
        self,
        name: str,
        description: str,
        metric: str,
        namespace: str,
        threshold: int,
        statistic: str,
        dimensions: dict[str, str] | None,
    ) -> CloudwatchMetricAlarm:
        alarm = CloudwatchMetricAlarm(
            self,
            f"{name}_alarm",
            alarm_name=self._namer.name(Kind.ALARM, name, region=self._region),
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            statistic=statistic,
            period=300,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            dimensions=dimensions,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
        )
        self.alarms[name] = alarm
        return alarm
