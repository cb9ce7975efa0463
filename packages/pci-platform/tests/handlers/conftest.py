"""A local PostgreSQL-over-TLS stand-in with a self-signed certificate, to prove connections verify it."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


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
