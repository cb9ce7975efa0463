"""The links stack: what joins regions and so needs every region deployed first.

S3 refuses a replication rule whose destination bucket does not exist yet, and a cross-region
subscription needs the primary region's alert inbox: these live here, deployed after all
regional stacks, so each regional stack stays plannable and deployable on its own.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from shared_constructs.cdk import Construct
from shared_constructs.regions import short_region
from shared_constructs.replication import BucketRef, Replication, ReplicationProps
from shared_constructs.stack import PlatformStack

from payments_multiregion.names import PACKAGE, SERVICE, Names
from payments_multiregion.settings import Settings

RECEIPTS_PREFIX = "receipts/"


class LinksStack(PlatformStack[Settings]):
    """``payments-links``: receipts replication between every pair of regions, and every secondary
    region's alert topic subscribed to the primary region's alert inbox."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        primary = settings.primary_region
        super().__init__(scope, "payments-links", settings=settings, package=PACKAGE, region=primary, service=SERVICE)
        names = Names(self.context)
        refs = {
            r: BucketRef(
                name=names.receipts_bucket(r),
                region=r,
                account=self.context.account,
                key_alias=names.data_key_alias(r),
            )
            for r in settings.regions
        }
        for region in settings.regions:
            others = [refs[r] for r in settings.regions if r != region]
            if others:
                Replication(
                    self,
                    f"receipts_{short_region(region)}",
                    ReplicationProps(
                        context=self.context_for(region),
                        source=refs[region],
                        destinations=others,
                        prefix=RECEIPTS_PREFIX,
                        role_name="receipts-replication",
                        # A delete (by mistake or by an attacker) stays in its own region.
                        delete_markers=False,
                        object_lock=settings.receipts.object_lock_mode is not None,
                    ),
                )
        for region in settings.secondary_regions:
            SnsTopicSubscription(
                self,
                f"alerts_{short_region(region)}_to_primary",
                topic_arn=names.topic_arn(region),
                protocol="sqs",
                endpoint=names.inbox_arn(primary),
                provider=self.provider_for(region),
            )
        self.output(
            "receipts_replication_rules",
            ",".join(f"{a}->{b}" for a in settings.regions for b in settings.regions if a != b),
            description="Source->destination pairs of receipts replication",
        )
