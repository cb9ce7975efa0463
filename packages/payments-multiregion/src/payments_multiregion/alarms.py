"""The alarms of one region, each to the region's alert topic (which pages on-call directly, so
losing another region silences nothing). The README's alarm table lists them with their formulas.

- ``payment-failure-rate``: failed payments over payments, in percent, above
  ``alarms.failure_rate_percent``. Failed = workflow executions failed, timed out or aborted, plus
  starts Step Functions throttled, plus requests the API throttled (429, counted from the access
  log); payments = ``POST /payments`` requests (access log). A decline is an outcome of a
  successful execution and a 4xx other than 429, so declines never count and never page.
- ``workflow-failure-rate``: failed, timed-out and aborted executions over started ones.
- ``api-5xx-rate`` and ``api-throttle-rate``: the API's 5XX answers and 429 answers over requests.
- ``replication-latency-<replica>``: the table's replication latency to each other region above
  the 1-minute RPO.
- ``cdc-failures``, ``events-dlq``: any message in a dead-letter queue.
- ``cdc-iterator-age``: the stream consumer lagging more than ``alarms.iterator_age_s``.
- ``region-unhealthy`` (:func:`canary_alarm`): the canary failing; the Route 53 health check
  watches this alarm.
- ``route53-health-<region>``: the region's Route 53 health check unhealthy, in us-east-1 (where
  Route 53 publishes its metrics) to us-east-1's topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import PythonFunction
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.messaging import EncryptedQueue
from shared_constructs.monitoring import Alarm, AlarmProps, MathExpression, Metric, MetricFilter, MetricFilterProps
from shared_constructs.regions import short_region

from payments_multiregion.failover import ALARM_PERIOD_S, RPO_S
from payments_multiregion.names import HEALTH_NAMESPACE, Names
from payments_multiregion.settings import Settings

API_NAMESPACE = "Payments/Api"
ROUTE53_METRICS_REGION = "us-east-1"
"""Route 53 publishes health-check metrics in us-east-1 only."""
FAILED_EXECUTIONS = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
PAYMENT_FAILURE_RATE = (
    "IF(payments > 0, 100 * (failed + timedout + aborted + sfnthrottled + apithrottled) / payments, 0)"
)


def canary_alarm(scope: Construct, id: str, context: AppContext[Settings], topic_arn: str) -> Alarm:
    """``region-unhealthy``: the canary found a step failing, or published nothing, for
    ``dns.health_check_failure_threshold`` consecutive minutes (see :mod:`payments_multiregion.failover`)."""
    threshold = context.settings.dns.health_check_failure_threshold
    return Alarm(
        scope,
        id,
        AlarmProps(
            context=context,
            name="region-unhealthy",
            description=f"The canary cannot write, read or publish in {context.region} (Route 53 follows this alarm)",
            watch=Metric(
                namespace=HEALTH_NAMESPACE,
                name="RegionHealthy",
                dimensions={"Region": context.region},
                statistic="Minimum",
                period_s=ALARM_PERIOD_S,
            ),
            threshold=1,
            comparison="LessThanThreshold",
            evaluation_periods=threshold,
            datapoints_to_alarm=threshold,
            # A silent canary is as bad as a failing one.
            treat_missing_data="breaching",
            actions=[topic_arn],
        ),
    )


@dataclass(frozen=True, kw_only=True)
class AlarmsProps:
    """Props of :class:`RegionalAlarms`: what is watched in the region of ``context``.

    ``access_logs``: the API's access log (the throttled and payment request counts come from it).
    ``api_name`` / ``stage_name``: the API's metric dimensions. ``dead_letter_queues``: every
    dead-letter queue of the region by alarm name. ``health_check_id``: the region's Route 53
    health check. ``us_east_1``: the context whose provider reaches us-east-1, and
    ``us_east_1_topic_arn`` the alert topic there.
    """

    context: AppContext[Settings]
    topic_arn: str
    state_machine_arn: str
    cdc: PythonFunction
    access_logs: EncryptedLogGroup
    api_name: str
    stage_name: str
    dead_letter_queues: Mapping[str, EncryptedQueue]
    health_check_id: str
    us_east_1: AppContext[Settings]
    us_east_1_topic_arn: str


class RegionalAlarms(Construct):
    """The alarms of one region (module docstring)."""

    def __init__(self, scope: Construct, id: str, props: AlarmsProps) -> None:
        super().__init__(scope, id)
        self._props = props
        ctx = props.context
        self._limits = ctx.settings.alarms
        period = self._limits.period_s
        requests, throttled, payments = self._api_counts(props)
        workflow = {"StateMachineArn": props.state_machine_arn}

        def states(name: str) -> Metric:
            return Metric(namespace="AWS/States", name=name, dimensions=workflow, period_s=period)

        failed = dict(zip(("failed", "timedout", "aborted"), map(states, FAILED_EXECUTIONS), strict=True))
        self.payment_failure_rate = self._rate(
            "payment_failure_rate",
            "payment-failure-rate",
            f"Failed payments (declines excluded, throttles included) above the threshold in {ctx.region}",
            PAYMENT_FAILURE_RATE,
            {**failed, "sfnthrottled": states("ExecutionThrottled"), "apithrottled": throttled, "payments": payments},
        )
        self._rate(
            "workflow_failure_rate",
            "workflow-failure-rate",
            f"Payment workflows failing, timing out or aborted above the threshold in {ctx.region}",
            "IF(started > 0, 100 * (failed + timedout + aborted) / started, 0)",
            {**failed, "started": states("ExecutionsStarted")},
        )
        api = {"ApiName": props.api_name, "Stage": props.stage_name}
        self._rate(
            "api_5xx_rate",
            "api-5xx-rate",
            f"The payments API answering 5XX above the threshold in {ctx.region}",
            "IF(requests > 0, 100 * errors / requests, 0)",
            {
                "errors": Metric(namespace="AWS/ApiGateway", name="5XXError", dimensions=api, period_s=period),
                "requests": Metric(namespace="AWS/ApiGateway", name="Count", dimensions=api, period_s=period),
            },
        )
        self._rate(
            "api_throttle_rate",
            "api-throttle-rate",
            f"The payments API throttling (429) above the threshold in {ctx.region}",
            "IF(requests > 0, 100 * throttled / requests, 0)",
            {"throttled": throttled, "requests": requests},
        )
        self._queues_and_streams(props)
        self._replication(props)
        self._route53(props)

    def _alarm(self, id: str, name: str, description: str, watch: Metric | MathExpression, threshold: float) -> Alarm:
        """An alarm over ``alarms.evaluation_periods`` with ``datapoints_to_alarm`` breaching."""
        limits = self._limits
        return Alarm(
            self,
            id,
            AlarmProps(
                context=self._props.context,
                name=name,
                description=description,
                watch=watch,
                threshold=threshold,
                comparison="GreaterThanThreshold",
                evaluation_periods=limits.evaluation_periods,
                datapoints_to_alarm=limits.datapoints_to_alarm,
                actions=[self._props.topic_arn],
            ),
        )

    def _rate(self, id: str, name: str, description: str, expression: str, using: Mapping[str, Metric]) -> Alarm:
        """A percentage alarm above ``alarms.failure_rate_percent``."""
        watch = MathExpression(id="rate", expression=expression, using=using, label=f"{name} (%)")
        return self._alarm(id, name, description, watch, self._limits.failure_rate_percent)

    def _api_counts(self, props: AlarmsProps) -> tuple[Metric, Metric, Metric]:
        """(all requests, throttled requests, payment requests) counted from the API's access log:
        API Gateway publishes no metric of 429 answers."""
        ctx, period = props.context, self._limits.period_s
        found: list[Metric] = []
        for id, metric, pattern in (
            ("requests", "Requests", '{ $.requestId = "*" }'),
            ("throttled", "ThrottledRequests", '{ $.status = "429" }'),
            ("payments", "PaymentRequests", '{ $.httpMethod = "POST" && $.resourcePath = "/payments" }'),
        ):
            metric_filter = MetricFilter(
                self,
                f"{id}_filter",
                MetricFilterProps(
                    context=ctx,
                    name=f"api-{id}",
                    log_group=props.access_logs,
                    pattern=pattern,
                    metric_name=metric,
                    namespace=API_NAMESPACE,
                    default_value="0",
                ),
            )
            found.append(metric_filter.metric(period_s=period))
        return found[0], found[1], found[2]

    def _queues_and_streams(self, props: AlarmsProps) -> None:
        """Any message in a dead-letter queue; the stream consumer lagging."""
        region = props.context.region
        for name, queue in sorted(props.dead_letter_queues.items()):
            Alarm(
                self,
                name.replace("-", "_"),
                AlarmProps(
                    context=props.context,
                    name=name,
                    description=f"Messages that could not be delivered or processed in {region} ({queue.queue_name})",
                    watch=queue.metric_visible_messages(period_s=ALARM_PERIOD_S),
                    threshold=0,
                    comparison="GreaterThanThreshold",
                    actions=[props.topic_arn],
                ),
            )
        age = props.cdc.metric("IteratorAge", statistic="Maximum", period_s=self._limits.period_s)
        self._alarm(
            "cdc_iterator_age",
            "cdc-iterator-age",
            f"The stream consumer is more than {self._limits.iterator_age_s} s behind in {region}",
            age,
            self._limits.iterator_age_s * 1000,
        )

    def _replication(self, props: AlarmsProps) -> None:
        """Replication latency from this region to every other replica, against the 1-minute RPO."""
        ctx = props.context
        for other in (r for r in ctx.settings.regions if r != ctx.region):
            latency = Metric(
                namespace="AWS/DynamoDB",
                name="ReplicationLatency",
                dimensions={"TableName": Names(ctx).table, "ReceivingRegion": other},
                statistic="Maximum",
                period_s=self._limits.period_s,
            )
            self._alarm(
                f"replication_latency_{short_region(other)}",
                f"replication-latency-{short_region(other)}",
                f"Writes in {ctx.region} take more than the {RPO_S} s RPO to reach {other}",
                latency,
                RPO_S * 1000,
            )

    def _route53(self, props: AlarmsProps) -> None:
        """The region's Route 53 health check unhealthy: its metric lives in us-east-1, so the
        alarm does, and notifies us-east-1's topic."""
        ctx = props.context
        Alarm(
            self,
            "route53_health",
            AlarmProps(
                context=props.us_east_1,
                name=f"route53-health-{short_region(ctx.region)}",
                description=f"Route 53 considers {ctx.region} unhealthy: DNS no longer answers with it",
                watch=Metric(
                    namespace="AWS/Route53",
                    name="HealthCheckStatus",
                    dimensions={"HealthCheckId": props.health_check_id},
                    statistic="Minimum",
                    period_s=ALARM_PERIOD_S,
                ),
                threshold=1,
                comparison="LessThanThreshold",
                actions=[props.us_east_1_topic_arn],
                regional_name=False,
            ),
        )
