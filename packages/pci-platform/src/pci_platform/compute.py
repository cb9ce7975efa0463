"""Card-data processing: a Lambda function in the workload subnets with no internet path.

S3 notifies the function of each object written under the incoming prefix of the cardholder
bucket; it truncates primary account numbers (PCI DSS 3.4: first six and last four digits at
most) and writes the result to the processed bucket with SSE-KMS. Its role may read the one
bucket, write the other, and use their keys (cardholder, processed); the key policies name the role. S3 invokes it
asynchronously: the handler raises on transient errors, Lambda retries twice within an hour, and an
event that still fails lands, with its error, in the processor's queue (the on-failure
destination), which the ops alarms watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification, S3BucketNotificationLambdaFunction
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import AsyncInvocation, FunctionProps, PythonFunction, check_capacity
from shared_constructs.messaging import EncryptedQueue, QueueProps

from pci_platform.access import Guardrails
from pci_platform.config import Settings
from pci_platform.data import DataStores
from pci_platform.networking import WORKLOAD, Network
from pci_platform.security import PlatformKeys

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
DEAD_LETTER_QUEUE = "processor-dlq"


@dataclass(frozen=True, kw_only=True)
class ProcessingProps:
    """Props of :class:`Processing` (sized by ``settings.processing``)."""

    context: AppContext[Settings]
    network: Network
    keys: PlatformKeys
    data: DataStores
    guardrails: Guardrails


class Processing(Construct):
    """The processor function, its security group, permissions and S3 trigger."""

    def __init__(self, scope: Construct, id: str, props: ProcessingProps) -> None:
        super().__init__(scope, id)
        ctx, network, keys, data = props.context, props.network, props.keys, props.data
        config = ctx.settings.processing
        check_capacity("processor", config.reserved_concurrency, config.target_tps, config.duration_s)
        self.security_group = network.workload_security_group(self, "security_group", "processor")
        # S3 invokes the function asynchronously: events that keep failing are kept here, not dropped.
        self.dead_letters = EncryptedQueue(
            self,
            "dead_letters",
            QueueProps(
                context=ctx, name=DEAD_LETTER_QUEUE, key=keys.cardholder, dead_letter=False, retention_s=1209600
            ),
        )
        self.function = PythonFunction(
            self,
            "processor",
            FunctionProps(
                context=ctx,
                name="processor",
                description="Truncates card numbers of incoming objects into the processed bucket",
                source=LAMBDAS / "processor",
                handler="handler.handler",
                key=keys.logs,
                reserved_concurrency=config.reserved_concurrency,
                services=("s3",),
                timeout_s=60,
                environment={
                    "TARGET_BUCKET": data.processed.bucket_name,
                    "TARGET_KEY_ARN": keys.processed.key_arn,
                    "INCOMING_PREFIX": config.incoming_prefix,
                },
                vpc_subnet_ids=network.subnet_ids(WORKLOAD),
                security_group_ids=[self.security_group.id],
                dead_letter_queue=self.dead_letters,
                asynchronous=AsyncInvocation(max_retries=2, max_event_age_s=3600),
            ),
        )
        role = self.function.role
        # Reading one bucket and writing the other names the role in both buckets' key policies.
        data.cardholder.grant_read(role)
        data.processed.grant_write(role)
        props.guardrails.attach(role, "processor")
        permission = self.function.allow_service_invoke(
            self,
            "s3_invoke",
            statement_id="AllowCardholderBucket",
            principal="s3.amazonaws.com",
            source_arn=data.cardholder.bucket_arn,
            source_account=ctx.account,
        )
        S3BucketNotification(
            self,
            "trigger",
            bucket=data.cardholder.bucket_id,
            lambda_function=[
                S3BucketNotificationLambdaFunction(
                    lambda_function_arn=self.function.function_arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=config.incoming_prefix,
                )
            ],
            depends_on=[permission],
        )
        self.function_arn = self.function.function_arn
