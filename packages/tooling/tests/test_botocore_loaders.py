"""The test process's botocore sessions share one loader: moto's fresh default session per mocked
test no longer reads and parses every service model again."""

from __future__ import annotations

import boto3
import botocore.session
from moto import mock_aws
from platform_tooling.testing.plugin import share_botocore_loaders


def test_new_sessions_share_one_loader_per_data_path() -> None:
    share_botocore_loaders()  # done by the plugin already; a second call changes nothing
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is second.get_component("data_loader")


def test_clients_of_sessions_in_separate_mocks_still_work_on_their_own_data() -> None:
    for bucket in ("first-mock-bucket", "second-mock-bucket"):
        with mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket=bucket)
            assert [b["Name"] for b in client.list_buckets()["Buckets"]] == [bucket]
