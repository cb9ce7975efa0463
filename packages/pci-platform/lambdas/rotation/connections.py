"""Verified TLS connections to the Aurora cluster, shared by the rotation and schema entry points.

Every connection checks the server's certificate chain against the RDS CA bundle and the server's
host name (``CERT_REQUIRED``, ``check_hostname``, TLS 1.2 or newer): a server that cannot prove it is
the cluster never sees a password. The RDS certificates are signed by the RDS CAs, which the Lambda
trust store does not hold, so the bundle is required: ``DB_CA_BUNDLE`` names it, else
``rds-ca-bundle.pem`` packaged next to this module is used; with neither, :class:`CaBundleMissing`
is raised before any connection is made.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import pg8000.native

BUNDLE_NAME = "rds-ca-bundle.pem"
PACKAGED_BUNDLE = Path(__file__).resolve().with_name(BUNDLE_NAME)
AUTHENTICATION_FAILED = frozenset({"28P01", "28000"})
"""SQLSTATEs of a refused login (invalid_password, invalid_authorization_specification)."""


class CaBundleMissing(RuntimeError):
    """No CA bundle to verify the database server with."""


class LoginRefused(Exception):
    """The server is the cluster (verified) and refused these credentials."""


def ca_bundle() -> Path:
    """The CA bundle file: ``DB_CA_BUNDLE``, else the packaged ``rds-ca-bundle.pem``."""
    configured = os.environ.get("DB_CA_BUNDLE")
    path = Path(configured) if configured else PACKAGED_BUNDLE
    if not path.is_file():
        source = "DB_CA_BUNDLE" if configured else "the packaged bundle"
        raise CaBundleMissing(
            f"{source}: no CA bundle file at {path}; set DB_CA_BUNDLE or package the RDS CA bundle "
            f"(global-bundle.pem) as {BUNDLE_NAME} with the function"
        )
    return path


def tls_context() -> ssl.SSLContext:
    """TLS 1.2+ verifying the server's certificate against :func:`ca_bundle` and its host name."""
    context = ssl.create_default_context(cafile=str(ca_bundle()))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The defaults already; set again so the connection never depends on them.
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def sqlstate(exc: Exception) -> str:
    """``"<SQLSTATE> <message>"`` of a server error, else the exception's type name."""
    detail = exc.args[0] if exc.args else {}
    if isinstance(detail, dict):
        return f"{detail.get('C', '?')} {detail.get('M', '')}".strip()
    return type(exc).__name__


def connect(secret: dict[str, Any], *, host: str | None = None, database: str | None = None) -> Any:
    """A verified TLS connection as the secret's user.

    ``host`` overrides the secret's (``DB_HOST``: the cluster endpoint). Raises :class:`LoginRefused`
    when the server refuses the credentials; a certificate, network or other server error propagates.
    """
    try:
        return pg8000.native.Connection(
            user=secret["username"],
            password=secret["password"],
            host=host or os.environ.get("DB_HOST") or secret["host"],
            port=int(secret.get("port", 5432)),
            database=database or secret.get("dbname", "postgres"),
            ssl_context=tls_context(),
            timeout=10,
        )
    except pg8000.native.DatabaseError as exc:
        if sqlstate(exc).split(" ", 1)[0] in AUTHENTICATION_FAILED:
            raise LoginRefused(f"login as {secret['username']!r} refused: {sqlstate(exc)}") from None
        raise
