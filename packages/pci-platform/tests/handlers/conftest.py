"""Database stand-ins of the handler tests: a local TLS server with a self-signed certificate (to prove
connections verify it), an in-memory PostgreSQL for the rotation and schema entry points, and the
payments table as the payment handler's statements see it."""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pg8000.native
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto import mock_aws

LOOPBACK = "127.0.0.1"
REGION = "ap-southeast-1"


def self_signed(folder: Path, name: str, *, dns: str | None = None, ip: str | None = None) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for ``dns`` and/or ``ip``, written under ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns or ip or name)])
    names: list[x509.GeneralName] = []
    if dns:
        names.append(x509.DNSName(dns))
    if ip:
        names.append(x509.IPAddress(ipaddress.ip_address(ip)))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class TlsServer:
    """Answers PostgreSQL's SSLRequest with ``S``, then completes a TLS handshake, then hangs up."""

    certificate: Path
    key: Path
    port: int = 0
    handshakes: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def serve(self, listener: socket.socket, stop: threading.Event) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                try:
                    connection.settimeout(5)
                    connection.recv(8)  # length + SSLRequest code
                    connection.sendall(b"S")
                    with context.wrap_socket(connection, server_side=True) as tls:
                        self.handshakes.append(tls.version() or "?")
                except (OSError, ssl.SSLError) as exc:
                    # The client aborted the handshake: it did not accept the certificate.
                    self.refusals.append(type(exc).__name__)


@dataclass
class Certificates:
    """Self-signed certificates: one valid for 127.0.0.1, one for another host name."""

    loopback: tuple[Path, Path]
    other_host: tuple[Path, Path]


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return Certificates(
        loopback=self_signed(tmp_path, "loopback", dns="localhost", ip=LOOPBACK),
        other_host=self_signed(tmp_path, "other", dns="db.other.internal"),
    )


def _serve(certificate: Path, key: Path) -> Iterator[TlsServer]:
    server = TlsServer(certificate, key)
    stop = threading.Event()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        listener.settimeout(0.2)
        server.port = listener.getsockname()[1]
        thread = threading.Thread(target=server.serve, args=(listener, stop), daemon=True)
        thread.start()
        yield server
        stop.set()
        thread.join(timeout=5)


@pytest.fixture
def tls_server(certificates: Certificates) -> Iterator[TlsServer]:
    """A server on 127.0.0.1 presenting a self-signed certificate valid for 127.0.0.1."""
    yield from _serve(*certificates.loopback)


@pytest.fixture
def tls_server_other_host(certificates: Certificates) -> Iterator[TlsServer]:
    """A server on 127.0.0.1 presenting a self-signed certificate for another host name."""
    yield from _serve(*certificates.other_host)


@pytest.fixture
def point_db_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[TlsServer, Path | None], None]:
    """Point the handler's database settings at ``server``, trusting ``bundle`` (None: no bundle)."""

    def point(server: TlsServer, bundle: Path | None) -> None:
        monkeypatch.setenv("DB_HOST", "127.0.0.1")
        monkeypatch.setenv("DB_PORT", str(server.port))
        if bundle is None:
            monkeypatch.delenv("DB_CA_BUNDLE", raising=False)
        else:
            monkeypatch.setenv("DB_CA_BUNDLE", str(bundle))

    return point


