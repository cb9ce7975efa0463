"""CloudWatch metrics, metric filters on log groups, and alarms: one way to watch anything.

- :class:`Metric`: a metric by namespace, name and dimensions, with its statistic and period.
  Constructs that emit metrics hand them out (``function.metric_errors()``,
  ``queue.metric_visible_messages()``, ``topic.metric_notifications_failed()``, ``filter.metric()``).
- :class:`MathExpression` (for example :func:`rate_percent`) and :class:`AnomalyBand`: what an
  alarm can watch besides one metric.
- :class:`MetricFilter`: counts (or sums a field of) the log events of an encrypted log group that
  match a pattern.
- :class:`Alarm`: fires when what it watches crosses a threshold (or leaves its anomaly band) and
  notifies its actions.

:class:`MetricFilter` and :class:`Alarm` are the Terraform resources themselves, built from props,
so that an app adopting them keeps each alarm's and filter's address (construct id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)

from shared_constructs.cdk import Construct, ITerraformDependable
from shared_constructs.context import AppContext
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.naming import Kind
from shared_constructs.settings import BaseSettings

Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
Comparison = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "GreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
]
MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A CloudWatch metric with the statistic and period an alarm or graph reads it with.

    ``dimensions``: Default: none. ``statistic``: Default ``Sum``. ``period_s``: Default 300.
    """

    namespace: str
    name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    statistic: Statistic = "Sum"
    period_s: int = 300

    def with_(self, *, statistic: Statistic | None = None, period_s: int | None = None) -> Metric:
        """This metric read with another statistic or period."""
        return dataclasses.replace(self, statistic=statistic or self.statistic, period_s=period_s or self.period_s)

    def query(self, id: str, *, return_data: bool) -> CloudwatchMetricAlarmMetricQuery:
        """This metric as one query of a metric-math alarm."""
        return CloudwatchMetricAlarmMetricQuery(
            id=id,
            return_data=return_data,
            metric=CloudwatchMetricAlarmMetricQueryMetric(
                namespace=self.namespace,
                metric_name=self.name,
                dimensions=dict(self.dimensions) or None,
                period=self.period_s,
                stat=self.statistic,
            ),
        )


@dataclass(frozen=True, kw_only=True)
class MathExpression:
    """Metric math over named metrics: ``expression`` refers to the keys of ``using``.

    ``id``: the expression's query id. Default ``expression``. ``label``: Default: none.
    """

    expression: str
    using: Mapping[str, Metric]
    id: str = "expression"
    label: str = ""


def rate_percent(failed: Metric, total: Metric, *, label: str = "failure rate (%)") -> MathExpression:
    """``failed`` as a percentage of ``total`` (0 when there is no traffic)."""
    return MathExpression(
        id="rate",
        expression="IF(total > 0, 100 * failed / total, 0)",
        using={"failed": failed, "total": total},
        label=label,
    )


@dataclass(frozen=True, kw_only=True)
class AnomalyBand:
    """The expected band of ``metric`` learned by CloudWatch anomaly detection, ``width`` standard
    deviations wide: an alarm on it fires when the metric leaves the band, with no threshold to tune.

    ``metric_id``: the metric's query id. Default ``m``. ``label``: Default: none.
    """

    metric: Metric
    width: float = 2.0
    metric_id: str = "m"
    label: str = ""

    band_id = "band"


@dataclass(frozen=True, kw_only=True)
class MetricFilterProps:
    """Props of :class:`MetricFilter`.

    ``name``: resource part of the filter's name. ``pattern``: CloudWatch Logs filter pattern.
    ``metric_name`` / ``namespace``: the custom metric the filter publishes. ``value``: what each
    matching event adds. Default ``"1"`` (count events); ``"$bytes"`` sums a field.
    ``default_value``: published when nothing matches. Default: nothing (no data).
    ``regional_name``: the region's code in the filter name. Default True.
    """

    context: AppContext[BaseSettings]
    name: str
    log_group: EncryptedLogGroup | str
    """The group to filter, or the name of an existing group this app does not own (an adopted trail's)."""
    pattern: str
    metric_name: str
    namespace: str
    value: str = "1"
    default_value: str | None = None
    regional_name: bool = True


