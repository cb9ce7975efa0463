"""Rotation handler (alternating users) against moto in-process, every step through the entry point.

pg8000's connection is replaced by an in-memory PostgreSQL (``postgres`` fixture), except where a
local TLS server with a self-signed certificate shows that connections verify the server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import secretsmanager_backends
from platform_tooling.testing.handlers import load_handler

FOLDER = Path(__file__).resolve().parents[2] / "lambdas" / "rotation"
REGION = "ap-southeast-1"
MASTER = {"username": "cluster_admin", "password": "master-pass"}
ORIGINAL = {
    "engine": "postgres",
    "host": "db.internal",
    "port": 5432,
    "username": "payments_app",
    "password": "old-pass",
    "dbname": "payments",
}
TOKEN = "11111111-2222-3333-4444-555555555555"
TOKEN2 = "66666666-7777-8888-9999-000000000000"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, certificates: Any, aws_credentials: str) -> Iterator[None]:
    monkeypatch.delenv("SECRETS_MANAGER_ENDPOINT", raising=False)
    monkeypatch.delenv("DB_HOST", raising=False)
    # Any valid CA file: the in-memory database does no TLS; the TLS tests point at their own.
    monkeypatch.setenv("DB_CA_BUNDLE", str(certificates.loopback[0]))
    with mock_aws():
        yield


@pytest.fixture
def handler(aws: None) -> ModuleType:
    return load_handler(FOLDER)


@pytest.fixture
def client(aws: None) -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


def rotate(client: Any, arn: str, token: str) -> None:
    """What RotateSecret does in AWS before it calls the function: rotation on, ``token`` staged
    AWSPENDING without a value. moto differs (without a function it moves AWSCURRENT at once; not
    rotating immediately stages a copy of the current value, and it refuses to start while AWSPENDING
    is on the AWSCURRENT version, as a finished rotation leaves it), so its stored versions are set here."""
    versions = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[arn].versions
    for version in versions.values():
        version["version_stages"] = [stage for stage in version["version_stages"] if stage != "AWSPENDING"]
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    for version_id in [v for v, version in versions.items() if version["version_stages"] == ["AWSPENDING"]]:
        del versions[version_id]
    versions[token] = {"createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"]}
    assert stages(client, arn)[token] == ["AWSPENDING"]


def make_secret(client: Any, name: str = "pci-platform/test/database", **overrides: Any) -> str:
    master_arn = client.create_secret(Name=f"{name}-master", SecretString=json.dumps(MASTER))["ARN"]
    value = {**ORIGINAL, "masterarn": master_arn, **overrides}
    arn = client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    rotate(client, arn, TOKEN)
    return str(arn)


@pytest.fixture
def secret(client: Any) -> str:
    """The operator's application secret (naming the master secret), a rotation just started."""
    return make_secret(client)


@pytest.fixture
def db(postgres: Callable[[dict[str, str]], Any]) -> Any:
    return postgres({"cluster_admin": "master-pass", "payments_app": "old-pass"})


def event(arn: str, token: str, step: str) -> dict[str, str]:
    return {"SecretId": arn, "ClientRequestToken": token, "Step": step}


def run(handler: ModuleType, arn: str, token: str, step: str) -> str:
    result = handler.handler(event(arn, token, step), None)
    assert result["step"] == step
    return str(result["status"])


def value(client: Any, arn: str, **kwargs: str) -> dict[str, Any]:
    """The secret's value; by default its AWSCURRENT version."""
    kwargs = kwargs or {"VersionStage": "AWSCURRENT"}
    return json.loads(client.get_secret_value(SecretId=arn, **kwargs)["SecretString"])  # type: ignore[no-any-return]


def stages(client: Any, arn: str) -> dict[str, list[str]]:
    return client.describe_secret(SecretId=arn)["VersionIdsToStages"]  # type: ignore[no-any-return]


