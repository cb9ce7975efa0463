"""The regional event bus (customer-managed key), the failover rule that forwards this region's
payment events to the other regions' buses, and where forwarded events land.

Forwarded events land in the ``forwarded-events`` queue of the destination region, through a rule
on that region's bus that matches payment events of any other origin. A queue rather than an
EventBridge archive: the events carry cardholder-classified payment data, which the platform keeps
under a customer-managed key only (decision 9), and the pinned provider cannot give an archive a
key (AWS would use its own). The queue keeps 14 days of another region's work under the region's
data key; the failover runbook reads it when that region is lost (README, runbook step 4)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import Key
from shared_constructs.messaging import EncryptedQueue, QueueProps
from shared_constructs.naming import Kind
from shared_constructs.regions import short_region

from payments_multiregion.names import DETAIL_TYPES, EVENT_SOURCE, Names
from payments_multiregion.settings import Settings

BUS_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")


FORWARDED_RETENTION_S = 1209600
"""14 days, SQS's longest: the time to carry a lost region's work."""


def forwarded_pattern(region: str) -> dict[str, object]:
    """Payment events forwarded to ``region`` from any other region."""
    return {
        "source": [EVENT_SOURCE],
        "detail-type": list(DETAIL_TYPES),
        "detail": {"origin_region": [{"anything-but": region}]},
    }


def failover_pattern(region: str) -> dict[str, object]:
    """Payment events that originated in ``region`` (forwarded copies are not forwarded again)."""
    return {"source": [EVENT_SOURCE], "detail-type": list(DETAIL_TYPES), "detail": {"origin_region": [region]}}


@dataclass(frozen=True, kw_only=True)
class EventsProps:
    """Props of :class:`PaymentEvents`: the region's ``context`` and data ``key``."""

    context: AppContext[Settings]
    key: Key


class PaymentEvents(Construct):
    """Bus, failover rule with one target per other region, their role and dead-letter queue."""

    def __init__(self, scope: Construct, id: str, props: EventsProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        names, region = Names(ctx), ctx.region
        self.bus_name = names.bus(region)
        self.bus_arn = names.bus_arn(region)
        props.key.grant_service(
            "EventBusEncryption",
            "events.amazonaws.com",
            BUS_KEY_ACTIONS,
            conditions={"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": self.bus_arn}},
        )
        self.bus = CloudwatchEventBus(
            self,
            "bus",
            name=self.bus_name,
            kms_key_identifier=props.key.key_arn,
            description="Payment events of this region",
        )
        self.dead_letters = EncryptedQueue(
            self,
            "dead_letters",
            QueueProps(
                context=ctx,
                name="events-dlq",
                key=props.key,
                dead_letter=False,
                retention_s=1209600,
            ),
        )
        others = [r for r in ctx.settings.regions if r != region]
        self.failover_rule: CloudwatchEventRule | None = None
        self.forwarded: EncryptedQueue | None = None
        if others:
            failover, landing = self._failover(props, others), self._landing(props)
            # Both rules' targets give up into the same dead-letter queue.
            self.dead_letters.allow_send_from_service("events.amazonaws.com", [failover.arn, landing.arn])

    def _landing(self, props: EventsProps) -> CloudwatchEventRule:
        """The rule that lands the other regions' forwarded events in this region's queue."""
        ctx = props.context
        self.forwarded = EncryptedQueue(
            self,
            "forwarded",
            QueueProps(
                context=ctx,
                name="forwarded-events",
                key=props.key,
                dead_letter=False,
                retention_s=FORWARDED_RETENTION_S,
            ),
        )
        rule = CloudwatchEventRule(
            self,
            "landing",
            name=ctx.name(Kind.EVENT_RULE, "forwarded"),
            event_bus_name=self.bus.name,
            description="Keep the payment events other regions forward here",
            event_pattern=json.dumps(forwarded_pattern(ctx.region), sort_keys=True),
        )
        self.forwarded.allow_send_from_service("events.amazonaws.com", [rule.arn])
        CloudwatchEventTarget(
            self,
            "to_forwarded_queue",
            rule=rule.name,
            event_bus_name=self.bus.name,
            target_id="forwarded-events",
            arn=self.forwarded.queue_arn,
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letters.queue_arn),
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=86400, maximum_retry_attempts=185
            ),
        )
        return rule

    def _failover(self, props: EventsProps, others: list[str]) -> CloudwatchEventRule:
        ctx = props.context
        names, region = Names(ctx), ctx.region
        role = LeastPrivilegeRole(
            self,
            "forwarder",
            RoleProps(
                context=ctx,
                name="event-forwarder",
                description="Lets EventBridge put this region's payment events on the other regions' buses",
                trust_policy=assume_role_policy(services=["events.amazonaws.com"]),
                statements=[
                    Statement(
                        sid="PutOnOtherBuses",
                        actions=["events:PutEvents"],
                        resources=[names.bus_arn(r) for r in others],
                    )
                ],
            ),
        )
        rule = CloudwatchEventRule(
            self,
            "failover",
            name=ctx.name(Kind.EVENT_RULE, "failover"),
            event_bus_name=self.bus.name,
            description="Forward this region's payment events to the other regions",
            event_pattern=json.dumps(failover_pattern(region), sort_keys=True),
        )
        for other in others:
            CloudwatchEventTarget(
                self,
                f"to_{short_region(other)}",
                rule=rule.name,
                event_bus_name=self.bus.name,
                target_id=f"bus-{short_region(other)}",
                arn=names.bus_arn(other),
                role_arn=role.role_arn,
                dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letters.queue_arn),
                retry_policy=CloudwatchEventTargetRetryPolicy(
                    maximum_event_age_in_seconds=86400, maximum_retry_attempts=185
                ),
            )
        self.failover_rule = rule
        return rule
