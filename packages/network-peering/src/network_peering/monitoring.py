"""Alarms on unusual traffic, read from one side's flow-log group, and a network dashboard.

Metric filters (flow-log default format, one metric namespace per side):
- ``RejectedFlows``: flows the security groups or NACLs rejected.
- ``UnexpectedPortFlows``: flows to or from the peer VPC on any port other than 443/5432 (at
  either end, so that the return half of an allowed connection does not count).
- ``PeerBytesIn``: bytes arriving from the peer VPC; its alarm uses an anomaly-detection band,
  so a sudden rise fires it without a fixed threshold to tune.
Alarms notify this side's KMS-encrypted alarm topic, and on the trading side also the security
topic that security-baseline publishes (``shared_constructs.contracts.security_baseline``: its
policy lets CloudWatch alarms of the account publish).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.messaging import EncryptedTopic, TopicProps
from shared_constructs.monitoring import Alarm, AlarmProps, AnomalyBand, MetricFilter, MetricFilterProps
from shared_constructs.moves import moved_from, path_in_stack
from shared_constructs.naming import Kind

from network_peering.settings import PEERING_PORTS, Settings, SideName, octet_prefix
from network_peering.sides import peer_of, side_name

FIELDS = (
    "version",
    "account_id",
    "interface_id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log_status",
)
"""Fields of the default flow-log record format (version 2), in order."""


def flow_pattern(**conditions: str) -> str:
    """A space-delimited filter pattern over the flow-log fields, with ``field=condition`` terms."""
    return "[" + ", ".join(f"{f}{conditions[f]}" if f in conditions else f for f in FIELDS) + "]"


def not_ports(field: str, ports: Sequence[int] = PEERING_PORTS) -> str:
    """``field`` condition: none of ``ports`` (``!=443 && dstport!=5432``)."""
    return "!=" + f" && {field}!=".join(str(p) for p in ports)


def metric_namespace(context: AppContext[Settings], side: SideName) -> str:
    """The custom metric namespace of one side (both sides may share an account in a sandbox)."""
    return f"NetworkPeering/{context.namer.suffix}/{side}"


def dashboard_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    """Props of :class:`PeeringMonitoring`.

    ``context``/``side``: the side watched, built in its account. ``key``: encrypts the alarm topic.
    ``log_group``: the side's flow-log group. ``extra_alarm_actions``: topics every alarm notifies
    besides the side's own. Default: none.
    """

    context: AppContext[Settings]
    side: SideName
    key: Key
    log_group: EncryptedLogGroup
    extra_alarm_actions: Sequence[str] = ()


class PeeringMonitoring(Construct):
    """Alarm topic, metric filters, alarms and dashboard of one side (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: MonitoringProps) -> None:
        super().__init__(scope, id)
        ctx, side = props.context, props.side
        self._context, self._side, self._peer = ctx, side, peer_of(side)
        monitoring = ctx.settings.monitoring
        self.namespace = metric_namespace(ctx, side)
        self.topic = self._alarm_topic(props)
        actions = [self.topic.topic_arn, *props.extra_alarm_actions]
        peer_net = octet_prefix(ctx.settings.side(self._peer).vpc_cidr)
        group = props.log_group
        rejected = self._filter("rejected", group, "RejectedFlows", "1", flow_pattern(action='="REJECT"'))
        unexpected = [
            self._filter(
                f"unexpected_{direction}",
                group,
                "UnexpectedPortFlows",
                "1",
                flow_pattern(
                    **{field: f'="{peer_net}"', "srcport": not_ports("srcport"), "dstport": not_ports("dstport")}
                ),
            )
            for direction, field in (("in", "srcaddr"), ("out", "dstaddr"))
        ]
        peer_bytes = self._filter("peer_bytes", group, "PeerBytesIn", "$bytes", flow_pattern(srcaddr=f'="{peer_net}"'))
        period = monitoring.period_s
        ports = "/".join(map(str, PEERING_PORTS))
        self.alarms = {
            "rejected": Alarm(
                self,
                "rejected",
                AlarmProps(
                    context=ctx,
                    name=f"{side}-rejected-flows",
                    description=f"More than {monitoring.rejected_flows_threshold} rejected flows in {period} s",
                    watch=rejected.metric(period_s=period),
                    threshold=monitoring.rejected_flows_threshold,
                    comparison="GreaterThanThreshold",
                    actions=actions,
                ),
            ),
            "unexpected_port": Alarm(
                self,
                "unexpected_port",
                AlarmProps(
                    context=ctx,
                    name=f"{side}-unexpected-port",
                    description=f"Traffic across the peering on ports other than {ports}",
                    watch=unexpected[0].metric(period_s=period),
                    threshold=monitoring.unexpected_port_threshold,
                    actions=actions,
                ),
            ),
            "volume_spike": Alarm(
                self,
                "volume_spike",
                AlarmProps(
                    context=ctx,
                    name=f"{side}-peer-volume-spike",
                    description=f"Bytes from the {self._peer} VPC rose above the expected band",
                    watch=AnomalyBand(
                        metric=peer_bytes.metric(period_s=period),
                        width=monitoring.volume_band_width,
                        metric_id="bytes",
                        label="Expected bytes from the peer",
                    ),
                    evaluation_periods=2,
                    actions=actions,
                ),
            ),
        }
        self.dashboard_name = side_name(ctx, side, Kind.DASHBOARD, "network")
        CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self.dashboard_name,
            dashboard_body=self._dashboard_body(),
            provider=ctx.provider,
        )
        self.dashboard_url = dashboard_url(ctx.region, self.dashboard_name)

    def _alarm_topic(self, props: MonitoringProps) -> EncryptedTopic:
        topic = EncryptedTopic(
            self,
            "topic",
            TopicProps(
                context=props.context,
                name=f"{props.side}-alarms",
                key=props.key,
                publishing_services=("cloudwatch.amazonaws.com",),
                emails=props.context.settings.monitoring.alarm_emails,
            ),
        )
        # The topic, its policy and its subscriptions were built here by hand before EncryptedTopic
        # took them over: keep their state (subscriptions hold the owners' confirmations).
        here = path_in_stack(self)
        moved_from(topic.topic, f"{here}/topic")
        moved_from(topic.policy, f"{here}/topic_policy")
        for index, subscription in enumerate(topic.subscriptions):
            moved_from(subscription, f"{here}/email_{index}")
        return topic

    def _filter(self, id: str, group: EncryptedLogGroup, metric: str, value: str, pattern: str) -> MetricFilter:
        return MetricFilter(
            self,
            f"filter_{id}",
            MetricFilterProps(
                context=self._context,
                name=f"{self._side}-{id.replace('_', '-')}",
                log_group=group,
                pattern=pattern,
                metric_name=metric,
                namespace=self.namespace,
                value=value,
            ),
        )

    def _dashboard_body(self) -> str:
        region, ns, peer = self._context.region, self.namespace, self._peer
        period = self._context.settings.monitoring.period_s

        def widget(x: int, title: str, metric: str) -> dict[str, object]:
            return {
                "type": "metric",
                "x": x,
                "y": 0,
                "width": 8,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "stat": "Sum",
                    "period": period,
                    "metrics": [[ns, metric]],
                },
            }

        return json.dumps(
            {
                "widgets": [
                    widget(0, "Rejected flows", "RejectedFlows"),
                    widget(8, f"Flows to/from {peer} on unexpected ports", "UnexpectedPortFlows"),
                    widget(16, f"Bytes from {peer}", "PeerBytesIn"),
                ]
            },
            sort_keys=True,
        )
