"""The package deployed on the emulator once per session, after security-baseline (whose security
topic it reads) and after seeding the existing database secret, as an operator would."""

from __future__ import annotations

import json

from shared_constructs.testing.emulator import Emulator, deployment_fixture

REGION = "ap-southeast-1"
SECRET_NAME = "pci-platform/dev/database"
"""config/dev.toml's ``secrets.database_secret_name``."""
SECRET_VALUE = {"engine": "postgres", "host": "db.pci.internal", "port": 5432, "username": "payments_app",
                "password": "seeded-by-the-operator", "dbname": "payments"}


def seed_database_secret(emulator: Emulator) -> None:
    """Create the existing secret the stack references (DECISIONS.md 7)."""
    emulator.client("secretsmanager", REGION).create_secret(Name=SECRET_NAME, SecretString=json.dumps(SECRET_VALUE))


# Declared first so that the harness, which destroys in reverse declaration order, destroys this
# package before the baseline whose state it reads (until the harness orders by ``requires``).
deployment_fixture("security-baseline")
deployment = deployment_fixture("pci-platform", requires=("security-baseline",), seed=seed_database_secret)
