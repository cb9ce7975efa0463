"""Rotation of the existing application database secret (referenced, not created:
docs/decisions/0005-secrets-are-referenced.md), with alternating users.

Two existing secrets are read with data sources by the names in configuration: the application
user's (rotated here; RDS Proxy logs in with it) and the cluster master's (the cluster's first
credentials; the rotation reads it, through the application secret's ``masterarn``, to change the
application users' passwords). This package attaches the rotation schedule and the rotation
function (in the workload subnets, reaching Secrets Manager through its interface endpoint and
PostgreSQL inside the VPC, at the cluster endpoint). The secrets key's policy names the rotation
role, for use through Secrets Manager only (``kms:ViaService``).

The rotation verifies the cluster's certificate against the RDS CA bundle, which the Lambda trust
store lacks: it refuses to connect without one (``lambdas/rotation/connections.py``). The bundle is
not in this repository (it is Amazon's to publish); the operator packages it (README, operator
steps), and until then every rotation fails loudly, the rotation alarm fires, ``AWSCURRENT`` stays.

Two steps, because the database and its rotation need each other: :class:`SecretRotation` reads the
secret and makes the rotation function's security group (the database admits it), then
:meth:`SecretRotation.add_rotation` adds the function, given the database's endpoint, and its
schedule.

``rotate_immediately`` is off: Secrets Manager then only runs the function's ``testSecret`` step
when the schedule is attached, and the first real rotation happens on schedule. The harness and an
operator both create the secret before the first deployment (README, deployment order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_aws.data_aws_kms_key import DataAwsKmsKey
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret import DataAwsSecretsmanagerSecret
from cdktf_cdktf_provider_aws.lambda_invocation import LambdaInvocation
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroupEgress
from shared_constructs.cdk import (
    Construct,
    Fn,
    ITerraformDependable,
    Op,
    Postcondition,
    Precondition,
    TerraformResourceLifecycle,
    TerraformSelf,
)
from shared_constructs.context import AppContext
from shared_constructs.functions import FunctionProps, PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, Statement
from shared_constructs.policy import declare_encrypts

from pci_platform.access import Guardrails
from pci_platform.config import Settings
from pci_platform.networking import WORKLOAD, Network
from pci_platform.security import PlatformKeys

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
PG8000_BUNDLE = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six")
"""pg8000 and its dependency closure (``pip show``: pg8000 -> scramp, python-dateutil;
scramp -> asn1crypto; python-dateutil -> six), copied into the rotation bundle."""
POSTGRES_PORT = 5432
CLONE_SUFFIX = "_clone"
"""The alternating-users rotation's second user is ``<user>_clone`` (lambdas/rotation/handler.py)."""
SECRET_ROTATION_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)


@dataclass(frozen=True, kw_only=True)
class SecretRotationProps:
    """Props of :class:`SecretRotation` (the secret from ``settings.secrets``)."""

    context: AppContext[Settings]
    network: Network
    keys: PlatformKeys
    guardrails: Guardrails


