from __future__ import annotations

import pytest
from shared_constructs.replication import BucketRef, Replication, ReplicationProps


def test_bucket_ref_names_bucket_and_key_alias():
    ref = BucketRef(
        name="pay-receipts-euw1-dev", region="eu-west-1", account="111122223333", key_alias="alias/pay-data-euw1-dev"
    )
    assert ref.arn == "arn:aws:s3:::pay-receipts-euw1-dev"
    assert ref.key_alias_arn == "arn:aws:kms:eu-west-1:111122223333:alias/pay-data-euw1-dev"


SOURCE = BucketRef(name="b-dev", region="us-east-1", account="111122223333", key_alias="alias/k-dev")
DESTINATION = BucketRef(name="b-euw1-dev", region="eu-west-1", account="111122223333", key_alias="alias/k-euw1-dev")


@pytest.mark.parametrize(
    ("region", "destinations", "message"),
    [
        ("us-east-1", [], "needs at least one destination"),
        ("eu-west-1", [DESTINATION], "is in us-east-1; its replication needs that region's context, got eu-west-1"),
    ],
)
def test_fails_without_destinations_or_in_another_region(stack, region, destinations, message):
    context = stack.context_for(region)
    with pytest.raises(ValueError, match=message):
        Replication(stack, "r", ReplicationProps(context=context, source=SOURCE, destinations=destinations))
