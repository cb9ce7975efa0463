"""KMS keys per data classification (PCI DSS 3.5, 3.6): use is limited to the roles named here.

Each key's policy lets the account root administer the key but not use it
(``root_can_use=False``), so IAM policies alone can never grant use: a role must be named in the
key policy through :meth:`PlatformKeys.allow_role`, which also writes the matching IAM statement.
The deployer (``settings.deployer_role_arn``) is named for what Terraform reads back through Secrets
Manager and Systems Manager (SecureString values, the database secret), which it could not otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared_constructs.cdk import Construct
from shared_constructs.iam import LeastPrivilegeRole
from shared_constructs.kms import DECRYPT, ENCRYPT_DECRYPT, Key, KeyPolicy, KeyProps, account_id
from shared_constructs.naming import Namer
from shared_constructs.settings import BaseSettings

CLASSIFICATIONS: dict[str, str] = {
    "cardholder": "Cardholder data at rest: the data buckets and (part 2) the payment database",
    "logs": "Logs and telemetry: flow logs, firewall logs, log groups, Lambda environment variables",
    "secrets": "Secrets and parameters: the database credential secret and Parameter Store values",
}
"""Data classification -> what its key protects (the README's key table comes from here)."""


class PlatformKeys(Construct):
    """One customer-managed key per data classification, rotation on, use by named roles only."""

    def __init__(self, scope: Construct, id: str, *, settings: BaseSettings, namer: Namer, region: str) -> None:
        super().__init__(scope, id)
        self.region = region
        account = account_id(self)
        self.keys: dict[str, Key] = {
            name: Key(
                self,
                name,
                KeyProps(
                    settings=settings,
                    namer=namer,
                    name=name,
                    region=region,
                    description=description,
                    policy=KeyPolicy(account, root_can_use=False, deployer_role_arn=settings.deployer_role_arn),
                ),
            )
            for name, description in CLASSIFICATIONS.items()
        }
        self.cardholder = self.keys["cardholder"]
        self.logs = self.keys["logs"]
        self.secrets = self.keys["secrets"]

    def allow_role(
        self,
        key: Key,
        role: LeastPrivilegeRole,
        actions: Sequence[str] = ENCRYPT_DECRYPT,
        *,
        via_service: str | None = None,
        label: str = "",
    ) -> None:
        """Name ``role`` in ``key``'s policy for ``actions`` and grant the same in the role's policy.

        ``via_service``: only when the call comes through that AWS service (``kms:ViaService``,
        for example Secrets Manager decrypting a secret on the role's behalf).
        """
        key.grant(role, actions, via_service=via_service, label=label)

    def allow_decrypt(self, key: Key, role: LeastPrivilegeRole, *, label: str = "") -> None:
        """Name ``role`` in ``key``'s policy for decryption only."""
        self.allow_role(key, role, DECRYPT, label=label)

    def arns(self) -> dict[str, str]:
        """Key ARN by classification."""
        return {name: key.key_arn for name, key in self.keys.items()}
