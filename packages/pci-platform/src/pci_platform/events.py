"""Queues and events: the payment queue, the CMK-encrypted payment bus and its routing.

- Payment queue (+ dead-letter queue): accepted payments waiting for batch settlement.
- Payment bus, encrypted with the cardholder key. Rules: ``payment.succeeded`` to the analytics
  queue; ``payment.failed`` to the ops topic. RDS failover events arrive on the default bus and go
  to the ops topic too. Deliveries that fail after retries land in the events dead-letter queue.
- Ops topic (logs key) with the configured e-mail subscriptions; CloudWatch alarms publish to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from shared_constructs.cdk import Construct
from shared_constructs.iam import LeastPrivilegeRole, Statement
from shared_constructs.kms import account_id
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps, TopicProps
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import BaseSettings

from pci_platform.security import PlatformKeys

EVENT_SOURCE = "pci-platform.payments"
SUCCEEDED, FAILED = "payment.succeeded", "payment.failed"
RDS_FAILOVER_PATTERN: dict[str, Any] = {
    "source": ["aws.rds"],
    "detail-type": ["RDS DB Cluster Event"],
    "detail": {"EventCategories": ["failover"]},
}


class PaymentEvents(Construct):
    """Queues, the payment bus, its rules and targets, and the ops topic."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: BaseSettings,
        namer: Namer,
        region: str,
        keys: PlatformKeys,
        emails: Sequence[str],
        cluster_identifier: str,
    ) -> None:
        super().__init__(scope, id)
        self._namer = namer
        self._region = region
        self.payment_queue = EncryptedQueue(
            self,
            "payment_queue",
            QueueProps(
                settings=settings,
                namer=namer,
                name="payments",
                region=region,
                key=keys.cardholder,
                visibility_timeout_s=120,
            ),
        )
        self.analytics_queue = EncryptedQueue(
            self,
            "analytics_queue",
            QueueProps(settings=settings, namer=namer, name="payment-analytics", region=region, key=keys.cardholder),
        )
        self.events_dlq = EncryptedQueue(
            self,
            "events_dlq",
            QueueProps(
                settings=settings,
                namer=namer,
                name="payment-events-dlq",
                region=region,
                key=keys.logs,
                dead_letter=False,
                retention_s=1209600,
            ),
        )
        self.ops_topic = EncryptedTopic(
            self,
            "ops_topic",
            TopicProps(
                settings=settings,
                namer=namer,
                name="ops-alerts",
                region=region,
                key=keys.logs,
                publishing_services=("cloudwatch.amazonaws.com", "events.amazonaws.com"),
                emails=tuple(emails),
            ),
        )
        self.bus_name = namer.name(Kind.EVENT_BUS, "payments", region=region)
        bus_arn = f"arn:aws:events:{region}:{account_id(self)}:event-bus/{self.bus_name}"
        keys.cardholder.policy.allow_service(
            "EventBusUse",
            "events.amazonaws.com",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            conditions={"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": bus_arn}},
        )
        self.bus = CloudwatchEventBus(
            self,
            "bus",
            name=self.bus_name,
            kms_key_identifier=keys.cardholder.key_arn,
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
                "resources": [f"arn:aws:rds:{region}:{account_id(self)}:cluster:{cluster_identifier}"],
            },
            None,
        )
        self._target(failover, "ops", self.ops_topic.topic_arn)
        self.events_dlq.allow_send_from_service("events.amazonaws.com", [r.arn for r in self.rules.values()])

    def _rule(self, name: str, pattern: dict[str, Any], bus: str | None) -> CloudwatchEventRule:
        rule = CloudwatchEventRule(
            self,
            f"{name}_rule",
            name=self._namer.name(Kind.EVENT_RULE, name, region=self._region),
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
        keys.allow_role(keys.cardholder, role, ("kms:GenerateDataKey",), label="payment-bus")
