"""Deterministic names and ARNs shared by the stacks.

Stacks refer to each other's resources through these (never through cross-stack references), so
no stack depends on another's outputs and there is no cycle: a region's bus ARN, topic ARN,
bucket ARN or key alias ARN is computable from configuration alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.naming import Kind, Namer

SERVICE = "payments"
PACKAGE = "payments-multiregion"
EVENT_SOURCE = "payments.transactions"
DETAIL_TYPES = ("PaymentAccepted", "PaymentRecorded")
HEALTH_NAMESPACE = "Payments/Health"
TABLE_HASH_KEY = "idempotency_key"


@dataclass(frozen=True)
class Names:
    """Every cross-stack name of one environment; ``account`` may be a Terraform token."""

    namer: Namer
    account: str

    @property
    def table(self) -> str:
        return self.namer.name(Kind.DYNAMODB, "transactions")

    def table_arn(self, region: str) -> str:
        return f"arn:aws:dynamodb:{region}:{self.account}:table/{self.table}"

    def table_key_alias(self, region: str) -> str:
        return self.namer.name(Kind.KMS_ALIAS, "table", region=region)

    def data_key_alias(self, region: str) -> str:
        return self.namer.name(Kind.KMS_ALIAS, "data", region=region)

    def alias_arn(self, region: str, alias: str) -> str:
        return f"arn:aws:kms:{region}:{self.account}:{alias}"

    def any_key_arn(self, region: str) -> str:
        """Keys of ``region`` in this account; narrowed by an alias condition where used."""
        return f"arn:aws:kms:{region}:{self.account}:key/*"

    def bus(self, region: str) -> str:
        return self.namer.name(Kind.EVENT_BUS, "events", region=region)

    def bus_arn(self, region: str) -> str:
        return f"arn:aws:events:{region}:{self.account}:event-bus/{self.bus(region)}"

    def topic(self, region: str) -> str:
        return self.namer.name(Kind.SNS, "alerts", region=region)

    def topic_arn(self, region: str) -> str:
        return f"arn:aws:sns:{region}:{self.account}:{self.topic(region)}"

    def inbox(self, region: str) -> str:
        return self.namer.name(Kind.SQS, "alert-inbox", region=region)

    def inbox_arn(self, region: str) -> str:
        return f"arn:aws:sqs:{region}:{self.account}:{self.inbox(region)}"

    def receipts_bucket(self, region: str) -> str:
        return self.namer.name(Kind.S3_BUCKET, "receipts", region=region)

    def receipts_bucket_arn(self, region: str) -> str:
        return f"arn:aws:s3:::{self.receipts_bucket(region)}"

    def function(self, name: str, region: str) -> str:
        return self.namer.name(Kind.LAMBDA, name, region=region)

    def api(self, region: str) -> str:
        return self.namer.name(Kind.API, "api", region=region)

    def state_machine(self, region: str) -> str:
        return self.namer.name(Kind.STATE_MACHINE, "workflow", region=region)

    def state_machine_arn(self, region: str) -> str:
        return f"arn:aws:states:{region}:{self.account}:stateMachine:{self.state_machine(region)}"

    def failure_alarm(self, region: str) -> str:
        return self.namer.name(Kind.ALARM, "transaction-failure-rate", region=region)
