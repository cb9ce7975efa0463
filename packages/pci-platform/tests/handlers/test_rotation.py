"""Rotation handler against moto in-process, with pg8000's connection replaced by a fake database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pg8000.native
import pytest
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "rotation"
REGION = "ap-southeast-1"
SECRET_NAME = "pci-platform/test/database"
ORIGINAL = {
    "engine": "postgres",
    "host": "db.internal",
    "port": 5432,
    "username": "app",
    "password": "old-pass",
    "dbname": "payments",
}


class FakeDatabase:
    """A PostgreSQL server stand-in: users and passwords; logins and ALTER USER statements are recorded."""

    def __init__(self, passwords: dict[str, str], *, reject_alter: bool = False) -> None:
        self.passwords = dict(passwords)
        self.reject_alter = reject_alter
        self.logins: list[tuple[str, str]] = []
        self.statements: list[str] = []
        self.ssl_contexts: list[Any] = []

    def connect(self, **kwargs: Any) -> FakeConnection:
        self.logins.append((kwargs["user"], kwargs["password"]))
        self.ssl_contexts.append(kwargs.get("ssl_context"))
        if self.passwords.get(kwargs["user"]) != kwargs["password"]:
            raise pg8000.native.DatabaseError({"C": "28P01", "M": "password authentication failed"})
        return FakeConnection(self, kwargs["user"])


class FakeConnection:
    def __init__(self, db: FakeDatabase, user: str) -> None:
        self.db = db
        self.user = user
        self.closed = False

    def run(self, sql: str) -> list[list[int]]:
        self.db.statements.append(sql)
        if sql.startswith("ALTER USER"):
            if self.db.reject_alter:
                raise pg8000.native.DatabaseError({"C": "28000", "M": "password rejected by policy"})
            password = sql.split("WITH PASSWORD ", 1)[1].strip("'").replace("''", "'")
            self.db.passwords[self.user] = password
        return [[1]]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("SECRETS_MANAGER_ENDPOINT", raising=False)
    monkeypatch.delenv("DB_HOST", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def handler(aws: None) -> ModuleType:
    return load_handler(FOLDER)


@pytest.fixture
def client(aws: None) -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def secret(client: Any) -> str:
    """The operator's existing secret, with rotation enabled (moto: no function, no immediate rotation)."""
    arn = client.create_secret(Name=SECRET_NAME, SecretString=json.dumps(ORIGINAL))["ARN"]
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    return str(arn)


def use_database(monkeypatch: pytest.MonkeyPatch, handler: ModuleType, db: FakeDatabase) -> None:
    monkeypatch.setattr(handler.pg8000.native, "Connection", db.connect)


def stages(client: Any, arn: str) -> dict[str, list[str]]:
    return client.describe_secret(SecretId=arn)["VersionIdsToStages"]  # type: ignore[no-any-return]


def event(arn: str, token: str, step: str) -> dict[str, str]:
    return {"SecretId": arn, "ClientRequestToken": token, "Step": step}


def stage_pending(client: Any, arn: str, token: str, password: str = "new-pass") -> None:  # noqa: S107 - test data
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**ORIGINAL, "password": password}),
        VersionStages=["AWSPENDING"],
    )


TOKEN = "11111111-2222-3333-4444-555555555555"


