"""Each handler's main path, run as its deployed function's role with IAM enforced.

The emulator has no PostgreSQL behind RDS Proxy or the cluster: the payment and rotation handlers
get a stand-in for pg8000's connection; every AWS call they make goes to the emulator as the role.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import uuid
from pathlib import Path
from typing import Any

import certifi
import pg8000.native
import pytest
from platform_tooling.testing.emulator import Deployment
from platform_tooling.testing.handlers import load_handler

pytestmark = [
    pytest.mark.emulator,
    # See test_deployed.py: moto's Lambda runner leaks a socket when the rotation schedule is attached.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PACKAGE_DIR = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"


class FakeDatabase:
    """Stands in for pg8000's connection and records logins and statements. A new payment's insert
    returns its id (the row is claimed); a user in ``refused`` cannot log in until a ``CREATE ROLE``
    or ``ALTER ROLE`` runs; other statements return no rows."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.logins: list[dict[str, Any]] = []
        self.refused: set[str] = set()

    def connect(self, **kwargs: Any) -> FakeDatabase:
        self.logins.append(kwargs)
        if kwargs["user"] in self.refused:
            raise pg8000.native.DatabaseError({"C": "28P01", "M": "password authentication failed"})
        return self

    def run(self, sql: str, **params: Any) -> list[Any]:
        self.statements.append(sql)
        if sql.startswith(("CREATE ROLE", "ALTER ROLE")):
            self.refused.clear()
        if sql.startswith("INSERT INTO payments") and "RETURNING" in sql:
            return [[params["payment_id"]]]
        return []

    def close(self) -> None:
        pass


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> FakeDatabase:
    fake = FakeDatabase()
    monkeypatch.setattr(pg8000.native, "Connection", fake.connect)
    return fake


def verified(login: dict[str, Any]) -> bool:
    context = login["ssl_context"]
    return bool(context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname)


@pytest.fixture
def ca_bundle_stand_in(monkeypatch: pytest.MonkeyPatch) -> Path:
    """certifi's CA file (the fake database checks no certificate) standing in for the RDS CA
    bundle that the operator packages with the rotation function (README, operator steps); the
    rotation refuses to connect without one."""
    bundle = Path(certifi.where())
    connections = load_handler(PACKAGE_DIR / "lambdas" / "rotation", "connections")
    monkeypatch.setattr(connections, "PACKAGED_BUNDLE", bundle)
    # The handler imports its sibling module by name: it finds this one.
    monkeypatch.setitem(sys.modules, "connections", connections)
    return bundle


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return data


def test_payment_is_stored_queued_published_and_logged_as_its_role(
    deployment: Deployment, outputs: dict[str, Any], database: FakeDatabase
) -> None:
    payment = {
        "payment_id": f"pay_{uuid.uuid4().hex[:12]}",
        "amount": "12.50",
        "currency": "SGD",
        "card_token": "tok_abcdef123456",
        "merchant_id": "m-42",
    }
    event = {"httpMethod": "POST", "path": "/payments", "isBase64Encoded": False, "body": json.dumps(payment)}
    answer = deployment.run_handler(outputs["payment_function_arn"], event, folder="payment")
    assert answer["statusCode"] == 201, answer["body"]
    assert json.loads(answer["body"])["warnings"] == []  # queue, event and stream all accepted the role
    assert any(s.startswith("INSERT") for s in database.statements)
    # As the application user (never the master), the proxy's certificate and host name verified.
    application_user = json.loads(
        deployment.client("secretsmanager", REGION).get_secret_value(SecretId=outputs["database_secret_arn"])[
            "SecretString"
        ]
    )["username"].removesuffix("_clone")
    assert [login["user"] for login in database.logins] == [application_user]
    assert all(verified(login) for login in database.logins)
    messages = deployment.client("sqs", REGION).receive_message(QueueUrl=outputs["payment_queue_url"])["Messages"]
    assert payment["payment_id"] in {json.loads(m["Body"])["payment_id"] for m in messages}


