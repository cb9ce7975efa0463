"""Parameter Store: SecureString parameters encrypted with the parameters key (Parameter Store only).

Values come from configuration (``app_settings``) or from what the stack knows (the proxy endpoint,
the database name and user read from the existing secret); none is written in code. The
connection string carries no password: clients authenticate to RDS Proxy with IAM tokens.

Secret settings (``app_secrets``) never come from configuration: either generated when the
parameter is created (Secrets Manager's ``GetRandomPassword``; the value is kept afterwards, so
later plans change nothing, and it is in Terraform state, which the encrypted S3 backend holds), or
an existing SecureString the operator created with the parameters key, which the function may read.

Writing a SecureString makes Systems Manager encrypt with the key on the caller's behalf, so the
parameters key lets principals of this account encrypt through Systems Manager only
(``kms:ViaService``); decryption stays limited to the roles named with :meth:`Parameters.grant_read`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import DataAwsSecretsmanagerRandomPassword
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from shared_constructs.cdk import Construct, TerraformResourceLifecycle
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, Statement
from shared_constructs.naming import Kind

from pci_platform.config import AppSecret, Settings
from pci_platform.security import PlatformKeys


def _id(name: str) -> str:
    """A construct id for the parameter ``name`` (``app/default-currency`` -> ``app_default_currency``)."""
    return name.replace("/", "_").replace("-", "_")


@dataclass(frozen=True, kw_only=True)
class ParametersProps:
    """Props of :class:`Parameters`: the ``keys`` and the parameters' ``values`` by name."""

    context: AppContext[Settings]
    keys: PlatformKeys
    values: Mapping[str, str]
    secrets: Mapping[str, AppSecret] = field(default_factory=dict)


class Parameters(Construct):
    """The platform's SecureString parameters under ``/pci-platform/<suffix>/``."""

    def __init__(self, scope: Construct, id: str, props: ParametersProps) -> None:
        super().__init__(scope, id)
        ctx, keys = props.context, props.keys
        self._keys = keys
        keys.parameters.grant_account_via_service("ParameterStoreWrite", "ssm", ("kms:Encrypt", "kms:GenerateDataKey"))
        self.parameters: dict[str, SsmParameter] = {}
        for name, value in sorted(props.values.items()):
            self._parameter(ctx, name, value, f"PCI platform setting {name}")
        self._existing: list[str] = []
        for name, secret in sorted(props.secrets.items()):
            if secret.parameter is not None:
                self._existing.append(ctx.arn("ssm", f"parameter/{secret.parameter.lstrip('/')}"))
                continue
            generated = DataAwsSecretsmanagerRandomPassword(
                self,
                f"generate_{_id(name)}",
                password_length=secret.generate,
                exclude_punctuation=True,
                include_space=False,
            )
            # Generated once: later plans read a new random value, which must not replace it.
            self._parameter(
                ctx, name, generated.random_password, f"PCI platform secret {name} (generated)", keep_value=True
            )

    def _parameter(
        self, ctx: AppContext[Settings], name: str, value: str, description: str, *, keep_value: bool = False
    ) -> None:
        self.parameters[name] = SsmParameter(
            self,
            _id(name),
            name=ctx.path(Kind.SSM_PARAMETER, *name.split("/")),
            type="SecureString",
            key_id=self._keys.parameters.key_arn,
            value=value,
            tier="Standard",
            description=description,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]) if keep_value else None,
        )

    @property
    def arns(self) -> list[str]:
        return [p.arn for p in self.parameters.values()] + self._existing

    def grant_read(self, role: LeastPrivilegeRole, label: str) -> None:
        """Let ``role`` read (and decrypt) every parameter."""
        role.add_statements(
            Statement(sid="ReadParameters", actions=["ssm:GetParameter", "ssm:GetParameters"], resources=self.arns)
        )
        self._keys.parameters.grant(role, ("kms:Decrypt",), via_service="ssm", label=label)
