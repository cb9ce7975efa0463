"""Regional alarms to the alert topic: transaction failure rate above 0.1% (metric math on errors over
invocations), workflow failure rate, receipts stuck in the CDC failure queue, region unhealthy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from shared_constructs.cdk import Construct
from shared_constructs.naming import Kind

from payments_multiregion.names import HEALTH_NAMESPACE, Names
from payments_multiregion.settings import Settings

RATE_EXPRESSION = "IF({total} > 0, 100 * {failed} / {total}, 0)"


def rate_queries(
    namespace: str, failed: str, total: str, dimensions: dict[str, str], period: int
) -> list[CloudwatchMetricAlarmMetricQuery]:
    """``failed`` over ``total`` in percent; the two raw metrics are inputs only."""

    def metric(id_: str, name: str) -> CloudwatchMetricAlarmMetricQuery:
        return CloudwatchMetricAlarmMetricQuery(
            id=id_,
            return_data=False,
            metric=CloudwatchMetricAlarmMetricQueryMetric(
                namespace=namespace, metric_name=name, dimensions=dimensions, period=period, stat="Sum"
            ),
        )

    return [
        CloudwatchMetricAlarmMetricQuery(
            id="rate",
            label="failure rate (%)",
            return_data=True,
            expression=RATE_EXPRESSION.format(failed="failed", total="total"),
        ),
        metric("failed", failed),
        metric("total", total),
    ]


@dataclass(frozen=True, kw_only=True)
class AlarmProps:
    settings: Settings
    names: Names
    region: str
    topic_arn: str
    function_name: str
    state_machine_arn: str
    cdc_failure_queue_name: str


class RegionalAlarms(Construct):
    """The alarms of one region; every state change goes to the region's alert topic."""

    def __init__(self, scope: Construct, id: str, props: AlarmProps) -> None:
        super().__init__(scope, id)
        alarms, names, region = props.settings.alarms, props.names, props.region
        actions: dict[str, Any] = {"alarm_actions": [props.topic_arn], "ok_actions": [props.topic_arn]}
        threshold = {
            "comparison_operator": "GreaterThanThreshold",
            "threshold": alarms.failure_rate_percent,
            "evaluation_periods": alarms.evaluation_periods,
            "datapoints_to_alarm": alarms.datapoints_to_alarm,
            "treat_missing_data": "notBreaching",
        }
        self.failure_rate = CloudwatchMetricAlarm(
            self,
            "transaction_failure_rate",
            alarm_name=names.failure_alarm(region),
            alarm_description=f"Transaction failures above {alarms.failure_rate_percent}% of invocations in {region}",
            metric_query=rate_queries(
                "AWS/Lambda", "Errors", "Invocations", {"FunctionName": props.function_name}, alarms.period_s
            ),
            **threshold,
            **actions,
        )
        self.workflow_failure_rate = CloudwatchMetricAlarm(
            self,
            "workflow_failure_rate",
            alarm_name=names.namer.name(Kind.ALARM, "workflow-failure-rate", region=region),
            alarm_description=f"Payment workflows failing above {alarms.failure_rate_percent}% in {region}",
            metric_query=rate_queries(
                "AWS/States",
                "ExecutionsFailed",
                "ExecutionsStarted",
                {"StateMachineArn": props.state_machine_arn},
                alarms.period_s,
            ),
            **threshold,
            **actions,
        )
        CloudwatchMetricAlarm(
            self,
            "cdc_failures",
            alarm_name=names.namer.name(Kind.ALARM, "cdc-failures", region=region),
            alarm_description=f"Stream records that could not become receipts in {region}",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": props.cdc_failure_queue_name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            **actions,
        )
        CloudwatchMetricAlarm(
            self,
            "region_unhealthy",
            alarm_name=names.namer.name(Kind.ALARM, "region-unhealthy", region=region),
            alarm_description=f"The health check finds the table or bus unusable in {region}",
            namespace=HEALTH_NAMESPACE,
            metric_name="RegionHealthy",
            dimensions={"Region": region},
            statistic="Minimum",
            period=120,
            evaluation_periods=2,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            **actions,
        )