class PostgresFake:
    """PostgreSQL as the rotation and schema entry points use it: roles, passwords, memberships,
    transactions; logins and statements are recorded, a statement can be made to fail."""

    ROLE = re.compile(r'^(?P<verb>CREATE|ALTER) ROLE "(?P<user>[^"]+)" WITH (?:LOGIN )?PASSWORD \'(?P<password>.*)\'$')
    GRANT_ROLE = re.compile(r'^GRANT "(?P<role>[^"]+)" TO "(?P<member>[^"]+)"$')

    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = dict(passwords)
        self.members: dict[str, set[str]] = {}
        self.logins: list[dict[str, Any]] = []
        self.statements: list[tuple[str, str]] = []
        self.fail_on: dict[str, int] = {}
        self._snapshot: tuple[dict[str, str], dict[str, set[str]]] | None = None

    def fail(self, prefix: str, times: int = 1) -> None:
        """The next ``times`` statements starting with ``prefix`` fail (a server error)."""
        self.fail_on[prefix] = times

    def connect(self, **kwargs: Any) -> _FakeConnection:
        self.logins.append(kwargs)
        if self.passwords.get(kwargs["user"]) != kwargs["password"]:
            raise pg8000.native.DatabaseError({"C": "28P01", "M": "password authentication failed"})
        return _FakeConnection(self, kwargs["user"])

    def run(self, user: str, sql: str, params: dict[str, Any]) -> list[list[int]]:
        self.statements.append((user, sql))
        for prefix, times in self.fail_on.items():
            if sql.startswith(prefix) and times:
                self.fail_on[prefix] = times - 1
                raise pg8000.native.DatabaseError({"C": "42501", "M": "permission denied"})
        if sql == "SELECT 1 FROM pg_roles WHERE rolname = :name":
            return [[1]] if params["name"] in self.passwords else []
        if sql == "START TRANSACTION":
            self._snapshot = (dict(self.passwords), {k: set(v) for k, v in self.members.items()})
        elif sql in ("COMMIT", "ROLLBACK"):
            if sql == "ROLLBACK" and self._snapshot:
                self.passwords, self.members = self._snapshot
            self._snapshot = None
        elif role := self.ROLE.match(sql):
            if (role["verb"] == "CREATE") == (role["user"] in self.passwords):
                raise pg8000.native.DatabaseError({"C": "42710", "M": f"role {role['user']} exists or is missing"})
            self.passwords[role["user"]] = role["password"].replace("''", "'")
        elif grant := self.GRANT_ROLE.match(sql):
            self.members.setdefault(grant["member"], set()).add(grant["role"])
        return [[1]]


class _FakeConnection:
    def __init__(self, db: PostgresFake, user: str) -> None:
        self.db = db
        self.user = user

    def run(self, sql: str, **params: Any) -> list[list[int]]:
        return self.db.run(self.user, sql, params)

    def close(self) -> None:
        pass


@pytest.fixture
def postgres(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], PostgresFake]:
    """Replace pg8000's connection by a :class:`PostgresFake` with the given users and passwords."""

    def install(passwords: dict[str, str]) -> PostgresFake:
        db = PostgresFake(passwords)
        monkeypatch.setattr(pg8000.native, "Connection", db.connect)
        return db

    return install


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> str:
    """Dummy credentials and the region for moto in-process; returns the region."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    return REGION


class PaymentsFake:
    """The payments table as the handler's statements see it; any other statement fails the test."""

    def __init__(
        self,
        handler: ModuleType,
        *,
        fail_connect: bool = False,
        fail_on: tuple[str, ...] = (),
        proxy_users: tuple[str, ...] = ("payments_app", "payments_app_clone"),
    ) -> None:
        self.sql = handler
        self.fail_connect = fail_connect
        self.proxy_users = set(proxy_users)
        """The users RDS Proxy holds credentials for (the application secret's current user)."""
        self.fail_on = set(fail_on)
        self.now = 1000.0
        self.rows: dict[str, dict[str, Any]] = {}
        self.logins: list[dict[str, Any]] = []
        self.statements: list[str] = []

    def connect(self, **kwargs: Any) -> PaymentsFake:
        self.logins.append(kwargs)
        if self.fail_connect:
            raise pg8000.native.InterfaceError("connection refused")
        if kwargs["user"] not in self.proxy_users:
            raise pg8000.native.DatabaseError({"C": "28000", "M": f"no credentials for the role {kwargs['user']}"})
        return self

    def expire_lease(self, payment_id: str) -> None:
        """Time passes beyond the lease of ``payment_id`` (a crashed attempt's lease runs out)."""
        self.rows[payment_id]["claimed_until"] = self.now - 1

    def run(self, sql: str, **params: Any) -> list[Any]:
        self.statements.append(sql)
        if sql in self.fail_on:
            raise pg8000.native.DatabaseError({"C": "53300", "M": "too many connections"})
        row = self.rows.get(params.get("payment_id", ""))
        if sql == self.sql.CLAIM:
            if row:
                return []
            stored = {k: params[k] for k in ("merchant_id", "currency", "card_token")}
            self.rows[params["payment_id"]] = stored | {
                "amount": Decimal(params["amount"]),
                "claimed_until": self.now + params["lease"],
                "status": None,
                "body": None,
                "queue": False,
                "event": False,
                "stream": False,
            }
            return [[params["payment_id"]]]
        assert row is not None, f"{sql} on a payment that was never stored"
        if sql == self.sql.READ:
            keys = ("merchant_id", "amount", "currency", "card_token", "status", "body", "queue", "event", "stream")
            return [[row[k] for k in keys]]
        if sql == self.sql.TAKE_OVER:
            if row["status"] is not None or (row["claimed_until"] or 0) >= self.now:
                return []
            row["claimed_until"] = self.now + params["lease"]
            return [[params["payment_id"]]]
        for step, mark in self.sql.MARKS.items():
            if sql == mark:
                row[step] = True
                return []
        if sql == self.sql.RECORD:
            row.update(status=params["status"], body=params["body"], claimed_until=None)
        elif sql == self.sql.RELEASE:
            row["claimed_until"] = None
        else:
            raise AssertionError(f"unexpected statement: {sql}")
        return []

    def close(self) -> None:
        pass


