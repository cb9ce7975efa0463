"""KMS keys by service and data classification (PCI DSS 3.5, 3.6): use is limited to the roles named here.

payment-platform-security.md section 8 asks separate keys for Aurora, S3, Parameter Store and
EventBridge, pci-data-processing.md a key per data classification: both hold, so no key serves two
of those four services and each key serves one classification (its ``DataClassification`` tag).

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

CLASSIFICATION_TAG = "DataClassification"


@dataclass(frozen=True)
class KeySpec:
    """One key: the data ``classification`` it serves (a ``data_classification`` value), what it
    ``protects`` and who ``uses`` it (named in its policy)."""

    classification: str
    protects: str
    uses: str


KEYS: dict[str, KeySpec] = {
    "cardholder": KeySpec(
        "cardholder",
        "S3: the cardholder-data bucket (full card numbers) and the WAF logs (request URIs and headers may "
        "carry them); SQS: the processor's dead-letter queue (failed events of cardholder objects)",
        "processor role; log delivery (`delivery.logs.amazonaws.com`, WAF logs)",
    ),
    "processed": KeySpec(
        "confidential",
        "S3: the processed-data bucket (truncated card numbers) and the transaction-log bucket; Firehose: "
        "the delivery stream",
        "processor role (writes), Firehose delivery role",
    ),
    "database": KeySpec(
        "confidential",
        "Aurora: the payment cluster's storage and Performance Insights",
        "RDS, through grants the deployer creates when it creates the cluster",
    ),
    "events": KeySpec(
        "confidential",
        "EventBridge: the payment bus; SQS: the payment, analytics and events dead-letter queues; SNS: the "
        "ops topic (it carries payment.failed events)",
        "EventBridge (`events.amazonaws.com`: bus, queues, topic), CloudWatch (alarms to the topic), payment "
        "role, batch host role",
    ),
    "volumes": KeySpec(
        "confidential",
        "EBS: the batch hosts' volumes",
        "the Auto Scaling service-linked role (launches the hosts)",
    ),
    "parameters": KeySpec(
        "restricted",
        "Parameter Store: the SecureString parameters",
        "principals of the account encrypt through SSM only; payment role decrypts through SSM",
    ),
    "secrets": KeySpec(
        "restricted",
        "Secrets Manager: the database secrets",
        "rotation, schema and RDS Proxy roles, only through Secrets Manager (`kms:ViaService`); "
        "none where the secrets are under the operator's key (`secrets.database_secret_kms_key`)",
    ),
    "logs": KeySpec(
        "internal",
        "CloudWatch Logs: every log group; S3: the flow-log bucket; Lambda environment variables; X-Ray; "
        "Network Firewall",
        "CloudWatch Logs (per log group), log delivery, the functions' roles (environment decrypt), the "
        "deployer through X-Ray, the account's principals through Network Firewall only",
    ),
}
"""Key name -> what it serves (the README's key table comes from here: :func:`key_table_markdown`)."""


def key_table_markdown() -> str:
    """The README's key table."""
    rows = [
        "| key (alias `alias/pci-platform-<name>-apse1-<suffix>`) | classification | protects | may use it "
        "(named in the key policy) |",
        "|---|---|---|---|",
    ]
    rows += [f"| `{name}` | {spec.classification} | {spec.protects} | {spec.uses} |" for name, spec in KEYS.items()]
    return "\n".join(rows)


@dataclass(frozen=True, kw_only=True)
class KeysProps:
    """Props of :class:`PlatformKeys`."""

    context: AppContext[Settings]


class PlatformKeys(Construct):
    """The keys of :data:`KEYS`, rotation on, use by named roles only."""

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
                    description=f"{name} key ({spec.classification}): {spec.protects}",
                    policy=KeyPolicy(ctx.account, root_can_use=False, deployer_role_arn=ctx.settings.deployer_role_arn),
                    tags={CLASSIFICATION_TAG: spec.classification},
                ),
            )
            for name, spec in KEYS.items()
        }
        self.cardholder = self.keys["cardholder"]
        self.processed = self.keys["processed"]
        self.database = self.keys["database"]
        self.events = self.keys["events"]
        self.volumes = self.keys["volumes"]
        self.parameters = self.keys["parameters"]
        self.secrets = self.keys["secrets"]
        self.logs = self.keys["logs"]

    def arns(self) -> dict[str, str]:
        """Key ARN by key name."""
        return {name: key.key_arn for name, key in self.keys.items()}
