"""Aurora Serverless v2 PostgreSQL (one writer, readers across AZs) behind RDS Proxy.

Credentials come from the existing master secret (docs/decisions/0005-secrets-are-referenced.md): the cluster's master user
name and first password are read from it with a data source; ``manage_master_user_password`` stays
off, because it would make RDS create (and own) another secret. The master secret may be rotated
outside this package, so ``master_password`` is in ``ignore_changes`` (otherwise a rotation would
plan an update back to the value read at creation). The password then lives in Terraform state: keep
state in the encrypted S3 backend for real environments. The application never logs in as the
master user: RDS Proxy logs in with the application secret (rotated with alternating users,
``secrets.py``) and the payment function connects as ``database.application_user``.

TLS is enforced twice: the cluster parameter group sets ``rds.force_ssl = 1`` and the proxy
requires TLS from clients. Clients authenticate to the proxy with IAM (``iam_auth = REQUIRED``);
the proxy logs in to the database with the secret. Storage and Performance Insights are encrypted
with the database key (no other service uses it), the exported PostgreSQL log with the logs key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_version import DataAwsSecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.db_proxy import DbProxy, DbProxyAuth
from cdktf_cdktf_provider_aws.db_proxy_default_target_group import (
    DbProxyDefaultTargetGroup,
    DbProxyDefaultTargetGroupConnectionPoolConfig,
)
from cdktf_cdktf_provider_aws.db_proxy_target import DbProxyTarget
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from shared_constructs.cdk import Construct, Fn, TerraformLocal, TerraformResourceLifecycle, Token
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import DECRYPT
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind

from pci_platform.access import Guardrails
from pci_platform.config import Settings
from pci_platform.networking import WORKLOAD, Network
from pci_platform.secrets import CLONE_SUFFIX, POSTGRES_PORT, SecretRotation
from pci_platform.security import PlatformKeys

ENGINE = "aurora-postgresql"


@dataclass(frozen=True, kw_only=True)
class DatabaseProps:
    """Props of :class:`PaymentDatabase` (sized by ``settings.database``): the ``network``, the
    ``keys``, the existing secret and rotation security group (``secrets``), the ``guardrails``."""

    context: AppContext[Settings]
    network: Network
    keys: PlatformKeys
    secrets: SecretRotation
    guardrails: Guardrails


class PaymentDatabase(Construct):
    """The cluster, its instances, parameter group, subnet group, security groups and the proxy."""

    def __init__(self, scope: Construct, id: str, props: DatabaseProps) -> None:
        super().__init__(scope, id)
        ctx = self._context = props.context
        self.cluster_identifier = ctx.name(Kind.RDS, "payments")
        self._security_groups(props)
        subnets = DbSubnetGroup(
            self,
            "subnets",
            name=ctx.name(Kind.RDS, "payments-subnets"),
            description="Workload tier, three AZs",
            subnet_ids=props.network.subnet_ids(WORKLOAD),
        )
        self.log_group = EncryptedLogGroup(
            self,
            "postgresql_logs",
            LogGroupProps(
                context=ctx, name=f"/aws/rds/cluster/{self.cluster_identifier}/postgresql", key=props.keys.logs
            ),
        )
        self._cluster(props, subnets)
        self._instances(props, subnets)
        self._proxy(props)

    def _security_groups(self, props: DatabaseProps) -> None:
        """The proxy admits PostgreSQL from the workload tier; the cluster from the proxy and the
        rotation function only."""
        ctx, network = self._context, props.network
        self.proxy_security_group = SecurityGroup(
            self,
            "proxy_sg",
            name=ctx.name(Kind.SECURITY_GROUP, "db-proxy"),
            description="RDS Proxy: PostgreSQL from the workload tier only",
            vpc_id=network.vpc_id,
            ingress=[
                SecurityGroupIngress(
                    description="PostgreSQL from workloads",
                    cidr_blocks=network.cidrs(WORKLOAD),
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    protocol="tcp",
                )
            ],
            egress=[
                SecurityGroupEgress(
                    description="PostgreSQL to the cluster",
                    cidr_blocks=network.cidrs(WORKLOAD),
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    protocol="tcp",
                ),
                SecurityGroupEgress(
                    description="Secrets Manager endpoint",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=network.cidrs("endpoint"),
                ),
            ],
        )
        self.security_group = SecurityGroup(
            self,
            "cluster_sg",
            name=ctx.name(Kind.SECURITY_GROUP, "db-cluster"),
            description="Aurora: PostgreSQL from the proxy and the rotation function only",
            vpc_id=network.vpc_id,
            ingress=[
                SecurityGroupIngress(
                    description="PostgreSQL from the proxy and the rotation function",
                    security_groups=[self.proxy_security_group.id, props.secrets.security_group.id],
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    protocol="tcp",
                )
            ],
        )

    def _cluster(self, props: DatabaseProps, subnets: DbSubnetGroup) -> None:
        """The TLS-only cluster, its first credentials read from the existing secret."""
        ctx = self._context
        config, protect = ctx.settings.database, ctx.settings.protect_stateful
        parameters = RdsClusterParameterGroup(
            self,
            "parameters",
            name=ctx.name(Kind.RDS, "payments-tls"),
            family=f"aurora-postgresql{config.engine_version.split('.')[0]}",
            description="TLS only; connection and statement logging",
            parameter=[
                RdsClusterParameterGroupParameter(name="rds.force_ssl", value="1"),
                RdsClusterParameterGroupParameter(name="log_connections", value="1"),
                RdsClusterParameterGroupParameter(name="log_disconnections", value="1"),
                # Schema changes are audited (PCI DSS 10.2.1); statements with values are not
                # logged, only slow ones (over one second) by duration.
                RdsClusterParameterGroupParameter(name="log_statement", value="ddl"),
                RdsClusterParameterGroupParameter(name="log_min_duration_statement", value="1000"),
            ],
        )
        version = DataAwsSecretsmanagerSecretVersion(self, "credentials", secret_id=props.secrets.master_secret_arn)
        credentials = Fn.jsondecode(version.secret_string)
        self.master_username = Token.as_string(Fn.lookup(credentials, "username"))
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=self.cluster_identifier,
            engine=ENGINE,
            engine_mode="provisioned",
            engine_version=config.engine_version,
            database_name=config.database_name,
            master_username=self.master_username,
            master_password=Token.as_string(Fn.lookup(credentials, "password")),
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=parameters.name,
            storage_encrypted=True,
            kms_key_id=props.keys.database.key_arn,
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=config.min_capacity, max_capacity=config.max_capacity
            ),
            backup_retention_period=config.backup_retention_days,
            copy_tags_to_snapshot=True,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            deletion_protection=protect,
            skip_final_snapshot=not protect,
            final_snapshot_identifier=ctx.name(Kind.RDS, "payments-final") if protect else None,
            depends_on=[self.log_group.log_group],
            # The rotation function owns the password after creation (module docstring).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["master_password"], prevent_destroy=protect or None),
        )

    def _instances(self, props: DatabaseProps, subnets: DbSubnetGroup) -> None:
        """A writer and the readers across the zones, with enhanced monitoring."""
        ctx = self._context
        config = ctx.settings.database
        log_group = ctx.arn("logs", "log-group:RDSOSMetrics")
        # Enhanced monitoring (OS metrics every 60 s) through a role with a customer-managed policy.
        self.monitoring_role = LeastPrivilegeRole(
            self,
            "monitoring_role",
            RoleProps(
                context=ctx,
                name="rds-monitoring",
                description="RDS enhanced monitoring",
                trust_policy=assume_role_policy(services=["monitoring.rds.amazonaws.com"]),
                statements=[
                    Statement(
                        sid="EnhancedMonitoring",
                        actions=[
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:DescribeLogStreams",
                            "logs:GetLogEvents",
                            "logs:PutLogEvents",
                            "logs:PutRetentionPolicy",
                        ],
                        resources=[log_group, f"{log_group}:*"],
                    )
                ],
            ),
        )
        props.guardrails.attach(self.monitoring_role, "rds_monitoring")
        subnets_by_zone = props.network.vpc.subnets[WORKLOAD]
        self.instances = [
            RdsClusterInstance(
                self,
                f"instance_{index}",
                identifier=ctx.name(Kind.RDS, f"payments-{index}"),
                cluster_identifier=self.cluster.id,
                instance_class="db.serverless",
                engine=ENGINE,
                engine_version=config.engine_version,
                db_subnet_group_name=subnets.name,
                availability_zone=subnets_by_zone[index % len(subnets_by_zone)].availability_zone,
                promotion_tier=index,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=props.keys.database.key_arn,
                performance_insights_retention_period=7,
                monitoring_interval=60,
                monitoring_role_arn=self.monitoring_role.role_arn,
            )
            for index in range(1 + config.reader_count)
        ]

    def _proxy(self, props: DatabaseProps) -> None:
        """RDS Proxy: TLS and IAM authentication from clients, the secret towards the database."""
        ctx, secrets = self._context, props.secrets
        self.proxy_role = LeastPrivilegeRole(
            self,
            "proxy_role",
            RoleProps(
                context=ctx,
                name="db-proxy",
                description="RDS Proxy reads the application user secret",
                trust_policy=assume_role_policy(services=["rds.amazonaws.com"]),
                statements=[
                    Statement(
                        sid="ReadDatabaseSecret",
                        actions=["secretsmanager:GetSecretValue"],
                        resources=[secrets.secret_arn],
                    )
                ],
            ),
        )
        secrets.grant_key(self.proxy_role, DECRYPT, label="db-proxy")
        props.guardrails.attach(self.proxy_role, "db_proxy")
        self.proxy = DbProxy(
            self,
            "proxy",
            name=ctx.name(Kind.RDS_PROXY, "payments"),
            engine_family="POSTGRESQL",
            require_tls=True,
            idle_client_timeout=1800,
            role_arn=self.proxy_role.role_arn,
            vpc_subnet_ids=props.network.subnet_ids(WORKLOAD),
            vpc_security_group_ids=[self.proxy_security_group.id],
            auth=[
                DbProxyAuth(
                    auth_scheme="SECRETS",
                    secret_arn=secrets.secret_arn,
                    iam_auth="REQUIRED",
                    client_password_auth_type="POSTGRES_SCRAM_SHA_256",  # noqa: S106 - an auth type
                    description="Application user secret",
                )
            ],
        )
        DbProxyDefaultTargetGroup(
            self,
            "proxy_pool",
            db_proxy_name=self.proxy.name,
            connection_pool_config=DbProxyDefaultTargetGroupConnectionPoolConfig(
                max_connections_percent=90, max_idle_connections_percent=50, connection_borrow_timeout=120
            ),
        )
        DbProxyTarget(
            self,
            "proxy_target",
            db_proxy_name=self.proxy.name,
            target_group_name="default",
            db_cluster_identifier=self.cluster.cluster_identifier,
            depends_on=self.instances,
        )
        self.proxy_endpoint = self.proxy.endpoint
        # IAM authentication to the proxy: rds-db:connect on the proxy's resource id (prx-...).
        # A local keeps the expression's quotes out of the JSON policy documents that reference it.
        proxy_id = TerraformLocal(self, "proxy_resource_id", Fn.element(Fn.split(":", self.proxy.arn), 6)).as_string
        self.application_user = ctx.settings.database.application_user
        # The rotation alternates the secret's user between these two; the proxy holds whichever is
        # current, so clients may connect as either (lambdas/payment/handler.py, "Database users").
        self.connect_arns = [
            ctx.arn("rds-db", f"dbuser:{proxy_id}/{user}")
            for user in (self.application_user, f"{self.application_user}{CLONE_SUFFIX}")
        ]

    def grant_connect(self, role: LeastPrivilegeRole) -> None:
        """Let ``role`` connect to the proxy with an IAM token as the application user or its clone."""
        role.add_statements(
            Statement(sid="ConnectThroughProxy", actions=["rds-db:connect"], resources=self.connect_arns)
        )
