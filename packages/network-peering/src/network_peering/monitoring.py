"""Alarms on unusual traffic, read from one side's flow-log group, and a network dashboard.

Metric filters (flow-log default format, one metric namespace per side):
- ``RejectedFlows``: flows the security groups or NACLs rejected.
- ``UnexpectedPortFlows``: flows to or from the peer VPC on any port other than 443/5432 (at
  either end, so that the return half of an allowed connection does not count).
- ``PeerBytesIn``: bytes arriving from the peer VPC; its alarm uses an anomaly-detection band,
  so a sudden rise fires it without a fixed threshold to tune.
Alarms notify this side's KMS-encrypted alarm topic, and on the trading side also the security
topic that security-baseline publishes (contracts: same account, ``cloudwatch.amazonaws.com``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from shared_constructs.cdk import Construct
from shared_constructs.iam import Statement, policy_document
from shared_constructs.kms import Key
from shared_constructs.naming import Kind

from network_peering.context import PeerSide
from network_peering.flow_logs import FlowLogs
from network_peering.settings import PEERING_PORTS, octet_prefix

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


def metric_namespace(side: PeerSide) -> str:
    """The custom metric namespace of one side (both sides may share an account in a sandbox)."""
    return f"NetworkPeering/{side.namer.suffix}/{side.label}"


def dashboard_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


class PeeringMonitoring(Construct):
    """Alarm topic, metric filters, alarms and dashboard of one side (see module docstring)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        side: PeerSide,
        peer: PeerSide,
        logs: FlowLogs,
        key: Key,
        extra_alarm_actions: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self._side, self._provider = side, side.provider
        monitoring = side.settings.monitoring
        self.namespace = metric_namespace(side)
        self.topic = self._topic(side, key, monitoring.alarm_emails)
        actions = [self.topic.arn, *extra_alarm_actions]
        peer_net = octet_prefix(peer.config.vpc_cidr)
        group = logs.log_group.name
        self._filter("rejected", group, "RejectedFlows", "1", flow_pattern(action='="REJECT"'))
        for direction, field in (("in", "srcaddr"), ("out", "dstaddr")):
            self._filter(
                f"unexpected_{direction}",
                group,
                "UnexpectedPortFlows",
                "1",
                flow_pattern(
                    **{field: f'="{peer_net}"', "srcport": not_ports("srcport"), "dstport": not_ports("dstport")}
                ),
            )
        self._filter("peer_bytes", group, "PeerBytesIn", "$bytes", flow_pattern(srcaddr=f'="{peer_net}"'))
        period = monitoring.period_s
        self.alarms = {
            "rejected": self._alarm(
                "rejected",
                "rejected-flows",
                "RejectedFlows",
                monitoring.rejected_flows_threshold,
                "GreaterThanThreshold",
                actions,
                f"More than {monitoring.rejected_flows_threshold} rejected flows in {period} s",
            ),
            "unexpected_port": self._alarm(
                "unexpected_port",
                "unexpected-port",
                "UnexpectedPortFlows",
                monitoring.unexpected_port_threshold,
                "GreaterThanOrEqualToThreshold",
                actions,
                f"Traffic across the peering on ports other than {'/'.join(map(str, PEERING_PORTS))}",
            ),
        }
        self.alarms["volume_spike"] = CloudwatchMetricAlarm(
            self,
            "volume_spike",
            alarm_name=side.name(Kind.ALARM, "peer-volume-spike"),
            alarm_description=f"Bytes from the {peer.label} VPC rose above the expected band",
            comparison_operator="GreaterThanUpperThreshold",
            evaluation_periods=2,
            threshold_metric_id="band",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(
                    id="bytes",
                    return_data=True,
                    metric=CloudwatchMetricAlarmMetricQueryMetric(
                        metric_name="PeerBytesIn", namespace=self.namespace, period=period, stat="Sum"
                    ),
                ),
                CloudwatchMetricAlarmMetricQuery(
                    id="band",
                    expression=f"ANOMALY_DETECTION_BAND(bytes, {monitoring.volume_band_width:g})",
                    label="Expected bytes from the peer",
                    return_data=True,
                ),
            ],
            provider=self._provider,
        )
        self.dashboard_name = side.name(Kind.DASHBOARD, "network")
        CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self.dashboard_name,
            dashboard_body=self._dashboard_body(peer),
            provider=self._provider,
        )
        self.dashboard_url = dashboard_url(side.region, self.dashboard_name)

    def _topic(self, side: PeerSide, key: Key, emails: Sequence[str]) -> SnsTopic:
        key.policy.allow_service("CloudWatchAlarms", "cloudwatch.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey"))
        topic = SnsTopic(
            self, "topic", name=side.name(Kind.SNS, "alarms"), kms_master_key_id=key.key_arn, provider=self._provider
        )
        SnsTopicPolicy(
            self,
            "topic_policy",
            arn=topic.arn,
            provider=self._provider,
            policy=policy_document(
                [
                    Statement(
                        sid="AccountAdministers",
                        principals={"AWS": f"arn:aws:iam::{side.account}:root"},
                        actions=[
                            "sns:GetTopicAttributes",
                            "sns:ListSubscriptionsByTopic",
                            "sns:Publish",
                            "sns:SetTopicAttributes",
                            "sns:Subscribe",
                        ],
                        resources=[topic.arn],
                    ),
                    Statement(
                        sid="CloudWatchAlarmsPublish",
                        principals={"Service": "cloudwatch.amazonaws.com"},
                        actions=["sns:Publish"],
                        resources=[topic.arn],
                        conditions={"StringEquals": {"aws:SourceAccount": side.account}},
                    ),
                ]
            ),
        )
        for index, email in enumerate(emails):
            SnsTopicSubscription(
                self, f"email_{index}", topic_arn=topic.arn, protocol="email", endpoint=email, provider=self._provider
            )
        return topic

    def _filter(self, id: str, group: str, metric: str, value: str, pattern: str) -> None:
        CloudwatchLogMetricFilter(
            self,
            f"filter_{id}",
            name=self._side.name(Kind.GENERIC, id.replace("_", "-")),
            log_group_name=group,
            pattern=pattern,
            provider=self._provider,
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name=metric, namespace=self.namespace, value=value
            ),
        )

    def _alarm(
        self, id: str, name: str, metric: str, threshold: int, operator: str, actions: list[str], description: str
    ) -> CloudwatchMetricAlarm:
        return CloudwatchMetricAlarm(
            self,
            id,
            alarm_name=self._side.name(Kind.ALARM, name),
            alarm_description=description,
            namespace=self.namespace,
            metric_name=metric,
            statistic="Sum",
            period=self._side.settings.monitoring.period_s,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator=operator,
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            provider=self._provider,
        )

    def _dashboard_body(self, peer: PeerSide) -> str:
        region, ns = self._side.region, self.namespace

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
                    "period": self._side.settings.monitoring.period_s,
                    "metrics": [[ns, metric]],
                },
            }

        return json.dumps(
            {
                "widgets": [
                    widget(0, "Rejected flows", "RejectedFlows"),
                    widget(8, f"Flows to/from {peer.label} on unexpected ports", "UnexpectedPortFlows"),
                    widget(16, f"Bytes from {peer.label}", "PeerBytesIn"),
                ]
            },
            sort_keys=True,
        )
