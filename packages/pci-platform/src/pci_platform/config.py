"""Settings of the PCI platform: one validated model read from ``config/<environment>.toml``.

Every cross-field rule is checked here so that a bad file fails synthesis with one readable line
per problem (``config/dev.toml: network: got ...; expected ...``) instead of failing in AWS.
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator
from shared_constructs.settings import (
    AccountId,
    BaseSettings,
    Cidr,
    Email,
    PositiveFloat,
    PositiveInt,
    Region,
    Strict,
    overlapping,
    within,
)

DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+amazonaws\.com$")
SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
SERVICE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*$")


class NetworkSettings(Strict):
    """The isolated VPC: three private tiers, one subnet per availability zone, in AZ order."""

    cidr: Cidr = "10.60.0.0/16"
    workload_subnets: list[Cidr] = Field(default=["10.60.0.0/20", "10.60.16.0/20", "10.60.32.0/20"])
    """Lambda functions (and part 2's database and batch hosts)."""
    firewall_subnets: list[Cidr] = Field(default=["10.60.48.0/28", "10.60.48.16/28", "10.60.48.32/28"])
    """Network Firewall endpoints (AWS asks for a /28 or larger subnet per AZ, dedicated to it)."""
    endpoint_subnets: list[Cidr] = Field(default=["10.60.49.0/24", "10.60.50.0/24", "10.60.51.0/24"])
    """Interface VPC endpoints."""
    interface_endpoints: list[str] = Field(
        default=[
            "ec2",
            "events",
            "kinesis-firehose",
            "kms",
            "logs",
            "monitoring",
            "secretsmanager",
            "sqs",
            "sts",
            "xray",
        ],
        min_length=1,
    )
    """AWS services the workloads call, reached through interface endpoints with private DNS (VPC endpoint
    service names: ``kinesis-firehose`` serves Firehose's API, ``monitoring`` CloudWatch's). The policy rule
    REACHABLE_SERVICES checks every service a function or host declares has one."""
    flow_log_retention_days: PositiveInt = 90
    """Days VPC and firewall flow logs stay in S3 before the lifecycle rule deletes them."""

    @model_validator(mode="after")
    def _tiers_fit(self) -> NetworkSettings:
        tiers = {
            "workload_subnets": self.workload_subnets,
            "firewall_subnets": self.firewall_subnets,
            "endpoint_subnets": self.endpoint_subnets,
        }
        counts = {name: len(cidrs) for name, cidrs in tiers.items()}
        if set(counts.values()) != {3}:
            raise ValueError(f"expected 3 subnets per tier (one per availability zone), got {counts}")
        outside = [c for cidrs in tiers.values() for c in cidrs if not within(c, self.cidr)]
        if outside:
            raise ValueError(f"subnets {outside} are outside the VPC network {self.cidr}")
        clashes = overlapping([c for cidrs in tiers.values() for c in cidrs])
        if clashes:
            raise ValueError(f"subnets overlap: {clashes}")
        bad = [s for s in self.interface_endpoints if not SERVICE.fullmatch(s)]
        if bad:
            raise ValueError(f"interface_endpoints must be service names such as 'kms', got {bad}")
        return self


class FirewallSettings(Strict):
    """AWS Network Firewall: the only egress path of the workload tier."""

    allowed_domains: list[str] = Field(
        default=[
            "ec2.ap-southeast-1.amazonaws.com",
            "events.ap-southeast-1.amazonaws.com",
            "firehose.ap-southeast-1.amazonaws.com",
            "kms.ap-southeast-1.amazonaws.com",
            "logs.ap-southeast-1.amazonaws.com",
            "monitoring.ap-southeast-1.amazonaws.com",
            "secretsmanager.ap-southeast-1.amazonaws.com",
            "sqs.ap-southeast-1.amazonaws.com",
            "sts.ap-southeast-1.amazonaws.com",
            "xray.ap-southeast-1.amazonaws.com",
        ],
        min_length=1,
    )
    """TLS server names (SNI) the workloads may reach; everything else is dropped. Traffic to the interface
    endpoints crosses the firewall too, so each endpoint's API name is listed. S3 is not listed: it is
    reached through the gateway endpoint, whose policy admits only this account."""
    rule_group_capacity: PositiveInt = 100

    @model_validator(mode="after")
    def _aws_domains(self) -> FirewallSettings:
        bad = [d for d in self.allowed_domains if not DOMAIN.fullmatch(d)]
        if bad:
            raise ValueError(f"allowed_domains must be AWS service endpoints (*.amazonaws.com), got {bad}")
        return self


class SecretsSettings(Strict):
    """The existing database credential secrets (docs/decisions/0005-secrets-are-referenced.md) and the
    application secret's rotation (alternating users)."""

    database_secret_name: str
    """Name of the existing application user's secret (JSON: engine, host, port, username, password,
    dbname, masterarn): the user RDS Proxy logs in as, rotated by this package."""
    master_secret_name: str
    """Name of the existing secret of the cluster's master user (JSON: username, password): the
    cluster's first credentials; the rotation and the schema step log in with it, the application never."""
    database_secret_kms_key: str | None = None
    """The operator's customer-managed key (a key ARN or ``alias/<name>``) that encrypts both
    secrets, when it is not this package's secrets key. Default: both are encrypted with this
    package's secrets key. Either way the plan checks the secrets' key and stops when it differs
    (README, deployment order)."""
    rotation_days: int = Field(default=30, ge=1, le=365)

    @model_validator(mode="after")
    def _names(self) -> SecretsSettings:
        if not SECRET_NAME.fullmatch(self.database_secret_name):
            raise ValueError(
                f"database_secret_name must be 1-512 of [A-Za-z0-9/_+=.@-], got {self.database_secret_name!r}"
            )
        if not SECRET_NAME.fullmatch(self.master_secret_name):
            raise ValueError(f"master_secret_name must be 1-512 of [A-Za-z0-9/_+=.@-], got {self.master_secret_name!r}")
        if self.master_secret_name == self.database_secret_name:
            raise ValueError(
                "master_secret_name must name another secret than database_secret_name: the application never logs in as the master user"
            )
        key = self.database_secret_kms_key
        arn = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}"
        if key is not None and not re.fullmatch(rf"{arn}|alias/[A-Za-z0-9/_-]{{1,250}}", key):
            raise ValueError(f"database_secret_kms_key must be a KMS key ARN or alias/<name>, got {key!r}")
        if key is not None and key.startswith("alias/aws/"):
            raise ValueError(f"database_secret_kms_key must be a customer-managed key, got the AWS managed {key!r}")
        return self