@pytest.mark.requirement("PCI-6")
def test_a_full_rotation_creates_the_clone_user_and_moves_current_to_it(
    handler: ModuleType, client: Any, secret: str, db: Any
) -> None:
    assert run(handler, secret, TOKEN, "createSecret") == "created"
    pending = value(client, secret, VersionId=TOKEN, VersionStage="AWSPENDING")
    assert pending["username"] == "payments_app_clone"
    assert len(pending["password"]) == 32
    assert not set(pending["password"]) & set("/@\"'\\ ")
    assert {k: v for k, v in pending.items() if k not in ("username", "password")} == {
        k: v for k, v in value(client, secret).items() if k not in ("username", "password")
    }

    assert run(handler, secret, TOKEN, "setSecret") == "created_user"
    assert db.passwords["payments_app_clone"] == pending["password"]
    assert db.members["payments_app_clone"] == {"payments_app"}
    assert db.passwords["payments_app"] == "old-pass"  # the current user keeps working
    changes = [(user, sql.split(" WITH ")[0]) for user, sql in db.statements if not sql.startswith("SELECT")]
    assert changes == [
        ("cluster_admin", "START TRANSACTION"),
        ("cluster_admin", 'CREATE ROLE "payments_app_clone"'),
        ("cluster_admin", 'GRANT "payments_app" TO "payments_app_clone"'),
        ("cluster_admin", "COMMIT"),
    ]

    assert run(handler, secret, TOKEN, "testSecret") == "tested"
    assert db.statements[-1] == ("payments_app_clone", "SELECT 1")

    assert run(handler, secret, TOKEN, "finishSecret") == "finished"
    assert "AWSCURRENT" in stages(client, secret)[TOKEN]
    assert value(client, secret)["username"] == "payments_app_clone"
    assert value(client, secret, VersionStage="AWSPREVIOUS")["username"] == "payments_app"


def test_the_next_rotation_alternates_back_and_changes_only_the_other_user(
    handler: ModuleType, client: Any, secret: str, db: Any
) -> None:
    for step in STEPS:
        run(handler, secret, TOKEN, step)
    clone_password = db.passwords["payments_app_clone"]
    rotate(client, secret, TOKEN2)
    assert run(handler, secret, TOKEN2, "createSecret") == "created"
    assert run(handler, secret, TOKEN2, "setSecret") == "set"
    pending = value(client, secret, VersionId=TOKEN2, VersionStage="AWSPENDING")
    assert pending["username"] == "payments_app"
    assert db.passwords["payments_app"] == pending["password"] != "old-pass"
    assert db.passwords["payments_app_clone"] == clone_password
    for step in ("testSecret", "finishSecret"):
        run(handler, secret, TOKEN2, step)
    assert value(client, secret)["username"] == "payments_app"


def test_create_secret_through_the_handler_is_idempotent(handler: ModuleType, client: Any, secret: str) -> None:
    assert run(handler, secret, TOKEN, "createSecret") == "created"
    first = value(client, secret, VersionId=TOKEN, VersionStage="AWSPENDING")
    assert run(handler, secret, TOKEN, "createSecret") == "pending_exists"
    assert value(client, secret, VersionId=TOKEN, VersionStage="AWSPENDING") == first


def test_a_retried_set_secret_changes_nothing(handler: ModuleType, secret: str, db: Any) -> None:
    run(handler, secret, TOKEN, "createSecret")
    assert run(handler, secret, TOKEN, "setSecret") == "created_user"
    before = (dict(db.passwords), len([s for s in db.statements if not s[1].startswith("SELECT")]))
    assert run(handler, secret, TOKEN, "setSecret") == "already_set"
    assert (db.passwords, len([s for s in db.statements if not s[1].startswith("SELECT")])) == before


