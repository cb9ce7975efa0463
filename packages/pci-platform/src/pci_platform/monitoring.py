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

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import PythonFunction
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.monitoring import Alarm, AlarmProps, Metric, MetricFilter, MetricFilterProps

from pci_platform.config import Settings


@dataclass(frozen=True, kw_only=True)
class LogAlarm:
    """A metric filter on one log group and the alarm on its metric."""

    name: str
    log_group: EncryptedLogGroup
    pattern: str
    threshold: int
    description: str


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    """Props of :class:`SecurityMonitoring`: every alarm notifies ``topic_arn``."""

    context: AppContext[Settings]
    topic_arn: str


class SecurityMonitoring(Construct):
    """Metric filters and alarms on this platform's logs, all notifying ``topic_arn``."""

    def __init__(self, scope: Construct, id: str, props: MonitoringProps) -> None:
        super().__init__(scope, id)
        self._context = props.context
        self.topic_arn = props.topic_arn
        self.namespace = f"PciPlatform/{props.context.namer.suffix}"
        self.alarms: dict[str, Alarm] = {}

    def add_log_alarm(self, alarm: LogAlarm) -> Alarm:
        """A metric filter counting ``alarm.pattern`` matches and an alarm at ``alarm.threshold`` per 5 minutes."""
        found = MetricFilter(
            self,
            f"{alarm.name}_filter",
            MetricFilterProps(
                context=self._context,
                name=alarm.name,
                log_group=alarm.log_group,
                pattern=alarm.pattern,
                metric_name="".join(part.title() for part in alarm.name.split("-")),
                namespace=self.namespace,
                default_value="0",
            ),
        )
        return self._alarm(alarm.name, alarm.description, found.metric(), alarm.threshold)

    def add_function_errors(self, name: str, function: PythonFunction, threshold: int = 1) -> Alarm:
        """An alarm on the Lambda ``Errors`` metric of ``function``."""
        return self._alarm(
            f"{name}-errors", f"Lambda function {function.function_name} failed", function.metric_errors(), threshold
        )

    def _alarm(self, name: str, description: str, metric: Metric, threshold: int) -> Alarm:
        alarm = Alarm(
            self,
            f"{name}_alarm",
            AlarmProps(
                context=self._context,
                name=name,
                description=description,
                watch=metric,
                threshold=threshold,
                actions=[self.topic_arn],
            ),
        )
        self.alarms[name] = alarm
        return alarm
