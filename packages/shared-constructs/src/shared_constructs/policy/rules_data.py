"""Rules for encryption and durability of data stores, logs, messaging and functions."""

from __future__ import annotations

from shared_constructs.policy.model import (
    COMPLIANT,
    NOT_APPLICABLE,
    Context,
    Resource,
    Result,
    as_list,
    non_compliant,
)

AWS_MANAGED_ALIASES = ("alias/aws/",)


def _cmk(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not value.startswith(AWS_MANAGED_ALIASES)


def kms_rotation(resource: Resource, ctx: Context) -> Result:
    """Customer-managed keys rotate automatically."""
    if resource.type != "aws_kms_key":
        return NOT_APPLICABLE
    if resource.config.get("customer_master_key_spec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return NOT_APPLICABLE  # AWS rotates symmetric keys only
    return COMPLIANT if resource.config.get("enable_key_rotation") is True else non_compliant("rotation off")


def _companions(resource: Resource, type_: str) -> list[Resource]:
    return resource.stack.referencing(type_, "bucket", resource)


def s3_cmk_encryption(resource: Resource, ctx: Context) -> Result:
    """Buckets use SSE-KMS with a customer-managed key (and a bucket key)."""
    if resource.type != "aws_s3_bucket":
        return NOT_APPLICABLE
    configs = _companions(resource, "aws_s3_bucket_server_side_encryption_configuration")
    if not configs:
        return non_compliant("no encryption configuration")
    for config in configs:
        for rule in as_list(config.config.get("rule")):
            default = as_list(rule.get("apply_server_side_encryption_by_default"))
            if not default or default[0].get("sse_algorithm") not in ("aws:kms", "aws:kms:dsse"):
                return non_compliant("not SSE-KMS")
            if not _cmk(default[0].get("kms_master_key_id")):
                return non_compliant("no customer-managed key")
    return COMPLIANT


def s3_versioning(resource: Resource, ctx: Context) -> Result:
    """Buckets keep object versions."""
    if resource.type != "aws_s3_bucket":
        return NOT_APPLICABLE
    for versioning in _companions(resource, "aws_s3_bucket_versioning"):
        conf = as_list(versioning.config.get("versioning_configuration"))
        if conf and conf[0].get("status") == "Enabled":
            return COMPLIANT
    return non_compliant("versioning not enabled")


def s3_public_access_block(resource: Resource, ctx: Context) -> Result:
    """Buckets block every form of public access."""
    if resource.type != "aws_s3_bucket":
        return NOT_APPLICABLE
    keys = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    for block in _companions(resource, "aws_s3_bucket_public_access_block"):
        if all(block.config.get(k) is True for k in keys):
            return COMPLIANT
    return non_compliant("public access not fully blocked")


def s3_access_logging(resource: Resource, ctx: Context) -> Result:
    """Buckets write server access logs to a log bucket."""
    if resource.type != "aws_s3_bucket":
        return NOT_APPLICABLE
    return COMPLIANT if _companions(resource, "aws_s3_bucket_logging") else non_compliant("no access logging")


def dynamodb_pitr_cmk(resource: Resource, ctx: Context) -> Result:
    """Tables (and every replica) use a customer-managed key and point-in-time recovery."""
    if resource.type != "aws_dynamodb_table":
        return NOT_APPLICABLE
    cfg = resource.config
    pitr = as_list(cfg.get("point_in_time_recovery"))
    if not pitr or pitr[0].get("enabled") is not True:
        return non_compliant("point-in-time recovery off")
    sse = as_list(cfg.get("server_side_encryption"))
    if not sse or sse[0].get("enabled") is not True or not _cmk(sse[0].get("kms_key_arn")):
        return non_compliant("no customer-managed key")
    for replica in as_list(cfg.get("replica")):
        if not _cmk(replica.get("kms_key_arn")):
            return non_compliant(f"replica {replica.get('region_name')} has no customer-managed key")
        if replica.get("point_in_time_recovery") is not True:
            return non_compliant(f"replica {replica.get('region_name')} has point-in-time recovery off")
    return COMPLIANT


def log_group_kms_retention(resource: Resource, ctx: Context) -> Result:
    """Log groups are encrypted with a customer-managed key and expire."""
    if resource.type != "aws_cloudwatch_log_group":
        return NOT_APPLICABLE
    if not _cmk(resource.config.get("kms_key_id")):
        return non_compliant("no customer-managed key")
    if not resource.config.get("retention_in_days"):
        return non_compliant("no retention")
    return COMPLIANT


def messaging_cmk(resource: Resource, ctx: Context) -> Result:
    """SNS topics and SQS queues are encrypted with a customer-managed key."""
    if resource.type not in ("aws_sns_topic", "aws_sqs_queue"):
        return NOT_APPLICABLE
    return COMPLIANT if _cmk(resource.config.get("kms_master_key_id")) else non_compliant("no customer-managed key")


def lambda_tracing(resource: Resource, ctx: Context) -> Result:
    """Functions are traced with X-Ray."""
    if resource.type != "aws_lambda_function":
        return NOT_APPLICABLE
    tracing = as_list(resource.config.get("tracing_config"))
    return COMPLIANT if tracing and tracing[0].get("mode") == "Active" else non_compliant("tracing not Active")


def lambda_concurrency(resource: Resource, ctx: Context) -> Result:
    """Functions have reserved concurrency (no runaway scaling, no starving neighbours)."""
    if resource.type != "aws_lambda_function":
        return NOT_APPLICABLE
    value = resource.config.get("reserved_concurrent_executions")
    return COMPLIANT if isinstance(value, int) and value > 0 else non_compliant("no reserved concurrency")


def rds_encryption(resource: Resource, ctx: Context) -> Result:
    """Databases encrypt storage with a customer-managed key."""
    if resource.type not in ("aws_rds_cluster", "aws_db_instance"):
        return NOT_APPLICABLE
    cfg = resource.config
    if cfg.get("storage_encrypted") is not True:
        return non_compliant("storage not encrypted")
    return COMPLIANT if _cmk(cfg.get("kms_key_id")) else non_compliant("no customer-managed key")


def state_machine_cmk(resource: Resource, ctx: Context) -> Result:
    """State machines encrypt definitions and execution history with a customer-managed key."""
    if resource.type != "aws_sfn_state_machine":
        return NOT_APPLICABLE
    config = as_list(resource.config.get("encryption_configuration"))
    if not config or config[0].get("type") != "CUSTOMER_MANAGED_KMS_KEY":
        return non_compliant("encryption_configuration is not CUSTOMER_MANAGED_KMS_KEY")
    return COMPLIANT if _cmk(config[0].get("kms_key_id")) else non_compliant("no customer-managed key")


def lambda_environment_cmk(resource: Resource, ctx: Context) -> Result:
    """Functions with environment variables encrypt them with a customer-managed key."""
    if resource.type != "aws_lambda_function":
        return NOT_APPLICABLE
    environment = as_list(resource.config.get("environment"))
    if not environment or not environment[0].get("variables"):
        return NOT_APPLICABLE
    return (
        COMPLIANT
        if _cmk(resource.config.get("kms_key_arn"))
        else non_compliant("environment without a customer-managed key")
    )
