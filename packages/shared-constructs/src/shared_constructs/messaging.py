"""KMS-encrypted SNS topics and SQS queues with policies that name who may send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import Grantee, Statement, lazy_string, policy_document
from shared_constructs.kms import Key
from shared_constructs.monitoring import Metric
from shared_constructs.naming import Kind
from shared_constructs.settings import BaseSettings

_SERVICE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def _sid(prefix: str, service: str) -> str:
    return prefix + "".join(part.title() for part in service.split(".")[0].split("-"))


@dataclass(frozen=True, kw_only=True)
class TopicProps:
    """Props of :class:`EncryptedTopic`.

    ``publishing_services``: AWS service principals of this account allowed to publish
    (``events.amazonaws.com``, ``cloudwatch.amazonaws.com``...). Default: none.
    ``emails``: e-mail subscriptions (confirmed by their owners). Default: none.
    ``regional_name``: the region's code in the name. Default True.
    """

    context: AppContext[BaseSettings]
    name: str
    key: Key
    publishing_services: Sequence[str] = ()
    emails: Sequence[str] = ()
    regional_name: bool = True


class EncryptedTopic(Construct):
    """An SNS topic encrypted with a customer-managed key; only named publishers may publish."""

    def __init__(self, scope: Construct, id: str, props: TopicProps) -> None:
        super().__init__(scope, id)
        self._key = props.key
        ctx = props.context
        self._provider = ctx.provider
        self.topic_name = ctx.name(Kind.SNS, props.name, regional=props.regional_name)
        self.topic = SnsTopic(
            self, "topic", name=self.topic_name, kms_master_key_id=props.key.key_arn, provider=ctx.provider
        )
        self.topic_arn = self.topic.arn
        self._account = ctx.account
        self._statements: list[Statement] = [
            Statement(
                sid="AccountAdministers",
                principals={"AWS": f"arn:aws:iam::{self._account}:root"},
                actions=[
                    "sns:GetTopicAttributes",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                    "sns:SetTopicAttributes",
                    "sns:Subscribe",
                ],
                resources=[self.topic.arn],
            )
        ]
        for service in props.publishing_services:
            self.allow_publish_from_service(service)
        self.policy = SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=lazy_string(lambda: policy_document(self._statements)),
            provider=ctx.provider,
        )
        self.subscriptions = [
            SnsTopicSubscription(
                self, f"email{index}", topic_arn=self.topic.arn, protocol="email", endpoint=email, provider=ctx.provider
            )
            for index, email in enumerate(props.emails)
        ]
        """The e-mail subscriptions, in the order of ``emails``."""

    def allow_publish_from_service(self, service: str, source_arns: Sequence[str] = ()) -> None:
        """Let ``service`` of this account publish (and use the topic's key)."""
        conditions: dict[str, dict[str, str | Sequence[str] | bool]] = {
            "StringEquals": {"aws:SourceAccount": self._account}
        }
        if source_arns:
            conditions["ArnLike"] = {"aws:SourceArn": list(source_arns)}
        self._statements.append(
            Statement(
                sid=_sid("Publish", service),
                principals={"Service": service},
                actions=["sns:Publish"],
                resources=[self.topic.arn],
                conditions=conditions,
            )
        )
        self._key.grant_service(_sid("Sns", service), service, _SERVICE_KEY_ACTIONS)

    def add_statements(self, *statements: Statement) -> None:
        """Add statements to the topic policy (for example another region's topic subscribing)."""
        self._statements.extend(statements)

    def grant_publish(self, grantee: Grantee) -> None:
        """Let ``grantee`` (a role) publish to the topic and use its key."""
        grantee.add_statements(Statement(actions=["sns:Publish"], resources=[self.topic.arn]))
        self._key.grant(grantee, _SERVICE_KEY_ACTIONS)

    def metric_notifications_failed(self, *, period_s: int = 300) -> Metric:
        """Deliveries to subscribers that failed (sum)."""
        return Metric(
            namespace="AWS/SNS",
            name="NumberOfNotificationsFailed",
            dimensions={"TopicName": self.topic_name},
            period_s=period_s,
        )


@dataclass(frozen=True, kw_only=True)
class QueueProps:
    """Props of :class:`EncryptedQueue`.

    ``dead_letter``: create a dead-letter queue and redrive after ``max_receive_count`` receives.
    Default True. ``retention_s``: Default 4 days (DLQ: 14 days).
    """

    context: AppContext[BaseSettings]
    name: str
    key: Key
    dead_letter: bool = True
    max_receive_count: int = 5
    visibility_timeout_s: int = 30
    retention_s: int = 345600


class EncryptedQueue(Construct):
    """An SQS queue (and dead-letter queue) encrypted with a customer-managed key."""

    def __init__(self, scope: Construct, id: str, props: QueueProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self._key = props.key
        self.dead_letter_queue: SqsQueue | None = None
        self.dead_letter_queue_name: str | None = None
        redrive = None
        if props.dead_letter:
            self.dead_letter_queue_name = ctx.name(Kind.SQS, f"{props.name}-dlq")
            self.dead_letter_queue = SqsQueue(
                self,
                "dlq",
                name=self.dead_letter_queue_name,
                kms_master_key_id=props.key.key_arn,
                message_retention_seconds=1209600,
                provider=ctx.provider,
            )
            redrive = (
                f'{{"deadLetterTargetArn":"{self.dead_letter_queue.arn}","maxReceiveCount":{props.max_receive_count}}}'
            )
        self.queue_name = ctx.name(Kind.SQS, props.name)
        self._arn = ctx.arn("sqs", self.queue_name)
        self.queue = SqsQueue(
            self,
            "queue",
            name=self.queue_name,
            kms_master_key_id=props.key.key_arn,
            visibility_timeout_seconds=props.visibility_timeout_s,
            message_retention_seconds=props.retention_s,
            redrive_policy=redrive,
            provider=ctx.provider,
        )
        if self.dead_letter_queue is not None:
            # The source queue's ARN is built from its name: referencing the queue would be a cycle
            # (the queue's redrive policy already references the dead-letter queue).
            self.dead_letter_queue.redrive_allow_policy = (
                f'{{"redrivePermission":"byQueue","sourceQueueArns":["{self._arn}"]}}'
            )
        self.queue_arn = self.queue.arn
        self.queue_url = self.queue.url
        self.max_receive_count = props.max_receive_count
        """Receives before a message moves to the dead-letter queue (consumers that count them need it)."""
        self._statements: list[Statement] = []

    def allow_send_from_service(self, service: str, source_arns: Sequence[str]) -> None:
        """Let ``service`` send messages on behalf of ``source_arns`` (and use the queue's key).

        The statements are the queue's own ``policy`` attribute, set when the queue is created
        (its ARN built from its name: a reference would be a cycle), not an ``aws_sqs_queue_policy``
        of its own: the provider waits about 25 s for each queue policy to settle, on create and on
        destroy, after the queue's own wait, and the chain dead-letter queue -> queue -> policy was
        the longest of pci-platform's apply (75 s of provider waits)."""
        self._statements.append(
            Statement(
                sid=_sid("Send", service) + str(len(self._statements)),
                principals={"Service": service},
                actions=["sqs:SendMessage"],
                resources=[self._arn],
                conditions={"ArnLike": {"aws:SourceArn": list(source_arns)}},
            )
        )
        self._key.grant_service(_sid("Sqs", service), service, _SERVICE_KEY_ACTIONS)
        if len(self._statements) == 1:
            self.queue.policy = lazy_string(lambda: policy_document(self._statements))

    def metric_visible_messages(self, *, dead_letter: bool = False, period_s: int = 300) -> Metric:
        """Messages waiting in the queue (maximum), or in its dead-letter queue with ``dead_letter``."""
        name = self.dead_letter_queue_name if dead_letter else self.queue_name
        if name is None:
            raise ValueError(f"queue {self.queue_name!r} has no dead-letter queue")
        return Metric(
            namespace="AWS/SQS",
            name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": name},
            statistic="Maximum",
            period_s=period_s,
        )

    def grant_send(self, grantee: Grantee) -> None:
        """Let ``grantee`` (a role) send messages and use the queue's key."""
        grantee.add_statements(Statement(actions=["sqs:SendMessage"], resources=[self.queue.arn]))
        self._key.grant(grantee, _SERVICE_KEY_ACTIONS)

    def grant_consume(self, grantee: Grantee) -> None:
        """Let ``grantee`` (a role) receive and delete messages and decrypt them."""
        grantee.add_statements(
            Statement(
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ],
                resources=[self.queue.arn],
            )
        )
        self._key.grant(grantee, ("kms:Decrypt",))