class ProcessingSettings(Strict):
    """The card-data processing function, sized from its declared load (docs/decisions/0003-sized-concurrency.md)."""

    target_tps: PositiveFloat = 2
    duration_s: PositiveFloat = 1.0
    reserved_concurrency: PositiveInt = 3
    incoming_prefix: str = Field(default="incoming/", pattern=r"^[a-z0-9/_-]+/$")


class DataSettings(Strict):
    """How long the data buckets keep what they hold (PCI DSS 3.2.1: no longer than needed)."""

    cardholder_retention_days: int = Field(default=30, ge=1, le=3650)
    """Days a raw cardholder object (full card number) is kept in the cardholder bucket before it
    expires; the processor has read it within minutes, so this is the window for reprocessing."""
    cardholder_noncurrent_days: int = Field(default=7, ge=1, le=365)
    """Days an expired or overwritten cardholder object version is kept before S3 deletes it, so a
    raw object is gone at most ``cardholder_retention_days + cardholder_noncurrent_days`` days after
    it arrived."""


SECRET_LIKE = re.compile(r"passw|secret|token|credential|private|api[-_]?key|signing|\bkey\b", re.IGNORECASE)
"""Setting names that say they hold a secret: refused in ``app_settings`` (TOML is in git)."""
SETTING_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class AppSecret(Strict):
    """A secret application setting: generated by the deployment, or an existing SecureString."""

    generate: int | None = Field(default=None, ge=16, le=4096)
    """Generate a random value of this many characters (letters and digits) when the parameter is
    created; it is kept on later deployments (replace the parameter to generate a new one)."""
    parameter: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_./-]{1,1010}$")
    """An existing SecureString parameter (created by the operator with this package's parameters
    key) that the payment function reads."""

    @model_validator(mode="after")
    def _one_source(self) -> AppSecret:
        if (self.generate is None) == (self.parameter is None):
            raise ValueError("give exactly one of generate (a length) or parameter (an existing parameter's name)")
        return self


