"""Rotate a PostgreSQL credential secret in Secrets Manager (single-user rotation).

Secrets Manager calls the function four times per rotation, with ``Step`` set to:

- ``createSecret``: store a new password under the ``AWSPENDING`` stage (idempotent).
- ``setSecret``: change the database user's password to the pending one, logging in with the
  current (or, after an interrupted rotation, the previous) credentials.
- ``testSecret``: log in with the pending credentials and run a query.
- ``finishSecret``: move ``AWSCURRENT`` to the pending version.

A step that cannot complete raises :class:`RotationError` (Secrets Manager then retries and finally
marks the rotation failed) after one ``ERROR`` log line, which the platform's metric filter counts.

The secret is JSON: ``engine`` (postgres), ``host``, ``port`` (default 5432), ``username``,
``password``, ``dbname`` (default ``postgres``). Connections always use TLS.

Environment:
    SECRETS_MANAGER_ENDPOINT  endpoint URL (the VPC interface endpoint's private DNS name). Default: boto3's.
    DB_HOST                   overrides the secret's ``host`` (for example the cluster endpoint).
    PASSWORD_LENGTH           length of generated passwords. Default 32.
    EXCLUDE_CHARACTERS        characters never used in passwords. Default: / @ " ' \\ and space.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from typing import Any

import boto3
import pg8000.native
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger("rotation")
LOGGER.setLevel(logging.INFO)

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
REQUIRED_KEYS = ("host", "username", "password")
DEFAULT_EXCLUDE = "/@\"'\\ "


class RotationError(Exception):
    """A rotation step cannot complete; the message says why."""


def _log(level: int, message: str, **fields: Any) -> None:
    LOGGER.log(level, message, extra=fields)


def _client() -> Any:
    endpoint = os.environ.get("SECRETS_MANAGER_ENDPOINT") or None
    return boto3.client("secretsmanager", endpoint_url=endpoint)


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Run one rotation step; return ``{"step": ..., "status": ...}`` or raise :class:`RotationError`."""
    try:
        arn, token, step = (event["SecretId"], event["ClientRequestToken"], event["Step"])
    except (KeyError, TypeError):
        _log(logging.ERROR, "invalid rotation event", event_keys=sorted(event) if isinstance(event, dict) else None)
        raise RotationError("event needs SecretId, ClientRequestToken and Step") from None
    if step not in STEPS:
        _log(logging.ERROR, "unknown rotation step", step=step, secret_arn=arn)
        raise RotationError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    client = _client()
    try:
        status = _run(client, arn, token, step)
    except RotationError as exc:
        _log(logging.ERROR, "rotation step failed", step=step, secret_arn=arn, reason=str(exc))
        raise
    except (ClientError, BotoCoreError) as exc:
        _log(logging.ERROR, "rotation step failed: AWS error", step=step, secret_arn=arn, reason=str(exc))
        raise RotationError(f"{step}: Secrets Manager error: {exc}") from exc
    _log(logging.INFO, "rotation step done", step=step, secret_arn=arn, status=status)
    return {"step": step, "status": status}


def _run(client: Any, arn: str, token: str, step: str) -> str:
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"secret {arn} does not have rotation enabled")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} has no stage for rotation of secret {arn}")
    if CURRENT in versions[token]:
        return "already_current"
    if PENDING not in versions[token]:
        raise RotationError(f"version {token} of secret {arn} is not staged AWSPENDING")
    step_function = {
        "createSecret": create_secret,
        "setSecret": set_secret,
        "testSecret": test_secret,
        "finishSecret": finish_secret,
    }[step]
    return step_function(client, arn, token)