def test_set_secret_retried_after_a_failed_attempt_completes(
    handler: ModuleType, client: Any, secret: str, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    run(handler, secret, TOKEN, "createSecret")
    db.fail("GRANT")
    with pytest.raises(handler.RotationError, match="refused the new password for 'payments_app_clone': 42501"):
        run(handler, secret, TOKEN, "setSecret")
    # The transaction was rolled back: no user without its membership is left behind.
    assert "payments_app_clone" not in db.passwords
    assert any(r.levelname == "ERROR" and r.getMessage() == "rotation step failed" for r in caplog.records)
    assert run(handler, secret, TOKEN, "setSecret") == "created_user"
    assert db.members["payments_app_clone"] == {"payments_app"}
    assert "AWSCURRENT" not in stages(client, secret)[TOKEN]


def test_a_failed_test_secret_leaves_current_in_place(
    handler: ModuleType, client: Any, secret: str, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    run(handler, secret, TOKEN, "createSecret")
    run(handler, secret, TOKEN, "setSecret")
    db.passwords["payments_app_clone"] = "changed-behind-our-back"
    with pytest.raises(handler.RotationError, match="cannot log in with the pending credentials"):
        run(handler, secret, TOKEN, "testSecret")
    assert any(r.levelname == "ERROR" and getattr(r, "step", None) == "testSecret" for r in caplog.records)
    assert "AWSCURRENT" not in stages(client, secret)[TOKEN]
    assert value(client, secret)["username"] == "payments_app"


def test_set_secret_fails_when_the_current_credentials_do_not_log_in(handler: ModuleType, secret: str, db: Any) -> None:
    run(handler, secret, TOKEN, "createSecret")
    db.passwords["payments_app"] = "someone-changed-it"
    with pytest.raises(handler.RotationError, match="cannot log in with the current credentials"):
        run(handler, secret, TOKEN, "setSecret")
    assert "payments_app_clone" not in db.passwords


def test_set_secret_fails_when_the_master_secret_does_not_log_in(handler: ModuleType, secret: str, db: Any) -> None:
    run(handler, secret, TOKEN, "createSecret")
    db.passwords["cluster_admin"] = "rotated-elsewhere"
    with pytest.raises(handler.RotationError, match="cannot log in with the master secret"):
        run(handler, secret, TOKEN, "setSecret")


def test_create_secret_fails_without_a_master_secret(handler: ModuleType, client: Any) -> None:
    arn = client.create_secret(Name="no-master", SecretString=json.dumps(ORIGINAL))["ARN"]
    rotate(client, arn, TOKEN)
    with pytest.raises(handler.RotationError, match="lacks masterarn"):
        run(handler, arn, TOKEN, "createSecret")


def test_set_secret_fails_when_the_pending_user_is_not_the_alternate(
    handler: ModuleType, client: Any, secret: str, db: Any
) -> None:
    client.put_secret_value(
        SecretId=secret,
        ClientRequestToken=TOKEN,
        SecretString=json.dumps({**value(client, secret), "username": "cluster_admin", "password": "x"}),
        VersionStages=["AWSPENDING"],
    )
    with pytest.raises(handler.RotationError, match="is not the alternate of current user 'payments_app'"):
        run(handler, secret, TOKEN, "setSecret")
    assert db.passwords["cluster_admin"] == "master-pass"


@pytest.mark.parametrize(("username", "expected"), [("app", "app_clone"), ("app_clone", "app")])
def test_alternate_username(handler: ModuleType, username: str, expected: str) -> None:
    assert handler.alternate_username(username) == expected


def test_fails_when_the_clone_name_is_too_long(handler: ModuleType) -> None:
    with pytest.raises(handler.RotationError, match="too long"):
        handler.alternate_username("u" * 58)


def test_finish_secret_when_already_current_does_nothing(handler: ModuleType, client: Any, secret: str) -> None:
    current = next(v for v, s in stages(client, secret).items() if "AWSCURRENT" in s)
    assert run(handler, secret, current, "finishSecret") == "already_current"


@pytest.mark.parametrize("step", STEPS)
def test_fails_when_the_version_is_not_pending(handler: ModuleType, client: Any, secret: str, step: str) -> None:
    client.put_secret_value(
        SecretId=secret, ClientRequestToken=TOKEN2, SecretString=json.dumps(ORIGINAL), VersionStages=["SOMETHINGELSE"]
    )
    with pytest.raises(handler.RotationError, match="is not staged AWSPENDING"):
        run(handler, secret, TOKEN2, step)


def test_fails_for_an_unknown_version(handler: ModuleType, secret: str) -> None:
    with pytest.raises(handler.RotationError, match="has no stage for rotation"):
        run(handler, secret, "00000000-0000-0000-0000-000000000000", "createSecret")


def test_fails_when_rotation_is_not_enabled(handler: ModuleType, client: Any) -> None:
    arn = client.create_secret(Name="no-rotation", SecretString=json.dumps(ORIGINAL))["ARN"]
    with pytest.raises(handler.RotationError, match="does not have rotation enabled"):
        run(handler, arn, TOKEN, "createSecret")


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
    rotate(client, arn, TOKEN)
    with pytest.raises(handler.RotationError, match=message):
        run(handler, arn, TOKEN, "createSecret")


def test_fails_on_an_aws_error(handler: ModuleType) -> None:
    with pytest.raises(handler.RotationError, match="Secrets Manager error"):
        run(handler, "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:missing-AbCdEf", TOKEN, "createSecret")


@pytest.mark.requirement("PCI-C6")
def test_every_connection_verifies_certificate_and_host_name(
    handler: ModuleType, secret: str, db: Any, certificates: Any
) -> None:
    for step in STEPS:
        run(handler, secret, TOKEN, step)
    contexts = [login["ssl_context"] for login in db.logins]
    assert len(contexts) >= 4
    for context in contexts:
        assert context.verify_mode == handler.ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert context.minimum_version >= handler.ssl.TLSVersion.TLSv1_2
    assert {login["user"] for login in db.logins} == {"cluster_admin", "payments_app", "payments_app_clone"}


def test_fails_without_a_ca_bundle(
    handler: ModuleType, client: Any, secret: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(handler, secret, TOKEN, "createSecret")
    monkeypatch.delenv("DB_CA_BUNDLE")
    with pytest.raises(
        handler.RotationError, match=r"not verified: the packaged bundle: no CA bundle file at .*rds-ca-bundle.pem"
    ):
        run(handler, secret, TOKEN, "setSecret")
    assert db.logins == []


@pytest.mark.parametrize(
    ("server", "reason"),
    [("tls_server", "certificate verify failed: self-signed certificate"), ("tls_server_other_host", "mismatch")],
)
def test_refuses_a_server_it_cannot_verify(
    handler: ModuleType,
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
    certificates: Any,
    request: pytest.FixtureRequest,
    server: str,
    reason: str,
) -> None:
    # The bundle holds only the other host's certificate: the first server's self-signed certificate
    # is not in it; the second's is, but for another host name.
    tls = request.getfixturevalue(server)
    monkeypatch.setenv("DB_CA_BUNDLE", str(certificates.other_host[0]))
    arn = make_secret(client, name="tls-check", host="127.0.0.1", port=tls.port)
    run(handler, arn, TOKEN, "createSecret")
    with pytest.raises(handler.RotationError, match=f"not verified.*{reason}"):
        run(handler, arn, TOKEN, "testSecret")
    assert tls.handshakes == []


def test_completes_the_handshake_with_the_bundle_and_host_name_that_match(
    handler: ModuleType, client: Any, tls_server: Any
) -> None:
    # The control: with its certificate in the bundle, the same server passes verification, and the
    # step fails only when the stand-in hangs up after the handshake.
    arn = make_secret(client, name="tls-check", host="127.0.0.1", port=tls_server.port)
    run(handler, arn, TOKEN, "createSecret")
    with pytest.raises(handler.RotationError, match="testSecret: database error"):
        run(handler, arn, TOKEN, "testSecret")
    assert len(tls_server.handshakes) == 1
