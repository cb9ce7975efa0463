"""CloudTrail data events: S3 object-level activity on the buckets other apps publish as holding
cardholder or confidential data (PCI DSS 10.2: every access to cardholder data is logged).

The bucket ARNs are read through the producers' typed contracts
(:mod:`shared_constructs.contracts.data_buckets`) from their Terraform state, never typed here. The
trail lives in its own stack, ``security-baseline-<account id>-data-events`` in the home region of
``account_id`` (the account the producers deploy to), deployed after the producers: the producers
read the regional baseline stacks (their security topic), so reading them back from a regional
stack could close a cycle; a stack of its own cannot.

One multi-region trail (S3 data events are logged in the bucket's region) with advanced event
selectors for data events only (the account trail keeps the management events), log-file
validation, KMS encryption, to its own archive bucket with the account trail's retention, and
delivery notifications to a topic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import (
    Cloudtrail,
    CloudtrailAdvancedEventSelector,
    CloudtrailAdvancedEventSelectorFieldSelector,
)
from shared_constructs.cdk import Construct, Fn, Token
from shared_constructs.context import AppContext
from shared_constructs.contracts import security_baseline as contract
from shared_constructs.contracts.data_buckets import DATA_PRODUCERS
from shared_constructs.kms import Key, KeyProps
from shared_constructs.messaging import EncryptedTopic, TopicProps
from shared_constructs.naming import Kind
from shared_constructs.stack import PlatformStack
from shared_constructs.state import RemoteOutputs
from shared_constructs.storage import SecureBucket, access_log_bucket

from security_baseline.settings import Settings
from security_baseline.trail import SERVICE, trail_archive

PACKAGE = contract.PACKAGE


def object_arn_prefixes(bucket_arns: list[str]) -> list[str]:
    """``arn:aws:s3:::bucket/`` for each bucket: the selector matches every object of those buckets."""
    return Token.as_list(Fn.formatlist("%s/", [bucket_arns]))


@dataclass(frozen=True, kw_only=True)
class DataEventsProps:
    """Props of :class:`DataEventsTrail`: ``bucket_arns`` (a list, or a token of one) are the
    buckets whose object-level events are logged."""

    context: AppContext[Settings]
    key: Key
    access_logs: SecureBucket
    bucket_arns: list[str]


class DataEventsTrail(Construct):
    """A multi-region trail of S3 object-level events on ``bucket_arns`` only (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: DataEventsProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.trail_name = ctx.name(Kind.TRAIL, "data-events", regional=False)
        # Built from the name, not read from the trail: the bucket and key policies must exist first.
        self.trail_arn = ctx.arn("cloudtrail", f"trail/{self.trail_name}")
        self.archive = trail_archive(
            self, ctx, name="data-events", key=props.key, access_logs=props.access_logs, trail_arn=self.trail_arn
        )
        self.deliveries = EncryptedTopic(
            self, "deliveries", TopicProps(context=ctx, name="data-events-deliveries", key=props.key)
        )
        self.deliveries.allow_publish_from_service(SERVICE, source_arns=[self.trail_arn])
        self.trail = Cloudtrail(
            self,
            "trail",
            name=self.trail_name,
            s3_bucket_name=self.archive.bucket_name,
            kms_key_id=props.key.key_arn,
            # S3 logs a data event in the bucket's region: one trail must cover every region.
            is_multi_region_trail=True,
            include_global_service_events=True,  # AWS requires it of a multi-region trail
            enable_log_file_validation=True,
            enable_logging=True,
            sns_topic_name=self.deliveries.topic_name,
            advanced_event_selector=[
                CloudtrailAdvancedEventSelector(
                    name="Object-level events on cardholder and confidential data buckets",
                    field_selector=[
                        CloudtrailAdvancedEventSelectorFieldSelector(field="eventCategory", equal_to=["Data"]),
                        CloudtrailAdvancedEventSelectorFieldSelector(
                            field="resources.type", equal_to=["AWS::S3::Object"]
                        ),
                        CloudtrailAdvancedEventSelectorFieldSelector(
                            field="resources.ARN", starts_with=object_arn_prefixes(props.bucket_arns)
                        ),
                    ],
                )
            ],
            # CloudTrail checks bucket, key and topic access when the trail is created.
            depends_on=[self.archive.policy, props.key.key, self.deliveries.policy],
        )


def stack_name(account_id: str) -> str:
    """``security-baseline-<account id>-data-events``: named, and so state-keyed, after its account as
    the regional baseline stacks are (``shared_constructs.contracts.security_baseline.stack_name``)."""
    return f"{PACKAGE}-{account_id}-data-events"


class DataEventsStack(PlatformStack[Settings]):
    """``security-baseline-<account id>-data-events``: the data-events trail over the buckets of
    ``trail.data_events_from``, in ``account_id`` (where the data producers deploy) and its home
    region, with a provider limited to that account."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        label = settings.platform_label
        region = settings.home_region(label)
        trail = settings.trail_for(label)
        super().__init__(
            scope,
            stack_name(settings.account_id),
            settings=settings,
            package=PACKAGE,
            region=region,
            account_id=settings.account_id,
        )
        ctx = self.context
        arns = [
            RemoteOutputs(
                self, f"data_{producer.replace('-', '_')}", settings=settings, stack=DATA_PRODUCERS[producer].stack
            ).get(DATA_PRODUCERS[producer].output)
            for producer in trail.data_events_from
        ]
        self.key = Key(
            self,
            "key",
            KeyProps(context=ctx, name="data-events", description=f"CloudTrail data events ({region})"),
        )
        self.access_logs = access_log_bucket(
            self, "access_logs", ctx, name="data-events-access-logs", noncurrent_expiration_days=7
        )
        self.trail = DataEventsTrail(
            self,
            "trail",
            DataEventsProps(
                context=ctx,
                key=self.key,
                access_logs=self.access_logs,
                bucket_arns=arns[0] if len(arns) == 1 else Token.as_list(Fn.concat(arns)),
            ),
        )
        self.output("data_events_trail_arn", self.trail.trail.arn, description="CloudTrail trail of S3 data events")
        self.output(
            "data_events_bucket_name", self.trail.archive.bucket_name, description="Archive of the S3 data events"
        )