@pytest.mark.requirement("PCI-6")
def test_each_step_of_a_full_rotation(
    handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = FakeDatabase({"app": "old-pass"})
    use_database(monkeypatch, handler, db)
    # Secrets Manager registers the token as AWSPENDING without a value, then calls createSecret.
    assert handler.create_secret(client, secret, TOKEN) == "created"
    pending = json.loads(
        client.get_secret_value(SecretId=secret, VersionId=TOKEN, VersionStage="AWSPENDING")["SecretString"]
    )
    assert pending["username"] == "app"
    assert pending["password"] != "old-pass"
    assert len(pending["password"]) == 32
    assert not set(pending["password"]) & set("/@\"'\\ ")
    assert {k: v for k, v in pending.items() if k != "password"} == {
        k: v for k, v in ORIGINAL.items() if k != "password"
    }

    assert handler.handler(event(secret, TOKEN, "setSecret"), None) == {"step": "setSecret", "status": "set"}
    assert db.passwords["app"] == pending["password"]
    assert db.statements == [f"ALTER USER \"app\" WITH PASSWORD '{pending['password']}'"]
    assert db.logins[0] == ("app", pending["password"])  # first: is the pending password already set?
    assert db.logins[1] == ("app", "old-pass")

    assert handler.handler(event(secret, TOKEN, "testSecret"), None) == {"step": "testSecret", "status": "tested"}
    assert db.statements[-1] == "SELECT 1"

    assert handler.handler(event(secret, TOKEN, "finishSecret"), None) == {"step": "finishSecret", "status": "finished"}
    assert "AWSCURRENT" in stages(client, secret)[TOKEN]
    current = json.loads(client.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"])
    assert current["password"] == pending["password"]
    previous = json.loads(client.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous["password"] == "old-pass"


def test_create_secret_through_the_handler_is_idempotent(
    handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage_pending(client, secret, TOKEN, "already-generated")
    assert handler.handler(event(secret, TOKEN, "createSecret"), None) == {
        "step": "createSecret",
        "status": "pending_exists",
    }
    pending = json.loads(
        client.get_secret_value(SecretId=secret, VersionId=TOKEN, VersionStage="AWSPENDING")["SecretString"]
    )
    assert pending["password"] == "already-generated"


def test_set_secret_skips_when_the_pending_password_works(
    handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage_pending(client, secret, TOKEN)
    db = FakeDatabase({"app": "new-pass"})
    use_database(monkeypatch, handler, db)
    assert handler.handler(event(secret, TOKEN, "setSecret"), None)["status"] == "already_set"
    assert db.statements == []


@pytest.mark.requirement("PCI-C6")
def test_connections_use_tls(handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stage_pending(client, secret, TOKEN)
    db = FakeDatabase({"app": "new-pass"})
    use_database(monkeypatch, handler, db)
    handler.handler(event(secret, TOKEN, "testSecret"), None)
    assert db.ssl_contexts
    assert all(c is not None for c in db.ssl_contexts)


def test_finish_secret_when_already_current_does_nothing(handler: ModuleType, client: Any, secret: str) -> None:
    current = next(v for v, s in stages(client, secret).items() if "AWSCURRENT" in s)
    assert handler.handler(event(secret, current, "finishSecret"), None)["status"] == "already_current"


@pytest.mark.parametrize("step", ["createSecret", "setSecret", "testSecret", "finishSecret"])
def test_fails_when_the_version_is_not_pending(handler: ModuleType, client: Any, secret: str, step: str) -> None:
    client.put_secret_value(
        SecretId=secret, ClientRequestToken=TOKEN, SecretString=json.dumps(ORIGINAL), VersionStages=["SOMETHINGELSE"]
    )
    with pytest.raises(handler.RotationError, match="is not staged AWSPENDING"):
        handler.handler(event(secret, TOKEN, step), None)


def test_fails_for_an_unknown_version(handler: ModuleType, secret: str) -> None:
    with pytest.raises(handler.RotationError, match="has no stage for rotation"):
        handler.handler(event(secret, "00000000-0000-0000-0000-000000000000", "createSecret"), None)


def test_fails_when_rotation_is_not_enabled(handler: ModuleType, client: Any) -> None:
    arn = client.create_secret(Name="no-rotation", SecretString=json.dumps(ORIGINAL))["ARN"]
    with pytest.raises(handler.RotationError, match="does not have rotation enabled"):
        handler.handler(event(arn, TOKEN, "createSecret"), None)


def test_fails_when_the_database_rejects_the_new_password(
    handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stage_pending(client, secret, TOKEN)
    db = FakeDatabase({"app": "old-pass"}, reject_alter=True)
    use_database(monkeypatch, handler, db)
    with pytest.raises(handler.RotationError, match="refused the new password for 'app': 28000"):
        handler.handler(event(secret, TOKEN, "setSecret"), None)
    assert db.passwords["app"] == "old-pass"
    assert any(r.levelname == "ERROR" and r.getMessage() == "rotation step failed" for r in caplog.records)
    # The failed rotation leaves AWSCURRENT where it was.
    assert "AWSCURRENT" not in stages(client, secret)[TOKEN]


def test_fails_when_no_credentials_log_in(
    handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage_pending(client, secret, TOKEN)
    use_database(monkeypatch, handler, FakeDatabase({"app": "someone-changed-it"}))
    with pytest.raises(handler.RotationError, match="cannot log in to the database"):
        handler.handler(event(secret, TOKEN, "setSecret"), None)


def test_fails_when_the_pending_password_does_not_log_in(
    handler: ModuleType, client: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage_pending(client, secret, TOKEN)
    use_database(monkeypatch, handler, FakeDatabase({"app": "old-pass"}))
    with pytest.raises(handler.RotationError, match="cannot log in with the pending credentials"):
        handler.handler(event(secret, TOKEN, "testSecret"), None)


@pytest.mark.parametrize(
    ("bad_event", "message"),
    [
        ({}, "event needs SecretId"),
        ({"SecretId": "x", "ClientRequestToken": TOKEN}, "event needs SecretId"),
        ({"SecretId": "x", "ClientRequestToken": TOKEN, "Step": "dropTables"}, "unknown step 'dropTables'"),
    ],
)
def test_fails_on_bad_events(handler: ModuleType, bad_event: dict[str, str], message: str) -> None:
    with pytest.raises(handler.RotationError, match=message):
        handler.handler(bad_event, None)


@pytest.mark.parametrize(
    ("secret_value", "message"),
    [
        ("not json", "is not a JSON secret string"),
        (json.dumps(["a"]), "is not a JSON object"),
        (json.dumps({"host": "h", "username": "u"}), "lacks password"),
        (json.dumps({**ORIGINAL, "engine": "mysql"}), "not postgres"),
    ],
)
def test_fails_on_malformed_secrets(handler: ModuleType, client: Any, secret_value: str, message: str) -> None:
    arn = client.create_secret(Name="malformed", SecretString=secret_value)["ARN"]
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=TOKEN, SecretString=secret_value, VersionStages=["AWSPENDING"]
    )
    with pytest.raises(handler.RotationError, match=message):
        handler.handler(event(arn, TOKEN, "createSecret"), None)


def test_fails_on_an_aws_error(handler: ModuleType, client: Any) -> None:
    with pytest.raises(handler.RotationError, match="Secrets Manager error"):
        handler.handler(
            event("arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:missing-AbCdEf", TOKEN, "createSecret"),
            None,
        )