def _secret(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, str] = {"SecretId": arn, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    value = client.get_secret_value(**kwargs)
    try:
        secret = json.loads(value["SecretString"])
    except (KeyError, TypeError, ValueError):
        raise RotationError(f"{stage} version of {arn} is not a JSON secret string") from None
    if not isinstance(secret, dict):
        raise RotationError(f"{stage} version of {arn} is not a JSON object")
    missing = [k for k in REQUIRED_KEYS if not secret.get(k)]
    if missing:
        raise RotationError(f"{stage} version of {arn} lacks {', '.join(missing)}")
    if secret.get("engine", "postgres") != "postgres":
        raise RotationError(f"{stage} version of {arn} is for engine {secret.get('engine')!r}, not postgres")
    return secret


def create_secret(client: Any, arn: str, token: str) -> str:
    """Store a new password as the pending version (unless it exists already)."""
    current = _secret(client, arn, CURRENT)
    try:
        _secret(client, arn, PENDING, token)
        return "pending_exists"
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    password = client.get_random_password(
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", "32")),
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", DEFAULT_EXCLUDE),
    )["RandomPassword"]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password}),
        VersionStages=[PENDING],
    )
    return "created"


def _connect(secret: dict[str, Any]) -> pg8000.native.Connection | None:
    """A TLS connection as the secret's user, or None when the database refuses the login."""
    context = ssl.create_default_context()
    # RDS certificates are signed by the RDS CA, which the Lambda trust store lacks unless bundled:
    # the connection is encrypted; set DB_CA_BUNDLE to verify the server as well.
    bundle = os.environ.get("DB_CA_BUNDLE")
    if bundle:
        context.load_verify_locations(cafile=bundle)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        return pg8000.native.Connection(
            user=secret["username"],
            password=secret["password"],
            host=os.environ.get("DB_HOST") or secret["host"],
            port=int(secret.get("port", 5432)),
            database=secret.get("dbname", "postgres"),
            ssl_context=context,
            timeout=10,
        )
    except (pg8000.native.DatabaseError, pg8000.native.InterfaceError, OSError) as exc:
        _log(logging.WARNING, "database login failed", user=secret["username"], reason=type(exc).__name__)
        return None


def set_secret(client: Any, arn: str, token: str) -> str:
    """Set the database password to the pending one."""
    pending = _secret(client, arn, PENDING, token)
    connection = _connect(pending)
    if connection is not None:
        connection.close()
        return "already_set"
    current = _secret(client, arn, CURRENT)
    if current["username"] != pending["username"]:
        raise RotationError(f"pending user {pending['username']!r} differs from current {current['username']!r}")
    connection = _connect(current)
    if connection is None:
        try:
            previous = _secret(client, arn, PREVIOUS)
        except ClientError:
            previous = None
        connection = _connect(previous) if previous else None
    if connection is None:
        raise RotationError(f"cannot log in to the database with the current or previous credentials of {arn}")
    try:
        connection.run(
            f"ALTER USER {pg8000.native.identifier(pending['username'])} "
            f"WITH PASSWORD {pg8000.native.literal(pending['password'])}"
        )
    except pg8000.native.DatabaseError as exc:
        raise RotationError(
            f"the database refused the new password for {pending['username']!r}: {_sqlstate(exc)}"
        ) from None
    finally:
        connection.close()
    return "set"


def _sqlstate(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else {}
    if isinstance(detail, dict):
        return f"{detail.get('C', '?')} {detail.get('M', '')}".strip()
    return type(exc).__name__


def test_secret(client: Any, arn: str, token: str) -> str:
    """Log in with the pending credentials and run a query."""
    pending = _secret(client, arn, PENDING, token)
    connection = _connect(pending)
    if connection is None:
        raise RotationError(f"cannot log in with the pending credentials of {arn}")
    try:
        connection.run("SELECT 1")
    finally:
        connection.close()
    return "tested"


def finish_secret(client: Any, arn: str, token: str) -> str:
    """Move ``AWSCURRENT`` to the pending version."""
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next((v for v, stages in versions.items() if CURRENT in stages), None)
    if current == token:
        return "already_current"
    client.update_secret_version_stage(
        SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current
    )
    return "finished"
