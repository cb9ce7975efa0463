"""Create the payments schema and the application role once, at deploy time, never per request.

A second entry point of this bundle (``schema.handler``), which already carries the driver, the CA
bundle and the verified connections: the infrastructure invokes it once per schema version (for
example with Terraform's ``aws_lambda_invocation``, whose input carries :data:`SCHEMA_VERSION`).
It logs in as the master user (``MASTER_SECRET_ARN``) and, idempotently:

- creates the application role, the base user of the application secret (``APP_SECRET_ARN``, its
  ``AWSCURRENT`` username without ``_clone``), with that secret's password, when it does not exist;
- creates the ``payments`` table (and adds the columns an older table lacks) and the index that
  reconciliation uses to find payments stored without an answer;
- leaves the application role exactly ``SELECT, INSERT, UPDATE`` on ``payments``; the rotation's
  ``_clone`` user inherits them as a member of that role.

Every statement is ``IF NOT EXISTS`` or guarded, so a repeated invocation changes nothing.
Returns ``{"status": "applied", "version": SCHEMA_VERSION, "created_role": bool}``; a failure raises
:class:`SchemaError` after one ``ERROR`` log line (the invocation, and so the deployment, fails).

Environment:
    MASTER_SECRET_ARN         the cluster's master user secret (``username``, ``password``).
    APP_SECRET_ARN            the application user secret (``host``, ``username``, ``password``, ...).
    DB_HOST                   the cluster writer endpoint. Default: the application secret's ``host``.
    DB_NAME                   the database. Default: the application secret's ``dbname``, else ``payments``.
    DB_CA_BUNDLE              the RDS CA bundle. Default: ``rds-ca-bundle.pem`` packaged with the function.
    SECRETS_MANAGER_ENDPOINT  endpoint URL. Default: boto3's.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
import pg8000.native
from botocore.exceptions import BotoCoreError, ClientError
from connections import CaBundleMissing, LoginRefused, connect, sqlstate

LOGGER = logging.getLogger("schema")
LOGGER.setLevel(logging.INFO)

SCHEMA_VERSION = 2
CLONE_SUFFIX = "_clone"
TABLE = (
    "CREATE TABLE IF NOT EXISTS payments (payment_id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, "
    "amount NUMERIC(12,2) NOT NULL, currency CHAR(3) NOT NULL, card_token TEXT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)
COLUMNS = (
    "ALTER TABLE payments ADD COLUMN IF NOT EXISTS claimed_until TIMESTAMPTZ, "
    "ADD COLUMN IF NOT EXISTS queued_at TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS published_at TIMESTAMPTZ, "
    "ADD COLUMN IF NOT EXISTS streamed_at TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS response_status SMALLINT, "
    "ADD COLUMN IF NOT EXISTS response_body TEXT"
)
"""The payment handler's idempotency columns (its module docstring); added to a table of version 1."""
UNANSWERED_INDEX = (
    "CREATE INDEX IF NOT EXISTS payments_unanswered ON payments (created_at) WHERE response_status IS NULL"
)
ROLE_EXISTS = "SELECT 1 FROM pg_roles WHERE rolname = :name"
NO_PUBLIC_CREATE = "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
NO_PUBLIC_ACCESS = "REVOKE ALL ON payments FROM PUBLIC"


class SchemaError(Exception):
    """The schema cannot be applied; the message says why."""


def _secret(client: Any, arn: str, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        secret = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    except (KeyError, TypeError, ValueError):
        raise SchemaError(f"AWSCURRENT version of {arn} is not a JSON secret string") from None
    if not isinstance(secret, dict) or any(not secret.get(k) for k in keys):
        raise SchemaError(f"AWSCURRENT version of {arn} needs {', '.join(keys)}")
    return secret


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SchemaError(f"environment variable {name} is not set")
    return value


def statements(role: str, *, create_role_with: str | None) -> list[str]:
    """The schema's statements in order; ``create_role_with`` is the password when the role is new."""
    ident = pg8000.native.identifier(role)
    found = []
    if create_role_with is not None:
        found.append(f"CREATE ROLE {ident} WITH LOGIN PASSWORD {pg8000.native.literal(create_role_with)}")
    return [
        *found,
        NO_PUBLIC_CREATE,
        TABLE,
        COLUMNS,
        UNANSWERED_INDEX,
        NO_PUBLIC_ACCESS,
        f"REVOKE ALL ON payments FROM {ident}",
        f"GRANT SELECT, INSERT, UPDATE ON payments TO {ident}",
    ]


def apply(client: Any) -> dict[str, Any]:
    """Apply the schema (module docstring)."""
    master = _secret(client, _setting("MASTER_SECRET_ARN"), ("username", "password"))
    app = _secret(client, _setting("APP_SECRET_ARN"), ("host", "username", "password"))
    role = app["username"].removesuffix(CLONE_SUFFIX)
    database = os.environ.get("DB_NAME") or app.get("dbname") or "payments"
    try:
        connection = connect({**app, **master, "host": app["host"]}, database=database)
    except LoginRefused as exc:
        raise SchemaError(f"cannot log in with the master secret: {exc}") from None
    try:
        new_role = not connection.run(ROLE_EXISTS, name=role)
        if new_role and role != app["username"]:
            raise SchemaError(f"role {role!r} is missing while the application secret names {app['username']!r}")
        connection.run("START TRANSACTION")
        try:
            for sql in statements(role, create_role_with=app["password"] if new_role else None):
                connection.run(sql)
            connection.run("COMMIT")
        except pg8000.native.DatabaseError:
            connection.run("ROLLBACK")
            raise
    finally:
        connection.close()
    return {"status": "applied", "version": SCHEMA_VERSION, "created_role": new_role}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Apply the schema once; raise :class:`SchemaError` so the deployment's invocation fails loudly."""
    client = boto3.client("secretsmanager", endpoint_url=os.environ.get("SECRETS_MANAGER_ENDPOINT") or None)
    try:
        result = apply(client)
    except SchemaError as exc:
        LOGGER.error("schema not applied", extra={"reason": str(exc)})
        raise
    except CaBundleMissing as exc:
        LOGGER.error("schema not applied", extra={"reason": str(exc)})
        raise SchemaError(f"schema version {SCHEMA_VERSION} not applied: {exc}") from exc
    except (ClientError, BotoCoreError, pg8000.native.DatabaseError, pg8000.native.InterfaceError, OSError) as exc:
        reason = sqlstate(exc) if isinstance(exc, pg8000.native.DatabaseError) else f"{type(exc).__name__}: {exc}"
        LOGGER.error("schema not applied", extra={"reason": reason})
        raise SchemaError(f"schema version {SCHEMA_VERSION} not applied: {reason}") from exc
    LOGGER.info("schema applied", extra=result)
    return result
