"""The names payments' stacks know of each other's resources, derived in one place.

Stacks refer to each other's resources through these (never through cross-stack references), so
no stack depends on another's outputs and there is no cycle: a region's bus, topic, inbox, bucket,
key alias or state machine is computable from configuration alone. Each constant is the resource
part the constructs that create the resource are given, and each method derives the full name the
way those constructs do (``context.name`` / ``Namer.name`` with the resource's kind); a unit test
checks every one against the synthesized stacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.context import AppContext
from shared_constructs.naming import Kind

from payments_multiregion.settings import Settings

SERVICE = "payments"
PACKAGE = "payments-multiregion"
EVENT_SOURCE = "payments.transactions"
DETAIL_TYPES = ("PaymentAccepted", "PaymentRecorded")
HEALTH_NAMESPACE = "Payments/Health"
TABLE_HASH_KEY = "idempotency_key"

TABLE = "transactions"
TABLE_KEY = "table"
DATA_KEY = "data"
BUS = "events"
ALERTS = "alerts"
ALERT_INBOX = "alert-inbox"
RECEIPTS = "receipts"
API = "api"
WORKFLOW = "workflow"
TRANSACTION = "transaction"
INTAKE = "intake"


@dataclass(frozen=True)
class Names:
    """The cross-stack names of one environment, in the account of ``context``."""

    context: AppContext[Settings]

    def _name(self, kind: Kind, resource: str, region: str | None) -> str:
        return self.context.namer.name(kind, resource, region=region)

    def _arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{self.context.account}:{resource}"

    @property
    def table(self) -> str:
        """The global table (one name in every region)."""
        return self._name(Kind.DYNAMODB, TABLE, None)

    def table_arn(self, region: str) -> str:
        return self._arn("dynamodb", region, f"table/{self.table}")

    def table_key_alias(self, region: str) -> str:
        return self._name(Kind.KMS_ALIAS, TABLE_KEY, region)

    def data_key_alias(self, region: str) -> str:
        return self._name(Kind.KMS_ALIAS, DATA_KEY, region)

    def any_key_arn(self, region: str) -> str:
        """Keys of ``region`` in this account; narrowed by an alias condition where used."""
        return self._arn("kms", region, "key/*")

    def bus(self, region: str) -> str:
        return self._name(Kind.EVENT_BUS, BUS, region)

    def bus_arn(self, region: str) -> str:
        return self._arn("events", region, f"event-bus/{self.bus(region)}")

    def topic_arn(self, region: str) -> str:
        return self._arn("sns", region, self._name(Kind.SNS, ALERTS, region))

    def inbox_arn(self, region: str) -> str:
        return self._arn("sqs", region, self._name(Kind.SQS, ALERT_INBOX, region))

    def receipts_bucket(self, region: str) -> str:
        return self._name(Kind.S3_BUCKET, RECEIPTS, region)

    def function(self, name: str, region: str) -> str:
        return self._name(Kind.LAMBDA, name, region)

    def api(self, region: str) -> str:
        return self._name(Kind.API, API, region)

    def state_machine(self, region: str) -> str:
        return self._name(Kind.STATE_MACHINE, WORKFLOW, region)

    def state_machine_arn(self, region: str) -> str:
        return self._arn("states", region, f"stateMachine:{self.state_machine(region)}")
