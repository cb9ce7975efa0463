from __future__ import annotations

import json

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


@pytest.mark.parametrize(("delete_markers", "status"), [(False, "Disabled"), (True, "Enabled")])
def test_delete_markers_replicate_only_when_asked(stack, synthesized, delete_markers, status):
    context = stack.context_for("us-east-1")
    props = ReplicationProps(context=context, source=SOURCE, destinations=[DESTINATION], delete_markers=delete_markers)
    Replication(stack, "r", props)
    configurations = list(synthesized(stack)["resource"]["aws_s3_bucket_replication_configuration"].values())
    assert len(configurations) == 1
    assert [r["delete_marker_replication"] for r in configurations[0]["rule"]] == [{"status": status}]


@pytest.mark.parametrize("object_lock", [False, True])
def test_object_lock_lets_the_role_read_retention_and_legal_hold(stack, synthesized, object_lock):
    context = stack.context_for("us-east-1")
    props = ReplicationProps(context=context, source=SOURCE, destinations=[DESTINATION], object_lock=object_lock)
    Replication(stack, "r", props)
    policies = list(synthesized(stack)["resource"]["aws_iam_policy"].values())
    assert len(policies) == 1
    read = next(s for s in json.loads(policies[0]["policy"])["Statement"] if s["Sid"] == "ReadSourceVersions")
    lock = {"s3:GetObjectLegalHold", "s3:GetObjectRetention"}
    assert (lock <= set(read["Action"])) is object_lock
