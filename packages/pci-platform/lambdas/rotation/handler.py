"""Rotate the application's PostgreSQL credential secret with alternating users.

The rotation AWS documents for a database user the application logs in as: the secret's user
alternates between ``<user>`` and ``<user>_clone``, so the credentials in ``AWSCURRENT`` keep
working while the other user's password changes. The master user, from the secret named by the
application secret's ``masterarn``, changes the other user's password (and creates that user on the
first rotation, as a member of the current one, so it has the same privileges). The application
never logs in as the master user.

Secrets Manager calls the function four times per rotation, with ``Step`` set to:

- ``createSecret``: store the other user and a new password under ``AWSPENDING`` (idempotent).
- ``setSecret``: as the master user, create the pending user (member of the current one) or set its
  password, in one transaction; nothing to do when the pending credentials already log in, so a
  retried step changes nothing.
- ``testSecret``: log in with the pending credentials and run a query.
- ``finishSecret``: move ``AWSCURRENT`` to the pending version.

Before a step runs, the version's stages are checked as AWS's rotation template does: rotation
enabled, the token staged for this secret, nothing to do when it is already ``AWSCURRENT``, and
``AWSPENDING`` otherwise. A step that cannot complete raises :class:`RotationError` (Secrets
Manager retries, then marks the rotation failed, ``AWSCURRENT`` unchanged) after one ``ERROR`` log
line, which the platform's metric filter counts.

The secret is JSON: ``engine`` (postgres), ``host``, ``port`` (default 5432), ``username``,
``password``, ``dbname`` (default ``postgres``), ``masterarn``. The master secret needs
``username`` and ``password``; its ``host``, when present, must be the application secret's.
Connections verify the server certificate and host name (``connections.py``).

Environment:
    SECRETS_MANAGER_ENDPOINT  endpoint URL (the VPC interface endpoint's private DNS name). Default: boto3's.
    DB_HOST                   overrides the secrets' ``host`` (the cluster endpoint; must match its certificate).
    DB_CA_BUNDLE              the RDS CA bundle. Default: ``rds-ca-bundle.pem`` packaged with the function.
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
from connections import CaBundleMissing, LoginRefused, connect, sqlstate

LOGGER = logging.getLogger("rotation")
LOGGER.setLevel(logging.INFO)

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
REQUIRED_KEYS = ("host", "username", "password")
MASTER_KEYS = ("username", "password")
DEFAULT_EXCLUDE = "/@\"'\\ "
CLONE_SUFFIX = "_clone"
MAX_USERNAME = 63
DATABASE_ERRORS = (pg8000.native.DatabaseError, pg8000.native.InterfaceError, OSError)


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
    except (CaBundleMissing, ssl.SSLCertVerificationError) as exc:
        _log(logging.ERROR, "rotation step failed: database server not verified", step=step, secret_arn=arn)
        raise RotationError(f"{step}: the database server was not verified: {exc}") from exc
    except DATABASE_ERRORS as exc:
        _log(logging.ERROR, "rotation step failed: database error", step=step, secret_arn=arn, reason=sqlstate(exc))
        raise RotationError(f"{step}: database error: {sqlstate(exc)}") from exc
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


def _secret(
    client: Any, arn: str, stage: str, token: str | None = None, required: tuple[str, ...] = REQUIRED_KEYS
) -> dict[str, Any]:
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
    missing = [k for k in required if not secret.get(k)]
    if missing:
        raise RotationError(f"{stage} version of {arn} lacks {', '.join(missing)}")
    if secret.get("engine", "postgres") != "postgres":
        raise RotationError(f"{stage} version of {arn} is for engine {secret.get('engine')!r}, not postgres")
    return secret


def _pending(client: Any, arn: str, token: str) -> dict[str, Any] | None:
    """The pending version's value, or None while Secrets Manager has only staged the token."""
    try:
        value = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    if "SecretString" not in value and "SecretBinary" not in value:
        return None
    return _secret(client, arn, PENDING, token)


def alternate_username(username: str) -> str:
    """``<user>_clone`` for ``<user>`` and back: the user the next rotation changes."""
    if username.endswith(CLONE_SUFFIX):
        return username.removesuffix(CLONE_SUFFIX)
    if len(username) + len(CLONE_SUFFIX) > MAX_USERNAME:
        raise RotationError(f"user {username!r} is too long to add {CLONE_SUFFIX!r} (PostgreSQL allows {MAX_USERNAME})")
    return username + CLONE_SUFFIX


def create_secret(client: Any, arn: str, token: str) -> str:
    """Store the other user with a new password as the pending version (unless it exists already)."""
    current = _secret(client, arn, CURRENT)
    if not current.get("masterarn"):
        raise RotationError(f"AWSCURRENT version of {arn} lacks masterarn: the master secret that changes its users")
    if _pending(client, arn, token) is not None:
        return "pending_exists"
    password = client.get_random_password(
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", "32")),
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", DEFAULT_EXCLUDE),
    )["RandomPassword"]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "username": alternate_username(current["username"]), "password": password}),
        VersionStages=[PENDING],
    )
    return "created"


def _logs_in(secret: dict[str, Any]) -> bool:
    try:
        connect(secret).close()
    except LoginRefused:
        return False
    return True


def set_secret(client: Any, arn: str, token: str) -> str:
    """As the master user, give the pending user the pending password (creating the user if needed)."""
    pending = _secret(client, arn, PENDING, token)
    if _logs_in(pending):
        return "already_set"
    current = _secret(client, arn, CURRENT)
    if pending["username"] != alternate_username(current["username"]):
        raise RotationError(
            f"pending user {pending['username']!r} is not the alternate of current user {current['username']!r}"
        )
    if pending["host"] != current["host"]:
        raise RotationError(f"pending host {pending['host']!r} differs from current host {current['host']!r}")
    if not _logs_in(current):
        raise RotationError(f"cannot log in with the current credentials of {arn}")
    master = _secret(client, current["masterarn"], CURRENT, required=MASTER_KEYS)
    if master.get("host") and master["host"] != current["host"]:
        raise RotationError(f"master secret host {master['host']!r} is not the application's {current['host']!r}")
    try:
        connection = connect({**current, **master}, database=current.get("dbname"))
    except LoginRefused:
        raise RotationError(f"cannot log in with the master secret {current['masterarn']}") from None
    try:
        return _set_password(connection, current["username"], pending)
    finally:
        connection.close()


def _set_password(connection: Any, current_user: str, pending: dict[str, Any]) -> str:
    user = pg8000.native.identifier(pending["username"])
    password = pg8000.native.literal(pending["password"])
    exists = connection.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=pending["username"])
    # One transaction: a retry never finds the user created without its membership.
    connection.run("START TRANSACTION")
    try:
        if exists:
            connection.run(f"ALTER ROLE {user} WITH PASSWORD {password}")
        else:
            connection.run(f"CREATE ROLE {user} WITH LOGIN PASSWORD {password}")
            connection.run(f"GRANT {pg8000.native.identifier(current_user)} TO {user}")
        connection.run("COMMIT")
    except pg8000.native.DatabaseError as exc:
        connection.run("ROLLBACK")
        raise RotationError(
            f"the database refused the new password for {pending['username']!r}: {sqlstate(exc)}"
        ) from None
    return "set" if exists else "created_user"


def test_secret(client: Any, arn: str, token: str) -> str:
    """Log in with the pending credentials and run a query."""
    pending = _secret(client, arn, PENDING, token)
    try:
        connection = connect(pending)
    except LoginRefused as exc:
        raise RotationError(f"cannot log in with the pending credentials of {arn}: {exc}") from None
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
