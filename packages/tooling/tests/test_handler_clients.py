"""boto3_clients: the AWS services a handler's source calls, for the declared-services tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from platform_tooling.testing.handlers import boto3_clients, declared_services_mismatches

SOURCES = {
    "module-level clients": ('import boto3\n_s3 = boto3.client("s3")\n_sqs = boto3.resource("sqs")\n', ["s3", "sqs"]),
    "a session": ('import boto3\nsession = boto3.session.Session()\nevents = session.client("events")\n', ["events"]),
    "a keyword": ('import boto3\nc = boto3.client(service_name="firehose")\n', ["firehose"]),
    "a local helper": (
        """
        import boto3
        def _client(service, region):
            return boto3.client(service, region_name=region) if region else boto3.client(service)
        def fix(region):
            _client("ec2", region).create_tags()
            _client("sns", None).publish()
        """,
        ["ec2", "sns"],
    ),
    "local signing only": (
        """
        import boto3
        token = boto3.client("rds").generate_db_auth_token(DBHostname="h", Port=5432, DBUsername="u")
        signer = boto3.client("s3")
        url = signer.generate_presigned_url("get_object")
        boto3.client("sqs").send_message(QueueUrl="q", MessageBody="m")
        """,
        ["sqs"],
    ),
    "no AWS calls": ("def handler(event, context):\n    return event\n", []),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_derives_the_clients_the_source_creates(tmp_path, name):
    source, expected = SOURCES[name]
    (tmp_path / "handler.py").write_text(textwrap.dedent(source))
    assert boto3_clients(tmp_path) == expected


def test_fails_on_a_folder_without_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Python source"):
        boto3_clients(tmp_path)


def _handler(folder: Path, source: str) -> Path:
    folder.mkdir()
    (folder / "handler.py").write_text(source)
    return folder


def test_declared_services_mismatches_names_each_problem(tmp_path: Path) -> None:
    sqs = _handler(tmp_path / "sqs", 'import boto3\nCLIENT = boto3.client("sqs")\n')
    functions = [
        {"function_name": "right", "//": {"services": ["sqs"]}},
        {"function_name": "wrong", "//": {"services": ["sns"]}},
        {"function_name": "unlisted", "//": {"services": []}},
    ]
    problems = declared_services_mismatches(functions, {"right": sqs, "wrong": sqs, "missing": sqs})
    assert problems == [
        "unlisted: synthesized but not listed",
        "missing: listed but not synthesized",
        "wrong: declares ['sns'], its handler creates clients for ['sqs']",
    ]
    assert declared_services_mismatches(functions[:1], {"right": sqs}) == []
