"""KMS keys per data classification (PCI DSS 3.5, 3.6): use is limited to the roles named here.

Each key's policy lets the account root administer the key but not use it
(``root_can_use=False``), so IAM policies alone can never grant use: a role is named in the key
policy when it is granted use of the key (``key.grant``, which writes the matching IAM statement
in the same call; docs/decisions/0015-one-way-to-grant-key-use.md).
The deployer (``settings.deployer_role_arn``) is named for what Terraform reads back through Secrets
Manager and Systems Manager (SecureString values, the database secret), which it could not otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import Key, KeyPolicy, KeyProps

from pci_platform.config import Settings

CLASSIFICATIONS: dict[str, str] = {
    "cardholder": "Cardholder data at rest: the data buckets and (part 2) the payment database",
    "logs": "Logs and telemetry: flow logs, firewall logs, log groups, Lambda environment variables",
    "secrets": "Secrets and parameters: the database credential secret and Parameter Store values",
}
"""Data classification -> what its key protects (the README's key table comes from here)."""


@dataclass(frozen=True, kw_only=True)
class KeysProps:
    """Props of :class:`PlatformKeys`."""

    context: AppContext[Settings]


class PlatformKeys(Construct):
    """One customer-managed key per data classification, rotation on, use by named roles only."""

    def __init__(self, scope: Construct, id: str, props: KeysProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.keys: dict[str, Key] = {
            name: Key(
                self,
                name,
                KeyProps(
                    context=ctx,
                    name=name,
                    description=description,
                    policy=KeyPolicy(ctx.account, root_can_use=False, deployer_role_arn=ctx.settings.deployer_role_arn),
                ),
            )
            for name, description in CLASSIFICATIONS.items()
        }
        self.cardholder = self.keys["cardholder"]
        self.logs = self.keys["logs"]
        self.secrets = self.keys["secrets"]

    def arns(self) -> dict[str, str]:
        """Key ARN by classification."""
        return {name: key.key_arn for name, key in self.keys.items()}
