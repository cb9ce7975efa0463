"""Regional alarms to the alert topic: transaction failure rate above 0.1% (metric math on errors over
invocations), workflow failure rate, receipts stuck in the CDC failure queue, region unhealthy."""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import PythonFunction
from shared_constructs.messaging import EncryptedQueue
from shared_constructs.monitoring import Alarm, AlarmProps, Metric, rate_percent

from payments_multiregion.names import HEALTH_NAMESPACE
from payments_multiregion.settings import Settings


@dataclass(frozen=True, kw_only=True)
class AlarmsProps:
    """Props of :class:`RegionalAlarms`: what is watched in the region of ``context``."""

    context: AppContext[Settings]
    topic_arn: str
    transaction: PythonFunction
    state_machine_arn: str
    cdc_failures: EncryptedQueue


class RegionalAlarms(Construct):
    """The alarms of one region; every state change goes to the region's alert topic."""

    def __init__(self, scope: Construct, id: str, props: AlarmsProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        limits, region, period = ctx.settings.alarms, ctx.region, ctx.settings.alarms.period_s
        actions = [props.topic_arn]

        def failure_rate(name: str, description: str, failed: Metric, total: Metric) -> AlarmProps:
            return AlarmProps(
                context=ctx,
                name=name,
                description=description,
                watch=rate_percent(failed, total),
                threshold=limits.failure_rate_percent,
                comparison="GreaterThanThreshold",
                evaluation_periods=limits.evaluation_periods,
                datapoints_to_alarm=limits.datapoints_to_alarm,
                actions=actions,
            )

        transaction = props.transaction
        self.failure_rate = Alarm(
            self,
            "transaction_failure_rate",
            failure_rate(
                "transaction-failure-rate",
                f"Transaction failures above {limits.failure_rate_percent}% of invocations in {region}",
                transaction.metric_errors(period_s=period),
                transaction.metric_invocations(period_s=period),
            ),
        )
        workflow = {"StateMachineArn": props.state_machine_arn}
        self.workflow_failure_rate = Alarm(
            self,
            "workflow_failure_rate",
            failure_rate(
                "workflow-failure-rate",
                f"Payment workflows failing above {limits.failure_rate_percent}% in {region}",
                Metric(namespace="AWS/States", name="ExecutionsFailed", dimensions=workflow, period_s=period),
                Metric(namespace="AWS/States", name="ExecutionsStarted", dimensions=workflow, period_s=period),
            ),
        )
        Alarm(
            self,
            "cdc_failures",
            AlarmProps(
                context=ctx,
                name="cdc-failures",
                description=f"Stream records that could not become receipts in {region}",
                watch=props.cdc_failures.metric_visible_messages(),
                threshold=0,
                comparison="GreaterThanThreshold",
                actions=actions,
            ),
        )
        Alarm(
            self,
            "region_unhealthy",
            AlarmProps(
                context=ctx,
                name="region-unhealthy",
                description=f"The health check finds the table or bus unusable in {region}",
                watch=Metric(
                    namespace=HEALTH_NAMESPACE,
                    name="RegionHealthy",
                    dimensions={"Region": region},
                    statistic="Minimum",
                    period_s=120,
                ),
                threshold=1,
                comparison="LessThanThreshold",
                evaluation_periods=2,
                treat_missing_data="breaching",
                actions=actions,
            ),
        )