def test_processor_truncates_card_numbers_as_its_role(deployment: Deployment, outputs: dict[str, Any]) -> None:
    key = f"incoming/it-{uuid.uuid4().hex[:8]}.jsonl"
    deployment.client("s3", REGION).put_object(
        Bucket=outputs["cardholder_bucket_name"],
        Key=key,
        Body=b'{"pan": "4111111111111111", "name": "A"}\n',
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=outputs["cardholder_key_arn"],
    )
    notification = {"s3": {"bucket": {"name": outputs["cardholder_bucket_name"]}, "object": {"key": key}}}
    answer = deployment.run_handler(outputs["processor_function_arn"], {"Records": [notification]}, folder="processor")
    assert answer["failed"] == []
    (processed,) = answer["processed"]
    written = deployment.client("s3", REGION).get_object(Bucket=outputs["processed_bucket_name"], Key=processed["key"])
    assert json.loads(written["Body"].read())["pan"] == "411111******1111"


def test_transformer_publishes_its_record_metrics_as_its_role(deployment: Deployment, outputs: dict[str, Any]) -> None:
    data = base64.b64encode(json.dumps({"payment_id": "pay_1", "card_token": "tok_x"}).encode()).decode()
    answer = deployment.run_handler(
        outputs["transformer_function_arn"], {"records": [{"recordId": "1", "data": data}]}, folder="transformer"
    )
    assert [r["result"] for r in answer["records"]] == ["Ok"]
    metrics = deployment.client("cloudwatch", REGION).list_metrics(Namespace="PciPlatform/dev")["Metrics"]
    assert "TransformRecordsOk" in {m["MetricName"] for m in metrics}  # the role may publish them


def test_schema_step_creates_the_application_role_and_table_as_its_role(
    deployment: Deployment, outputs: dict[str, Any], database: FakeDatabase, ca_bundle_stand_in: Path
) -> None:
    """What Terraform's invocation runs (moto cannot invoke it): the deployed function's handler, as
    its role, reading both secrets; before the rotation test, so the secret still names the base user."""
    result = deployment.run_handler(outputs["schema_function_arn"], {"step": "schema"}, folder="rotation")
    assert (result["status"], result["created_role"]) == ("applied", True)
    secrets = deployment.client("secretsmanager", REGION)
    current = json.loads(secrets.get_secret_value(SecretId=outputs["database_secret_arn"])["SecretString"])
    master = json.loads(secrets.get_secret_value(SecretId=current["masterarn"])["SecretString"])
    assert [login["user"] for login in database.logins] == [master["username"]]
    assert any(s.startswith(f'CREATE ROLE "{current["username"]}"') for s in database.statements)
    assert any(s.startswith("CREATE TABLE IF NOT EXISTS payments") for s in database.statements)
    assert all(verified(login) for login in database.logins)


def test_rotation_creates_the_alternate_user_and_finishes_as_its_role(
    deployment: Deployment, outputs: dict[str, Any], database: FakeDatabase, ca_bundle_stand_in: Path
) -> None:
    """Secrets Manager's four steps on a version staged AWSPENDING (as RotateSecret stages one) for
    the alternate user, which does not exist yet: the role reads the master secret to create it."""
    secrets = deployment.client("secretsmanager", REGION)
    arn = outputs["database_secret_arn"]
    current = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    token = str(uuid.uuid4())
    clone = f"{current['username']}_clone"
    database.refused.add(clone)
    pending = json.dumps({**current, "username": clone, "password": "rotated-in-the-test"})
    secrets.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=pending, VersionStages=["AWSPENDING"])
    steps = [
        deployment.run_handler(
            outputs["rotation_function_arn"],
            {"SecretId": arn, "ClientRequestToken": token, "Step": step},
            folder="rotation",
        )["status"]
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret")
    ]
    assert steps == ["pending_exists", "created_user", "tested", "finished"]
    stages = secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[token]
    master = json.loads(secrets.get_secret_value(SecretId=current["masterarn"])["SecretString"])
    assert master["username"] in {login["user"] for login in database.logins}
    assert any(s.startswith("CREATE ROLE") for s in database.statements)
    assert all(verified(login) for login in database.logins)
