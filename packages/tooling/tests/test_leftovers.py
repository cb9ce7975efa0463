"""The check that ends the emulator rung: after destroy, nothing a package tagged is left.

The emulator rung of `.ci/run` applies every package, runs its integration tests as the deployed
roles, destroys it and fails on anything :func:`leftovers` still finds; these tests show that check
finds what a destroy left, under either owner tag, in another account too, and nothing else."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from platform_tooling.testing.emulator import Emulator
from platform_tooling.testing.leftovers import leftovers
from shared_constructs.tagging import APP_TAG

OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/deployer"
STACKS = [
    {"provider": {"aws": [{"region": "us-east-1"}, {"region": "eu-west-1", "alias": "euw1"}]}},
    {"provider": {"aws": {"region": "us-east-1", "assume_role": [{"role_arn": OTHER_ACCOUNT_ROLE}]}}},
]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    started = Emulator()
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(started.log.parent, ignore_errors=True)


def bucket(server: Emulator, name: str, tags: dict[str, str], role: str | None = None) -> str:
    s3 = server.client("s3", "us-east-1", role)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return f"arn:aws:s3:::{name}"


@pytest.mark.requirement("SEC-D5")
def test_finds_what_a_destroy_left_and_nothing_once_it_is_gone(server: Emulator) -> None:
    left = bucket(server, "left-behind", {APP_TAG: "pci-platform"})
    old_tag = server.client("sqs", "eu-west-1").create_queue(QueueName="old-tag", tags={"Package": "pci-platform"})
    other_account = bucket(server, "other-account", {APP_TAG: "pci-platform"}, OTHER_ACCOUNT_ROLE)
    bucket(server, "another-package", {APP_TAG: "payments-multiregion"})
    queue_arn = server.client("sqs", "eu-west-1").get_queue_attributes(
        QueueUrl=old_tag["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    assert leftovers(server, "pci-platform", STACKS) == sorted({left, other_account, queue_arn})

    server.client("s3", "us-east-1").delete_bucket(Bucket="left-behind")
    server.client("s3", "us-east-1", OTHER_ACCOUNT_ROLE).delete_bucket(Bucket="other-account")
    server.client("sqs", "eu-west-1").delete_queue(QueueUrl=old_tag["QueueUrl"])
    assert leftovers(server, "pci-platform", STACKS) == []


@pytest.mark.requirement("SEC-D5")
def test_a_key_pending_deletion_is_gone(server: Emulator) -> None:
    kms = server.client("kms", "us-east-1")
    key = kms.create_key(Tags=[{"TagKey": APP_TAG, "TagValue": "state-backend"}])["KeyMetadata"]
    assert leftovers(server, "state-backend", STACKS) == [key["Arn"]]
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert leftovers(server, "state-backend", STACKS) == []


@pytest.mark.requirement("SEC-D5")
def test_an_instance_counts_until_it_is_terminated(server: Emulator) -> None:
    ec2 = server.client("ec2", "eu-west-1")
    tags = [{"ResourceType": "instance", "Tags": [{"Key": APP_TAG, "Value": "network-peering"}]}]
    (instance,) = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, TagSpecifications=tags)["Instances"]
    found = leftovers(server, "network-peering", STACKS)
    assert [arn.rsplit("/", 1)[1] for arn in found] == [instance["InstanceId"]]
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    assert leftovers(server, "network-peering", STACKS) == []