class MetricFilter(CloudwatchLogMetricFilter):
    """A metric filter on an encrypted log group (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: MetricFilterProps) -> None:
        ctx = props.context
        super().__init__(
            scope,
            id,
            name=ctx.name(Kind.GENERIC, props.name, regional=props.regional_name),
            log_group_name=props.log_group if isinstance(props.log_group, str) else props.log_group.log_group.name,
            pattern=props.pattern,
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name=props.metric_name,
                namespace=props.namespace,
                value=props.value,
                default_value=props.default_value,
            ),
            provider=ctx.provider,
        )
        self._metric = Metric(namespace=props.namespace, name=props.metric_name)

    def metric(self, *, statistic: Statistic = "Sum", period_s: int = 300) -> Metric:
        """The metric this filter publishes."""
        return self._metric.with_(statistic=statistic, period_s=period_s)


@dataclass(frozen=True, kw_only=True)
class AlarmProps:
    """Props of :class:`Alarm`.

    ``name``: resource part of the alarm name. ``watch``: a :class:`Metric`, a
    :class:`MathExpression` or an :class:`AnomalyBand`.
    ``threshold``: required unless ``watch`` is an anomaly band. ``comparison``: Default
    ``GreaterThanOrEqualToThreshold`` (``GreaterThanUpperThreshold`` for an anomaly band).
    ``evaluation_periods``: Default 1. ``datapoints_to_alarm``: Default: every evaluated period.
    ``treat_missing_data``: Default ``notBreaching``.
    ``actions``: ARNs notified when the alarm fires (SNS topics). Default: none.
    ``notify_ok``: notify ``actions`` when the alarm recovers too. Default True.
    ``regional_name``: the region's code in the alarm name. Default True.
    ``depends_on``: what must exist first (the metric filter publishing the metric). Default: none.
    """

    context: AppContext[BaseSettings]
    name: str
    description: str
    watch: Metric | MathExpression | AnomalyBand
    threshold: float | None = None
    comparison: Comparison | None = None
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    treat_missing_data: MissingData = "notBreaching"
    actions: Sequence[str] = ()
    notify_ok: bool = True
    regional_name: bool = True
    depends_on: Sequence[ITerraformDependable] = ()


def _watched(watch: Metric | MathExpression | AnomalyBand) -> dict[str, Any]:
    """The alarm arguments that say what it watches."""
    if isinstance(watch, Metric):
        return {
            "namespace": watch.namespace,
            "metric_name": watch.name,
            "dimensions": dict(watch.dimensions) or None,
            "statistic": watch.statistic,
            "period": watch.period_s,
        }
    if isinstance(watch, MathExpression):
        expression = CloudwatchMetricAlarmMetricQuery(
            id=watch.id, expression=watch.expression, label=watch.label or None, return_data=True
        )
        inputs = [metric.query(id, return_data=False) for id, metric in watch.using.items()]
        return {"metric_query": [expression, *inputs]}
    band = CloudwatchMetricAlarmMetricQuery(
        id=watch.band_id,
        expression=f"ANOMALY_DETECTION_BAND({watch.metric_id}, {watch.width:g})",
        label=watch.label or None,
        return_data=True,
    )
    return {
        "metric_query": [watch.metric.query(watch.metric_id, return_data=True), band],
        "threshold_metric_id": watch.band_id,
    }


class Alarm(CloudwatchMetricAlarm):
    """A CloudWatch alarm on a metric, a metric-math expression or an anomaly band (module docstring)."""

    def __init__(self, scope: Construct, id: str, props: AlarmProps) -> None:
        band = isinstance(props.watch, AnomalyBand)
        if band == (props.threshold is not None):
            raise ValueError(
                f"alarm {props.name!r}: give a threshold, except for an anomaly band (which has none), "
                f"got threshold {props.threshold!r}"
            )
        comparison = props.comparison or ("GreaterThanUpperThreshold" if band else "GreaterThanOrEqualToThreshold")
        ctx = props.context
        actions = list(props.actions)
        super().__init__(
            scope,
            id,
            alarm_name=ctx.name(Kind.ALARM, props.name, regional=props.regional_name),
            alarm_description=props.description,
            comparison_operator=comparison,
            threshold=props.threshold,
            evaluation_periods=props.evaluation_periods,
            datapoints_to_alarm=props.datapoints_to_alarm,
            treat_missing_data=props.treat_missing_data,
            alarm_actions=actions or None,
            ok_actions=actions if actions and props.notify_ok else None,
            depends_on=list(props.depends_on) or None,
            provider=ctx.provider,
            **_watched(props.watch),
        )