class MonitoringSettings(Strict):
    """Thresholds of this platform's security alarms (account-wide CIS alarms live in security-baseline)."""

    firewall_blocked_threshold: PositiveInt = 10
    """Blocked egress attempts per 5 minutes that raise the alarm."""
    rotation_failure_threshold: PositiveInt = 1


class DatabaseSettings(Strict):
    """Aurora Serverless v2 PostgreSQL behind RDS Proxy (part 2)."""

    engine_version: str = Field(default="16.4", pattern=r"^\d+\.\d+$")
    database_name: str = Field(default="payments", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    application_user: str = Field(default="payments_app", pattern=r"^[a-z][a-z0-9_]{0,56}$")
    """The application's database user: the base ``username`` of the application secret (the rotation
    alternates it with ``<user>_clone``); the payment function connects through RDS Proxy as it."""
    min_capacity: float = Field(default=0.5, ge=0.5, le=256)
    max_capacity: float = Field(default=2, ge=1, le=256)
    reader_count: int = Field(default=2, ge=0, le=14)
    backup_retention_days: int = Field(default=7, ge=1, le=35)

    @model_validator(mode="after")
    def _capacity(self) -> DatabaseSettings:
        if self.max_capacity < self.min_capacity:
            raise ValueError(f"max_capacity {self.max_capacity} is below min_capacity {self.min_capacity}")
        return self


class ApplicationSettings(Strict):
    """The payment API (internal ALB -> Lambda) and the batch Auto Scaling group (part 2)."""

    certificate_arn: str
    """Certificate of the HTTPS listener: an existing ACM certificate (private CA or imported) or an
    IAM server certificate (the load balancer accepts both)."""
    client_cidrs: list[Cidr] = Field(default=["10.60.0.0/16"], min_length=1)
    """Networks allowed to reach the internal load balancer on 443."""
    payment_path: str = Field(default="/api/payments", pattern=r"^/[a-z0-9/_-]+$")
    target_tps: PositiveFloat = 5
    duration_s: PositiveFloat = 0.5
    reserved_concurrency: PositiveInt = 5
    batch_instance_type: str = Field(default="t3.micro", pattern=r"^[a-z0-9]+\.[a-z0-9]+$")
    batch_min: int = Field(default=1, ge=0)
    batch_max: PositiveInt = 2
    batch_ami_parameter: str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    os_repository_buckets: list[str] = Field(default=["al2023-repos-{region}-de612dc2"], min_length=1)
    """The S3 buckets holding the image's package repositories (``{region}``: the stack's region),
    which the hosts read through the S3 gateway endpoint to install the CloudWatch agent and the
    worker's dependencies. Default: Amazon Linux 2023's, for the default image."""
    elb_log_account: AccountId | None = None
    """The Elastic Load Balancing account of the region that delivers access logs. Default: AWS's
    documented account for ``region`` (see ``application.py``)."""

    def repository_buckets(self, region: str) -> list[str]:
        """``os_repository_buckets`` in ``region``."""
        return [bucket.format(region=region) for bucket in self.os_repository_buckets]

    @model_validator(mode="after")
    def _sizes(self) -> ApplicationSettings:
        acm = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}"
        iam = r"arn:aws[a-z-]*:iam::\d{12}:server-certificate/[\w+=,.@/-]{1,128}"
        if not re.fullmatch(f"{acm}|{iam}", self.certificate_arn):
            raise ValueError(
                "certificate_arn must be an ACM certificate or IAM server-certificate ARN, "
                f"got {self.certificate_arn!r}"
            )
        bad = [b for b in self.os_repository_buckets if not re.fullmatch(r"[a-z0-9.{}-]{3,63}", b)]
        if bad:
            raise ValueError(f"os_repository_buckets: got {bad}; expected S3 bucket names ('{{region}}' allowed)")
        if self.batch_min > self.batch_max:
            raise ValueError(f"batch_min {self.batch_min} exceeds batch_max {self.batch_max}")
        if "0.0.0.0/0" in self.client_cidrs:
            raise ValueError("client_cidrs must not contain 0.0.0.0/0: the load balancer is internal")
        return self


class WafSettings(Strict):
    """AWS WAF on the load balancer (part 2)."""

    rate_limit: int = Field(default=1000, ge=10, le=2_000_000_000)
    """Requests per 5 minutes per client IP."""
    blocked_countries: list[str] = Field(default_factory=list)
    """ISO 3166 alpha-2 country codes to block. Default: none (no geographic rule)."""
    max_payment_body_bytes: int = Field(default=8192, ge=64, le=65536)

    @model_validator(mode="after")
    def _countries(self) -> WafSettings:
        bad = [c for c in self.blocked_countries if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"blocked_countries must be ISO 3166 alpha-2 codes such as 'KP', got {bad}")
        return self


