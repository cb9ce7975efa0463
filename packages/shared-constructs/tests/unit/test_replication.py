from __future__ import annotations

import pytest
from shared_constructs.replication import BucketRef, Replication, ReplicationProps


def test_bucket_ref_names_bucket_and_key_alias():
    ref = BucketRef(
        name="pay-receipts-euw1-dev", region="eu-west-1", account="111122223333", key_alias="alias/pay-data-euw1-dev"
    )
    assert ref.arn == "arn:aws:s3:::pay-receipts-euw1-dev"
    assert ref.key_alias_arn == "arn:aws:kms:eu-west-1:111122223333:alias/pay-data-euw1-dev"


def test_fails_without_destinations():
    from cdktf import Testing
    from shared_constructs.naming import Namer

    source = BucketRef(name="b-dev", region="us-east-1", account="111122223333", key_alias="alias/k-dev")
    stack = Testing.app()
    with pytest.raises(ValueError, match="needs at least one destination"):
        Replication(stack, "r", ReplicationProps(namer=Namer("pay", "dev"), source=source, destinations=[]))
