"""Deploy-time schema entry point (``rotation/schema.py``) against moto in-process and an in-memory PostgreSQL."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "rotation"
REGION = "ap-southeast-1"
MASTER = {"username": "cluster_admin", "password": "master-pass", "host": "db.internal"}
APP = {"engine": "postgres", "host": "db.internal", "port": 5432, "username": "payments_app", "password": "app-pass"}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, certificates: Any, aws_credentials: str) -> Iterator[Any]:
    monkeypatch.setenv("DB_CA_BUNDLE", str(certificates.loopback[0]))
    for key in ("DB_HOST", "DB_NAME", "SECRETS_MANAGER_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        monkeypatch.setenv(
            "MASTER_SECRET_ARN", client.create_secret(Name="master", SecretString=json.dumps(MASTER))["ARN"]
        )
        monkeypatch.setenv(
            "APP_SECRET_ARN",
            client.create_secret(Name="app", SecretString=json.dumps({**APP, "masterarn": "x"}))["ARN"],
        )
        yield client


@pytest.fixture
def schema(client: Any) -> ModuleType:
    return load_handler(FOLDER, "schema")


@pytest.fixture
def db(postgres: Callable[[dict[str, str]], Any]) -> Any:
    return postgres({"cluster_admin": "master-pass"})


def changes(db: Any) -> list[str]:
    return [sql for _, sql in db.statements if not sql.startswith("SELECT")]


def test_creates_the_role_and_the_table_as_the_master_user(schema: ModuleType, db: Any) -> None:
    assert schema.handler({}, None) == {"status": "applied", "version": schema.SCHEMA_VERSION, "created_role": True}
    assert db.passwords["payments_app"] == "app-pass"
    statements = changes(db)
    assert statements[0] == "START TRANSACTION"
    assert statements[1] == "CREATE ROLE \"payments_app\" WITH LOGIN PASSWORD 'app-pass'"
    assert statements[-1] == "COMMIT"
    for expected in (schema.TABLE, schema.COLUMNS, schema.UNANSWERED_INDEX, schema.NO_PUBLIC_CREATE):
        assert expected in statements
    assert statements[-2] == 'GRANT SELECT, INSERT, UPDATE ON payments TO "payments_app"'
    assert {user for user, _ in db.statements} == {"cluster_admin"}
    login = db.logins[0]
    assert (login["user"], login["host"], login["database"]) == ("cluster_admin", "db.internal", "payments")


def test_a_second_invocation_creates_no_role_and_only_repeats_guarded_statements(schema: ModuleType, db: Any) -> None:
    schema.handler({}, None)
    first = changes(db)
    db.statements.clear()
    assert schema.handler({}, None)["created_role"] is False
    assert changes(db) == [sql for sql in first if not sql.startswith("CREATE ROLE")]
    assert all("IF NOT EXISTS" in sql or not sql.startswith(("CREATE", "ALTER TABLE")) for sql in changes(db)), (
        "every creating statement must be guarded"
    )


def test_grants_the_base_user_when_the_secret_names_the_clone(schema: ModuleType, client: Any, db: Any) -> None:
    db.passwords["payments_app"] = "old"
    client.put_secret_value(
        SecretId="app", SecretString=json.dumps({**APP, "username": "payments_app_clone", "password": "p2"})
    )
    assert schema.handler({}, None)["created_role"] is False
    assert changes(db)[-2] == 'GRANT SELECT, INSERT, UPDATE ON payments TO "payments_app"'


def test_the_connection_verifies_certificate_and_host_name(schema: ModuleType, db: Any) -> None:
    schema.handler({}, None)
    context = db.logins[0]["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_fails_and_rolls_back_when_a_statement_fails(
    schema: ModuleType, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    db.fail("GRANT")
    with pytest.raises(schema.SchemaError, match="not applied: 42501 permission denied"):
        schema.handler({}, None)
    assert changes(db)[-1] == "ROLLBACK"
    assert "payments_app" not in db.passwords
    assert any(r.levelname == "ERROR" and r.getMessage() == "schema not applied" for r in caplog.records)


def test_fails_when_the_master_secret_does_not_log_in(schema: ModuleType, db: Any) -> None:
    db.passwords["cluster_admin"] = "rotated"
    with pytest.raises(schema.SchemaError, match="cannot log in with the master secret"):
        schema.handler({}, None)


@pytest.mark.parametrize("name", ["MASTER_SECRET_ARN", "APP_SECRET_ARN"])
def test_fails_without_its_settings(schema: ModuleType, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(schema.SchemaError, match=f"environment variable {name} is not set"):
        schema.handler({}, None)


def test_fails_on_a_malformed_secret(schema: ModuleType, client: Any) -> None:
    client.put_secret_value(SecretId="master", SecretString=json.dumps({"username": "only"}))
    with pytest.raises(schema.SchemaError, match="needs username, password"):
        schema.handler({}, None)


def test_fails_without_a_ca_bundle(schema: ModuleType, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_CA_BUNDLE")
    with pytest.raises(schema.SchemaError, match=r"no CA bundle file at .*rds-ca-bundle.pem"):
        schema.handler({}, None)
    assert db.logins == []
