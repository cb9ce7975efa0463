"""The test process's botocore sessions share one loader: a new session no longer reads and parses
every service model again. moto's mocks keep boto3's default session, and each still starts empty."""

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


def test_mocks_keep_the_default_session_and_still_start_empty() -> None:
    sessions = []
    for bucket in ("first-kept-bucket", "second-kept-bucket"):
        with mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            sessions.append(boto3.DEFAULT_SESSION)
            assert client.list_buckets()["Buckets"] == []
            client.create_bucket(Bucket=bucket)
    assert sessions[0] is not None
    assert sessions[0] is sessions[1]
