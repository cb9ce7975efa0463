"""Transaction-log streaming: Kinesis Data Firehose to S3 through a transformation function.

Records are transformed by the ``transformer`` function (record-level ``Ok``/``Dropped``/
``ProcessingFailed``), compressed with GZIP and written under ``transactions/`` of the
transaction-log bucket (processed key: masked, token-free records; objects move to Intelligent-Tiering at once). Records the
function fails land under ``failed/`` (``error_output_prefix``) and every source record is also
backed up under ``backup/`` (``s3_backup_mode = Enabled``). The stream is encrypted at rest with
the same key. The Firehose role can write that one bucket, invoke that one function and use
that one key. Processor parameters are left at their defaults (setting a default value explicitly
shows as a perpetual diff).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStream,
    KinesisFirehoseDeliveryStreamExtendedS3Configuration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfiguration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationS3BackupConfiguration,
    KinesisFirehoseDeliveryStreamServerSideEncryption,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import ENCRYPT_DECRYPT
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

from pci_platform.access import Guardrails
from pci_platform.config import Settings
from pci_platform.data import DataStores
from pci_platform.networking import WORKLOAD, Network
from pci_platform.security import PlatformKeys

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
FIREHOSE_S3_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:PutObject",
)


@dataclass(frozen=True, kw_only=True)
class StreamProps:
    """Props of :class:`TransactionStream`."""

    context: AppContext[Settings]
    network: Network
    keys: PlatformKeys
    data: DataStores
    guardrails: Guardrails


class TransactionStream(Construct):
    """The transaction-log bucket, the transformer function and the delivery stream."""

    def __init__(self, scope: Construct, id: str, props: StreamProps) -> None:
        super().__init__(scope, id)
        ctx, keys = props.context, props.keys
        self.bucket = SecureBucket(
            self,
            "bucket",
            BucketProps(
                context=ctx,
                name="transaction-logs",
                key=keys.processed,
                access_log_bucket=props.data.access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="intelligent-tiering",
                        transitions=((0, "INTELLIGENT_TIERING"),),
                        noncurrent_expiration_days=30,
                    ),
                    LifecycleRule(
                        id="expire-failed", prefix="failed/", expiration_days=90, noncurrent_expiration_days=1
                    ),
                ),
            ),
        )
        self.transformer = self._transformer(props)
        self.stream_name = ctx.name(Kind.FIREHOSE, "transactions")
        self.stream_arn = ctx.arn("firehose", f"deliverystream/{self.stream_name}")
        self.log_group = EncryptedLogGroup(
            self,
            "delivery_logs",
            LogGroupProps(context=ctx, name=f"/aws/kinesisfirehose/{self.stream_name}", key=keys.logs),
        )
        self.role = self._delivery_role(props)
        self.stream = self._stream(props)

    def _transformer(self, props: StreamProps) -> PythonFunction:
        """The record transformer, in the workload subnets; it publishes its record metrics."""
        ctx, network = props.context, props.network
        namespace = f"PciPlatform/{ctx.namer.suffix}"
        transformer = PythonFunction(
            self,
            "transformer",
            FunctionProps(
                context=ctx,
                name="transformer",
                description="Validates and masks transaction-log records for Firehose",
                source=LAMBDAS / "transformer",
                handler="handler.handler",
                key=props.keys.logs,
                reserved_concurrency=2,
                services=("cloudwatch",),
                timeout_s=60,
                environment={"METRIC_NAMESPACE": namespace},
                vpc_subnet_ids=network.subnet_ids(WORKLOAD),
                security_group_ids=[network.workload_security_group(self, "transformer_sg", "transformer").id],
            ),
        )
        transformer.role.add_statements(
            Statement(
                # CloudWatch metrics have no resource-level permissions: "*" limited by namespace.
                sid="PublishRecordMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
            )
        )
        props.guardrails.attach(transformer.role, "transformer")
        return transformer

    def _delivery_role(self, props: StreamProps) -> LeastPrivilegeRole:
        """Firehose may write the one bucket, invoke the one function and use the one key."""
        ctx = props.context
        role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=ctx,
                name="firehose",
                description="Firehose delivery of transaction logs",
                trust_policy=assume_role_policy(
                    services=["firehose.amazonaws.com"],
                    conditions={"StringEquals": {"sts:ExternalId": ctx.account}},
                ),
                statements=[
                    Statement(
                        sid="WriteTransactionLogs",
                        actions=FIREHOSE_S3_ACTIONS,
                        resources=[self.bucket.bucket_arn, f"{self.bucket.bucket_arn}/*"],
                    ),
                    Statement(
                        sid="DeliveryLogs",
                        actions=["logs:PutLogEvents"],
                        resources=[f"{self.log_group.log_group_arn}:*"],
                    ),
                ],
            ),
        )
        self.transformer.grant_invoke(role, sid="Transform", read_configuration=True)
        props.keys.processed.grant(role, ENCRYPT_DECRYPT, label="firehose")
        props.guardrails.attach(role, "firehose")
        return role

    def _stream(self, props: StreamProps) -> KinesisFirehoseDeliveryStream:
        key_arn = props.keys.processed.key_arn
        prefix = "transactions/!{timestamp:yyyy/MM/dd}/"
        return KinesisFirehoseDeliveryStream(
            self,
            "stream",
            name=self.stream_name,
            destination="extended_s3",
            server_side_encryption=KinesisFirehoseDeliveryStreamServerSideEncryption(
                enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=key_arn
            ),
            extended_s3_configuration=KinesisFirehoseDeliveryStreamExtendedS3Configuration(
                role_arn=self.role.role_arn,
                bucket_arn=self.bucket.bucket_arn,
                prefix=prefix,
                error_output_prefix="failed/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
                compression_format="GZIP",
                kms_key_arn=key_arn,
                buffering_size=5,
                buffering_interval=300,
                cloudwatch_logging_options=KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions(
                    enabled=True, log_group_name=self.log_group.log_group_name, log_stream_name="delivery"
                ),
                processing_configuration=KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfiguration(
                    enabled=True,
                    processors=[
                        KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors(
                            type="Lambda",
                            parameters=[
                                KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters(
                                    parameter_name="LambdaArn",
                                    parameter_value=f"{self.transformer.function_arn}:$LATEST",
                                )
                            ],
                        )
                    ],
                ),
                s3_backup_mode="Enabled",
                s3_backup_configuration=KinesisFirehoseDeliveryStreamExtendedS3ConfigurationS3BackupConfiguration(
                    role_arn=self.role.role_arn,
                    bucket_arn=self.bucket.bucket_arn,
                    prefix="backup/",
                    compression_format="GZIP",
                    kms_key_arn=key_arn,
                ),
            ),
        )

    def grant_put(self, role: LeastPrivilegeRole) -> None:
        """Let ``role`` put records on the stream."""
        role.add_statements(
            Statement(
                sid="PutTransactionLogs",
                actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                resources=[self.stream.arn],
            )
        )
