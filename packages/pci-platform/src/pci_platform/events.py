"""Queues and events: the payment queue, the CMK-encrypted payment bus and its routing.

- Payment queue (+ dead-letter queue): accepted payments waiting for batch settlement.
- Payment bus, encrypted with the events key (its queues too; no other store uses it). Rules: ``payment.succeeded`` to the analytics
  queue; ``payment.failed`` to the ops topic. RDS failover events arrive on the default bus and go
  to the ops topic too. Deliveries that fail after retries land in the events dead-letter queue.
- Ops topic (events key: it carries ``payment.failed`` events) with the configured e-mail subscriptions; CloudWatch alarms publish to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, Statement
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps, TopicProps
from shared_constructs.naming import Kind

from pci_platform.config import Settings
from pci_platform.security import PlatformKeys

EVENT_SOURCE = "pci-platform.payments"
SUCCEEDED, FAILED = "payment.succeeded", "payment.failed"
RDS_FAILOVER_PATTERN: dict[str, Any] = {
    "source": ["aws.rds"],
    "detail-type": ["RDS DB Cluster Event"],
    "detail": {"EventCategories": ["failover"]},
}


@dataclass(frozen=True, kw_only=True)
class EventsProps:
    """Props of :class:`PaymentEvents`: the ``keys`` and the database whose failovers are routed
    (``cluster_identifier``); the ops topic's subscribers are ``settings.alerts.emails``."""

    context: AppContext[Settings]
    keys: PlatformKeys
    cluster_identifier: str


class PaymentEvents(Construct):
    """Queues, the payment bus, its rules and targets, and the ops topic."""

    def __init__(self, scope: Construct, id: str, props: EventsProps) -> None:
        super().__init__(scope, id)
        ctx = self._context = props.context
        keys = props.keys
        self.payment_queue = EncryptedQueue(
            self,
            "payment_queue",
            QueueProps(context=ctx, name="payments", key=keys.events, visibility_timeout_s=120),
        )
        self.analytics_queue = EncryptedQueue(
            self,
            "analytics_queue",
            QueueProps(context=ctx, name="payment-analytics", key=keys.events),
        )
        self.events_dlq = EncryptedQueue(
            self,
            "events_dlq",
            QueueProps(context=ctx, name="payment-events-dlq", key=keys.events, dead_letter=False, retention_s=1209600),
        )
        self.ops_topic = EncryptedTopic(
            self,
            "ops_topic",
            TopicProps(
                context=ctx,
                name="ops-alerts",
                key=keys.events,
                publishing_services=("cloudwatch.amazonaws.com", "events.amazonaws.com"),
                emails=tuple(ctx.settings.alerts.emails),
            ),
        )
        self.bus_name = ctx.name(Kind.EVENT_BUS, "payments")
        bus_arn = ctx.arn("events", f"event-bus/{self.bus_name}")
        keys.events.grant_service(
            "EventBusUse",
            "events.amazonaws.com",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            conditions={"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": bus_arn}},
        )
        self.bus = CloudwatchEventBus(
            self,
            "bus",
            name=self.bus_name,
            kms_key_identifier=keys.events.key_arn,
            description="Payment lifecycle events",
        )
        self.bus_arn = self.bus.arn
        self.rules: dict[str, CloudwatchEventRule] = {}
        succeeded = self._rule(
            "payment-succeeded", {"source": [EVENT_SOURCE], "detail-type": [SUCCEEDED]}, self.bus.name
        )
        self._target(succeeded, "analytics", self.analytics_queue.queue_arn)
        self.analytics_queue.allow_send_from_service("events.amazonaws.com", [succeeded.arn])
        failed = self._rule("payment-failed", {"source": [EVENT_SOURCE], "detail-type": [FAILED]}, self.bus.name)
        self._target(failed, "ops", self.ops_topic.topic_arn)
        failover = self._rule(
            "rds-failover",
            {
                **RDS_FAILOVER_PATTERN,
                "resources": [ctx.arn("rds", f"cluster:{props.cluster_identifier}")],
            },
            None,
        )
        self._target(failover, "ops", self.ops_topic.topic_arn)
        self.events_dlq.allow_send_from_service("events.amazonaws.com", [r.arn for r in self.rules.values()])

    def _rule(self, name: str, pattern: dict[str, Any], bus: str | None) -> CloudwatchEventRule:
        rule = CloudwatchEventRule(
            self,
            f"{name}_rule",
            name=self._context.name(Kind.EVENT_RULE, name),
            description=f"Route {name.replace('-', ' ')} events",
            event_bus_name=bus,
            event_pattern=json.dumps(pattern),
        )
        self.rules[name] = rule
        return rule

    def _target(self, rule: CloudwatchEventRule, id: str, arn: str) -> None:
        CloudwatchEventTarget(
            self,
            f"{rule.node.id.removesuffix('_rule')}_{id}",
            rule=rule.name,
            event_bus_name=rule.event_bus_name,
            arn=arn,
            target_id=id,
            retry_policy=CloudwatchEventTargetRetryPolicy(maximum_event_age_in_seconds=3600, maximum_retry_attempts=8),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.events_dlq.queue_arn),
        )

    def grant_put_events(self, role: LeastPrivilegeRole, keys: PlatformKeys) -> None:
        """Let ``role`` publish on the payment bus (and encrypt with its key)."""
        role.add_statements(
            Statement(sid="PublishPaymentEvents", actions=["events:PutEvents"], resources=[self.bus.arn])
        )
        keys.events.grant(role, ("kms:GenerateDataKey",), label="payment-bus")