class DnsSettings(Strict):
    """Private hosted zone with failover records (part 2)."""

    zone_name: str = Field(default="pci.internal", pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
    record_name: str = Field(default="payments", pattern=r"^[a-z0-9-]+$")
    standby_dns_name: str | None = Field(default=None, pattern=r"^[a-z0-9.-]+$")
    """Where the SECONDARY record points (for example a DR site's internal load balancer). Default:
    this load balancer (both records resolve here; the health check still drives the answer)."""
    standby_alarm_name: str | None = Field(default=None, min_length=1, max_length=255)
    """The CloudWatch alarm (in this region) that is in ALARM while the standby is unhealthy: the
    SECONDARY record's health check follows it. Required with ``standby_dns_name``; without a standby
    the SECONDARY is this load balancer and follows the same 5XX alarm as the PRIMARY."""

    @model_validator(mode="after")
    def _standby(self) -> DnsSettings:
        if self.standby_dns_name and not self.standby_alarm_name:
            raise ValueError(
                "dns.standby_alarm_name is required with dns.standby_dns_name (the secondary's health check)"
            )
        return self


class AlertSettings(Strict):
    """Operational alarms to the ops topic with e-mail subscriptions (part 2)."""

    emails: list[Email] = Field(default_factory=list)
    cpu_percent: PositiveFloat = 80
    memory_percent: PositiveFloat = 80
    queue_depth: PositiveInt = 100
    failed_payments: PositiveInt = 5
    alb_5xx: PositiveInt = 10
    """ELB 5XX responses per minute that mark the primary record unhealthy."""


class Settings(BaseSettings):
    """Settings of pci-platform."""

    region: Region = "ap-southeast-1"
    approved_regions: list[Region] = Field(default=["ap-southeast-1"], min_length=1)
    """Regions where the platform's roles may act; every other region is denied explicitly."""
    baseline_region: Region | None = None
    """Region of the security-baseline stack whose security topic receives alerts. Default: ``region``."""
    network: NetworkSettings = NetworkSettings()
    firewall: FirewallSettings = FirewallSettings()
    secrets: SecretsSettings
    processing: ProcessingSettings = ProcessingSettings()
    data: DataSettings = DataSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    database: DatabaseSettings = DatabaseSettings()
    application: ApplicationSettings
    waf: WafSettings = WafSettings()
    dns: DnsSettings = DnsSettings()
    alerts: AlertSettings = AlertSettings()
    app_settings: dict[str, str] = Field(default_factory=lambda: {"default-currency": "SGD"})
    """Application settings stored as SecureString parameters (values from configuration, never
    code). Not for secrets: a name that says it holds one is refused (use ``app_secrets``)."""
    app_secrets: dict[str, AppSecret] = Field(default_factory=dict)
    """Secret application settings by name, stored under ``app/<name>``: generated at deployment
    or read from an existing parameter, never written in configuration."""

    @model_validator(mode="after")
    def _app_settings(self) -> Settings:
        for name in [*self.app_settings, *self.app_secrets]:
            if not SETTING_NAME.fullmatch(name):
                raise ValueError(f"app setting name {name!r} must be 1-63 of [a-z0-9-]")
        secret = sorted(name for name in self.app_settings if SECRET_LIKE.search(name))
        if secret:
            raise ValueError(
                f"app_settings {secret} look like secrets, and configuration is kept in git: "
                "declare them under app_secrets (generate = <length> or parameter = <existing name>)"
            )
        both = sorted(set(self.app_settings) & set(self.app_secrets))
        if both:
            raise ValueError(f"{both} are both in app_settings and app_secrets")
        return self

    @model_validator(mode="after")
    def _regions(self) -> Settings:
        if self.region not in self.approved_regions:
            raise ValueError(f"region {self.region!r} must be one of approved_regions {self.approved_regions}")
        domains = self.firewall.allowed_domains
        foreign = [d for d in domains if f".{self.region}." not in d and not d.startswith("sts.")]
        if foreign:
            raise ValueError(f"firewall domains {foreign} are not endpoints of region {self.region!r}")
        return self
