"""The package deployed on the emulator once per session, after security-baseline (whose security
topic it reads) and after seeding the existing database secret, as an operator would."""

from __future__ import annotations

import datetime
import json

from platform_tooling.testing.emulator import Emulator, deployment_fixture

REGION = "ap-southeast-1"
SECRET_NAME = "pci-platform/dev/database"
"""config/dev.toml's ``secrets.database_secret_name``: the application user's secret."""
MASTER_SECRET_NAME = "pci-platform/dev/database-master"
"""config/dev.toml's ``secrets.master_secret_name``."""
MASTER_VALUE = {"username": "payments_master", "password": "master-seeded-by-the-operator"}
SECRET_VALUE = {
    "engine": "postgres",
    "host": "db.pci.internal",
    "port": 5432,
    "username": "payments_app",  # config's database.application_user (its default)
    "password": "seeded-by-the-operator",
    "dbname": "payments",
}
"""The application secret, without ``masterarn``, which the seed adds once the master secret exists."""


OPERATOR_KEY_ALIAS = "alias/pci-platform-dev-database-secrets"
"""config/dev.toml's ``secrets.database_secret_kms_key``: the operator's key of both secrets."""

CERTIFICATE_NAME = "pci-platform-dev"
"""config/dev.toml's ``application.certificate_arn`` names this IAM server certificate."""


def self_signed_certificate() -> tuple[str, str]:
    """A throwaway certificate and key (PEM) for the listener, as an operator would upload one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "payments.pci.internal")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode(),
    )


def seed_database_secret(emulator: Emulator) -> None:
    """Create what the stack references and does not create: the operator's key, the master and
    application database secrets encrypted with it (docs/decisions/0005-secrets-are-referenced.md), the latter naming the former in
    ``masterarn`` as the alternating-users rotation needs, and the listener's certificate."""
    kms = emulator.client("kms", REGION)
    key = kms.create_key(Description="Operator key of the database secrets")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=OPERATOR_KEY_ALIAS, TargetKeyId=key)
    secrets = emulator.client("secretsmanager", REGION)
    master = secrets.create_secret(
        Name=MASTER_SECRET_NAME, SecretString=json.dumps(MASTER_VALUE), KmsKeyId=OPERATOR_KEY_ALIAS
    )
    secrets.create_secret(
        Name=SECRET_NAME,
        SecretString=json.dumps({**SECRET_VALUE, "masterarn": master["ARN"]}),
        KmsKeyId=OPERATOR_KEY_ALIAS,
    )
    body, key = self_signed_certificate()
    emulator.client("iam", REGION).upload_server_certificate(
        ServerCertificateName=CERTIFICATE_NAME, CertificateBody=body, PrivateKey=key
    )


# Declared first so that the harness, which destroys in reverse declaration order, destroys this
# package before the baseline whose state it reads (until the harness orders by ``requires``).
deployment_fixture("security-baseline")
deployment = deployment_fixture("pci-platform", requires=("security-baseline",), seed=seed_database_secret)
