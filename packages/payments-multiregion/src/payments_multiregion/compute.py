"""The regional functions (API front, transaction steps, CDC, health) with their least-privilege grants,
the stream mapping and the schedule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.data_aws_dynamodb_table import DataAwsDynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingFilterCriteria,
    LambdaEventSourceMappingFilterCriteriaFilter,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import Grantee, Statement
from shared_constructs.kms import ENCRYPT_DECRYPT, Key
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic
from shared_constructs.naming import Kind
from shared_constructs.storage import SecureBucket

from payments_multiregion.failover import CANARY_SCHEDULE, HEALTH_TIMEOUT_S, canary_key
from payments_multiregion.names import HEALTH_NAMESPACE, INTAKE, TRANSACTION, Names
from payments_multiregion.network import PaymentsNetwork
from payments_multiregion.settings import Settings
from payments_multiregion.workflow import TIMEOUT_S

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
TRANSACTION_MEMORY_MB = 3072
TRANSACTION_TIMEOUT_S = 900
CANARY_EVENT_SOURCE = "payments.health"
BUNDLE_SERVICES = ("dynamodb", "stepfunctions")
"""The transaction bundle's clients: the steps call DynamoDB, the API front in the same bundle also
Step Functions. Both functions ship the bundle, so both declare what its code can call."""
INTAKE_TIMEOUT_S = 30
"""API Gateway gives up on an integration after 29 s; the front never needs longer."""


@dataclass(frozen=True, kw_only=True)
class ComputeProps:
    """What the functions use: the region's context, key, bus, bucket, failure queue and alert topic."""

    context: AppContext[Settings]
    key: Key
    bus_name: str
    bus_arn: str
    receipts: SecureBucket
    cdc_failures: EncryptedQueue
    alerts: EncryptedTopic
    network: PaymentsNetwork
    """The region's VPC: every function runs in its function subnets."""


def grant_table_key(names: Names, region: str, grantee: Grantee) -> None:
    """Use of the table's key in ``region`` through DynamoDB only.

    The key lives in the global stack; IAM cannot name it by alias, so the statement covers this
    account's keys in the region and narrows them to the one carrying the table key's alias.
    """
    grantee.add_statements(
        Statement(
            sid="TableKeyViaDynamoDb",
            actions=ENCRYPT_DECRYPT,
            resources=[names.any_key_arn(region)],
            conditions={
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": [names.table_key_alias(region)]},
                "StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"},
            },
        )
    )


def not_canary(context: AppContext[Settings]) -> dict[str, object]:
    """Stream records whose key is no region's canary item (the stream consumer's filter)."""
    keys = [canary_key(r) for r in context.settings.regions]
    return {"dynamodb": {"Keys": {"idempotency_key": {"S": [{"anything-but": keys}]}}}}