class SecretRotation(Construct):
    """The existing database secret, and (:meth:`add_rotation`) its rotation function and schedule."""

    def __init__(self, scope: Construct, id: str, props: SecretRotationProps) -> None:
        super().__init__(scope, id)
        self._props = props
        network, config = props.network, props.context.settings.secrets
        self.secret = DataAwsSecretsmanagerSecret(self, "database_secret", name=config.database_secret_name)
        self.master_secret = DataAwsSecretsmanagerSecret(self, "master_secret", name=config.master_secret_name)
        if config.database_secret_kms_key is None:
            self.key_arn = props.keys.secrets.key_arn
            expected = f"this platform's secrets key ({props.keys.secrets.alias_name})"
            # Recorded so that the policy rules check the deployer can read their versions back.
            declare_encrypts(props.keys.secrets.key, [self.secret.arn, self.master_secret.arn])
        else:
            self.key_arn = DataAwsKmsKey(self, "operator_key", key_id=config.database_secret_kms_key).arn
            expected = f"secrets.database_secret_kms_key ({config.database_secret_kms_key})"
        for id, secret, name in (
            ("database_secret_key", self.secret, config.database_secret_name),
            ("master_secret_key", self.master_secret, config.master_secret_name),
        ):
            self._check_key(id, secret, name, expected)
        self.secret_arn = self.secret.arn
        self.master_secret_arn = self.master_secret.arn
        self.security_group = network.workload_security_group(
            self,
            "security_group",
            "secret-rotation",
            extra_egress=[
                SecurityGroupEgress(
                    description="PostgreSQL in the workload tier",
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    protocol="tcp",
                    cidr_blocks=network.cidrs(WORKLOAD),
                )
            ],
        )

    def _check_key(self, id: str, secret: DataAwsSecretsmanagerSecret, name: str, expected: str) -> None:
        """Stop the plan unless ``secret`` is encrypted with the key that :meth:`grant_key` grants:
        resolved by KMS, so a key id, ARN or alias in the secret's metadata all compare right."""
        remedy = f"re-encrypt it: aws secretsmanager update-secret --secret-id {name} --kms-key-id <that key>"
        DataAwsKmsKey(
            self,
            id,
            key_id=secret.kms_key_id,
            lifecycle=TerraformResourceLifecycle(
                precondition=[
                    Precondition(
                        condition=Op.gte(Fn.length_of(secret.kms_key_id), 1),
                        error_message=f"Secret {name} is encrypted with the AWS managed key; "
                        f"it must be encrypted with {expected}: {remedy}.",
                    )
                ],
                postcondition=[
                    Postcondition(
                        condition=Op.eq(TerraformSelf.get_string("arn"), self.key_arn),
                        error_message=f"Secret {name} is not encrypted with {expected}: {remedy}.",
                    )
                ],
            ),
        )

    def grant_key(self, role: LeastPrivilegeRole, actions: Sequence[str], *, label: str) -> None:
        """Let ``role`` use the secrets' key (``actions``), through Secrets Manager only."""
        if self._props.context.settings.secrets.database_secret_kms_key is None:
            self._props.keys.secrets.grant(role, actions, via_service="secretsmanager", label=label)
            return
        # The operator's key must name the role in its own policy as well (README).
        role.add_statements(
            Statement(
                sid="OperatorSecretKey",
                actions=list(actions),
                resources=[self.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{self._props.context.region}.amazonaws.com"}
                },
            )
        )

    def _database_function(
        self, id: str, *, name: str, description: str, handler: str, environment: dict[str, str]
    ) -> PythonFunction:
        """A function of the rotation bundle (pg8000, the CA bundle, verified connections) in the
        workload subnets with the rotation's security group, which the cluster admits."""
        ctx, network = self._props.context, self._props.network
        return PythonFunction(
            self,
            id,
            FunctionProps(
                context=ctx,
                name=name,
                description=description,
                source=LAMBDAS / "rotation",
                handler=handler,
                key=self._props.keys.logs,
                reserved_concurrency=1,
                services=("secretsmanager",),
                timeout_s=60,
                environment={
                    **environment,
                    "SECRETS_MANAGER_ENDPOINT": f"https://secretsmanager.{ctx.region}.amazonaws.com",
                },
                vendor=PG8000_BUNDLE,
                vpc_subnet_ids=network.subnet_ids(WORKLOAD),
                security_group_ids=[self.security_group.id],
            ),
        )

    def add_rotation(self, *, database_host: str) -> PythonFunction:
        """The rotation function (rotating the credentials of the database at ``database_host``), its
        permissions and the rotation schedule."""
        ctx = self._props.context
        config = ctx.settings.secrets
        self.function = self._database_function(
            "rotation",
            name="secret-rotation",
            description="Rotates the application's PostgreSQL secret with alternating users",
            handler="handler.handler",
            environment={"DB_HOST": database_host},
        )
        role = self.function.role
        role.add_statements(
            Statement(sid="RotateDatabaseSecret", actions=SECRET_ROTATION_ACTIONS, resources=[self.secret.arn]),
            # The master user changes the application users' passwords; its secret is only read.
            Statement(
                sid="ReadMasterSecret", actions=["secretsmanager:GetSecretValue"], resources=[self.master_secret.arn]
            ),
            # GetRandomPassword acts on no resource: AWS requires "*".
            Statement(sid="GeneratePassword", actions=["secretsmanager:GetRandomPassword"], resources=["*"]),
        )
        self.grant_key(role, ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"), label="secret-rotation")
        self._props.guardrails.attach(role, "secret_rotation")
        permission = self.function.allow_service_invoke(
            self,
            "secretsmanager_invoke",
            statement_id="AllowSecretsManager",
            principal="secretsmanager.amazonaws.com",
            source_account=ctx.account,
            source_arn=self.secret.arn,
        )
        self.rotation = SecretsmanagerSecretRotation(
            self,
            "schedule",
            secret_id=self.secret.arn,
            rotation_lambda_arn=self.function.function_arn,
            rotate_immediately=False,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=config.rotation_days),
            depends_on=[permission],
        )
        self.function_arn = self.function.function_arn
        return self.function

    def add_schema_step(self, *, database_host: str, database_name: str, after: Sequence[ITerraformDependable]) -> None:
        """The schema function (``schema.handler`` of the rotation bundle), invoked by Terraform once
        ``after`` (the cluster's instances) exist and again whenever ``schema.py`` changes: a failed
        invocation fails the deployment. Its role reads the two secrets and nothing else."""
        self.schema_function = self._database_function(
            "schema",
            name="database-schema",
            description="Creates the application role and the payments schema, once per schema version",
            handler="schema.handler",
            environment={
                "MASTER_SECRET_ARN": self.master_secret.arn,
                "APP_SECRET_ARN": self.secret.arn,
                "DB_HOST": database_host,
                "DB_NAME": database_name,
            },
        )
        role = self.schema_function.role
        role.add_statements(
            Statement(
                sid="ReadDatabaseSecrets",
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.master_secret.arn, self.secret.arn],
            )
        )
        self.grant_key(role, ("kms:Decrypt",), label="database-schema")
        self._props.guardrails.attach(role, "database_schema")
        source = (LAMBDAS / "rotation" / "schema.py").read_bytes()
        self.schema_invocation = LambdaInvocation(
            self,
            "schema_invocation",
            function_name=self.schema_function.function_name,
            input=json.dumps({"step": "schema"}),
            # A new schema (any change of schema.py) is applied by the next deployment.
            triggers={"schema_sha256": hashlib.sha256(source).hexdigest()},
            depends_on=[self.schema_function.function, *after],
        )