@pytest.fixture
def payments_database(monkeypatch: pytest.MonkeyPatch) -> Callable[..., PaymentsFake]:
    """Replace pg8000's connection by a :class:`PaymentsFake` for the given payment handler module."""

    def install(handler: ModuleType, **kwargs: Any) -> PaymentsFake:
        db = PaymentsFake(handler, **kwargs)
        monkeypatch.setattr(pg8000.native, "Connection", db.connect)
        return db

    return install


PAYMENT_REGION = "ap-southeast-1"


@pytest.fixture
def payment_aws(monkeypatch: pytest.MonkeyPatch, aws_credentials: str) -> Iterator[dict[str, Any]]:
    """The payment handler's AWS side in moto (a queue, the bus with a capture queue, the stream)
    and its settings."""
    region = PAYMENT_REGION
    with mock_aws():
        sqs = boto3.client("sqs", region_name=region)
        queue_url = sqs.create_queue(QueueName="payments")["QueueUrl"]
        events = boto3.client("events", region_name=region)
        events.create_event_bus(Name="payments-bus")
        # Capture the bus's events in a queue, as the analytics rule would.
        capture_url = sqs.create_queue(QueueName="capture")["QueueUrl"]
        capture_arn = sqs.get_queue_attributes(QueueUrl=capture_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="all", EventBusName="payments-bus", EventPattern=json.dumps({"source": ["pci-platform.payments"]})
        )
        events.put_targets(Rule="all", EventBusName="payments-bus", Targets=[{"Id": "q", "Arn": capture_arn}])
        bucket = boto3.client("s3", region_name=region)
        bucket.create_bucket(Bucket="tx-logs", CreateBucketConfiguration={"LocationConstraint": region})
        iam = boto3.client("iam", region_name=region)
        role = iam.create_role(RoleName="fh", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("firehose", region_name=region).create_delivery_stream(
            DeliveryStreamName="tx",
            ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": "arn:aws:s3:::tx-logs"},
        )
        env = {
            "DB_HOST": "proxy.internal",
            "DB_USER": "payments_app",
            "DB_NAME": "payments",
            "QUEUE_URL": queue_url,
            "BUS_NAME": "payments-bus",
            "STREAM_NAME": "tx",
            "MAX_BODY_BYTES": "512",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield {"sqs": sqs, "queue_url": queue_url, "capture_url": capture_url}