class Compute(Construct):
    """API front, transaction, CDC and health-check functions of one region."""

    def __init__(self, scope: Construct, id: str, props: ComputeProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self._names = Names(props.context)
        self._knobs = props.context.settings.for_region(props.context.region)
        self._transaction(props)
        self._intake(props)
        self._cdc(props)
        self.stream_mapping = self._stream_mapping(props)
        self._health(props)
        self._schedule(props)

    def _transaction(self, props: ComputeProps) -> None:
        """The transaction function: the workflow's steps on the payment's table item."""
        names, region, knobs = self._names, props.context.region, self._knobs
        settings = props.context.settings
        self.transaction = self._function(
            TRANSACTION,
            "Validates, claims, authorizes and records payments idempotently",
            memory_mb=TRANSACTION_MEMORY_MB,
            timeout_s=TRANSACTION_TIMEOUT_S,
            concurrency=settings.transaction_concurrency(region),
            services=BUNDLE_SERVICES,
            environment={
                "TABLE_NAME": names.table,
                "MAX_AMOUNT": knobs.max_amount,
                "CURRENCIES": ",".join(knobs.currencies),
                "CLAIM_TTL_S": str(TIMEOUT_S[settings.workflow.type]),
            },
        )
        self.transaction.role.add_statements(
            Statement(
                sid="WritePayments",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[names.table_arn(region)],
            ),
        )
        grant_table_key(names, region, self.transaction.role)

    def _intake(self, props: ComputeProps) -> None:
        """The API front: replays recorded outcomes, starts the workflow, serves the status resource."""
        names, region = self._names, props.context.region
        settings = props.context.settings
        action = "StartSyncExecution" if settings.workflow.type == "EXPRESS" else "StartExecution"
        self.intake = self._function(
            INTAKE,
            "Payments API front: starts the workflow per (merchant, key), answers payment status",
            memory_mb=512,
            timeout_s=INTAKE_TIMEOUT_S,
            concurrency=settings.intake_concurrency(region),
            services=BUNDLE_SERVICES,
            environment={
                "TABLE_NAME": names.table,
                "STATE_MACHINE_ARN": names.state_machine_arn(region),
                "WORKFLOW_TYPE": settings.workflow.type,
            },
            source=TRANSACTION,
            handler="intake.handler",
        )
        self.intake.role.add_statements(
            Statement(sid="ReadPayments", actions=["dynamodb:GetItem"], resources=[names.table_arn(region)]),
            Statement(sid="StartWorkflow", actions=[f"states:{action}"], resources=[names.state_machine_arn(region)]),
        )
        grant_table_key(names, region, self.intake.role)
        # The workflow's input and output are encrypted with the data key: starting it encrypts,
        # a synchronous start also decrypts the output.
        props.key.grant(self.intake.role, ("kms:Decrypt", "kms:GenerateDataKey"), sid="WorkflowData")

    def _cdc(self, props: ComputeProps) -> None:
        """The CDC function: receipts and payment-recorded events from the table stream."""
        names, region, knobs = self._names, props.context.region, self._knobs
        table_arn = names.table_arn(region)
        self.cdc = self._function(
            "cdc",
            "Writes receipts and payment-recorded events, voids cross-region duplicates, from the table stream",
            memory_mb=512,
            timeout_s=60,
            concurrency=knobs.cdc_concurrency,
            services=("events", "s3", "sns"),
            environment={
                "RECEIPTS_BUCKET": props.receipts.bucket_name,
                "RECEIPTS_KEY_ARN": props.key.key_arn,
                "EVENT_BUS_NAME": props.bus_name,
                "ALERT_TOPIC_ARN": props.alerts.topic_arn,
            },
        )
        self.cdc.role.add_statements(
            Statement(
                sid="ReadTableStream",
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                resources=[f"{table_arn}/stream/*"],
            ),
            # ListStreams has no resource-level permissions: AWS requires "*".
            Statement(sid="ListTableStreams", actions=["dynamodb:ListStreams"], resources=["*"]),
            Statement(sid="PublishRecordedEvents", actions=["events:PutEvents"], resources=[props.bus_arn]),
        )
        grant_table_key(names, region, self.cdc.role)
        props.receipts.grant_write(self.cdc.role)
        # Reads back a receipt that is already there, to keep it or replace a duplicate's.
        props.receipts.grant_read(self.cdc.role)
        props.alerts.grant_publish(self.cdc.role)
        props.cdc_failures.grant_send(self.cdc.role)

    def _health(self, props: ComputeProps) -> None:
        """The canary: writes and reads its own item in the table, puts a canary event on the bus,
        publishes health metrics. Its role can touch no other item and put no other event source."""
        names, region, knobs = self._names, props.context.region, self._knobs
        table_arn = names.table_arn(region)
        self.health = self._function(
            "health",
            "Canary: table write and read, bus put; publishes the region's health metrics",
            memory_mb=256,
            timeout_s=HEALTH_TIMEOUT_S,
            concurrency=knobs.health_concurrency,
            services=("cloudwatch", "dynamodb", "events"),
            environment={
                "TABLE_NAME": names.table,
                "EVENT_BUS_NAME": props.bus_name,
                "METRIC_NAMESPACE": HEALTH_NAMESPACE,
                "CANARY_KEY": canary_key(region),
            },
        )
        self.health.role.add_statements(
            Statement(
                sid="CanaryItem",
                actions=["dynamodb:GetItem", "dynamodb:PutItem"],
                resources=[table_arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [canary_key(region)]}},
            ),
            Statement(
                sid="CanaryEvent",
                actions=["events:PutEvents"],
                resources=[props.bus_arn],
                conditions={"StringEquals": {"events:source": CANARY_EVENT_SOURCE}},
            ),
            # PutMetricData has no resource-level permissions: AWS requires "*"; the namespace is pinned.
            Statement(
                sid="PutHealthMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": HEALTH_NAMESPACE}},
            ),
        )
        grant_table_key(names, region, self.health.role)
        props.key.grant(self.health.role, ENCRYPT_DECRYPT)

    def _function(
        self,
        name: str,
        description: str,
        *,
        memory_mb: int,
        timeout_s: int,
        concurrency: int,
        services: tuple[str, ...],
        environment: dict[str, str],
        source: str | None = None,
        handler: str = "handler.handler",
    ) -> PythonFunction:
        """A function of this region from ``lambdas/<name>`` in the region's VPC, its environment
        encrypted with the region's key."""
        props = self._props
        return PythonFunction(
            self,
            name,
            FunctionProps(
                context=props.context,
                key=props.key,
                name=name,
                description=description,
                source=LAMBDAS / (source or name),
                handler=handler,
                memory_mb=memory_mb,
                timeout_s=timeout_s,
                reserved_concurrency=concurrency,
                services=services,
                environment=environment,
                vpc_subnet_ids=props.network.function_subnet_ids,
                security_group_ids=[props.network.function_security_group.id],
            ),
        )

    def _stream_mapping(self, props: ComputeProps) -> LambdaEventSourceMapping:
        table = DataAwsDynamodbTable(self, "table", name=Names(props.context).table)
        return LambdaEventSourceMapping(
            self,
            "stream",
            function_name=self.cdc.function.arn,
            event_source_arn=table.stream_arn,
            starting_position="TRIM_HORIZON",
            batch_size=100,
            maximum_batching_window_in_seconds=1,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            maximum_retry_attempts=5,
            maximum_record_age_in_seconds=3600,
            # Every region's canary item is written every minute: none of them is a payment.
            filter_criteria=LambdaEventSourceMappingFilterCriteria(
                filter=[LambdaEventSourceMappingFilterCriteriaFilter(pattern=json.dumps(not_canary(props.context)))]
            ),
            destination_config=LambdaEventSourceMappingDestinationConfig(
                on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(
                    destination_arn=props.cdc_failures.queue_arn
                )
            ),
        )

    def _schedule(self, props: ComputeProps) -> None:
        """Run the canary every minute (scheduled rules live on the default bus)."""
        rule = CloudwatchEventRule(
            self,
            "health_schedule",
            name=props.context.name(Kind.EVENT_RULE, "health"),
            description="Regional canary every minute",
            schedule_expression=CANARY_SCHEDULE,
        )
        CloudwatchEventTarget(
            self, "health_target", rule=rule.name, arn=self.health.function.arn, target_id="health-check"
        )
        self.health.allow_service_invoke(
            self,
            "health_from_schedule",
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            statement_id="AllowSchedule",
        )
