"""Rule packs: rules with their id, severity, message and the control each enforces."""

from __future__ import annotations

from shared_constructs.policy import rules_data as data
from shared_constructs.policy import rules_general as general
from shared_constructs.policy.model import Rule

BASELINE: tuple[Rule, ...] = (
    Rule(
        "REQUIRED_TAGS",
        "PCI DSS 12.5.1 (inventory); platform tag policy",
        "high",
        "provider default_tags lack required tags",
        ("provider.aws",),
        general.required_tags,
    ),
    Rule(
        "NAME_SUFFIX",
        "Platform naming policy",
        "medium",
        "name does not carry the environment suffix",
        ("*",),
        general.name_has_suffix,
    ),
    Rule(
        "IAM_NO_WILDCARD_ACTIONS",
        "PCI DSS 7.2.2; CIS AWS 1.16",
        "high",
        "policy allows wildcard actions",
        tuple(general.POLICY_ATTRIBUTES),
        general.no_wildcard_actions,
    ),
    Rule(
        "IAM_NO_INLINE_POLICIES",
        "PCI DSS 7.2.1; CIS AWS 1.15",
        "medium",
        "role has an inline policy",
        ("aws_iam_role", "aws_iam_role_policy"),
        general.no_inline_policies,
    ),
    Rule(
        "NO_OPEN_INGRESS",
        "PCI DSS 1.3.1; CIS AWS 5.2",
        "high",
        "ingress open to the internet",
        (
            "aws_security_group",
            "aws_security_group_rule",
            "aws_vpc_security_group_ingress_rule",
            "aws_network_acl_rule",
            "aws_network_acl",
        ),
        general.no_open_ingress,
    ),
    Rule(
        "KMS_ROTATION",
        "PCI DSS 3.6.1; CIS AWS 3.6",
        "high",
        "KMS key rotation is off",
        ("aws_kms_key",),
        data.kms_rotation,
    ),
    Rule(
        "S3_CMK_ENCRYPTION",
        "PCI DSS 3.5.1",
        "high",
        "bucket is not encrypted with a customer-managed key",
        ("aws_s3_bucket",),
        data.s3_cmk_encryption,
    ),
    Rule(
        "S3_VERSIONING", "PCI DSS 10.5.1", "medium", "bucket versioning is off", ("aws_s3_bucket",), data.s3_versioning
    ),
    Rule(
        "S3_PUBLIC_ACCESS_BLOCK",
        "PCI DSS 1.4.1; CIS AWS 2.1.4",
        "high",
        "bucket does not block public access",
        ("aws_s3_bucket",),
        data.s3_public_access_block,
    ),
    Rule(
        "S3_ACCESS_LOGGING",
        "PCI DSS 10.2.1",
        "medium",
        "bucket has no access logging",
        ("aws_s3_bucket",),
        data.s3_access_logging,
    ),
    Rule(
        "DYNAMODB_PITR_CMK",
        "PCI DSS 3.5.1; 12.10.1",
        "high",
        "table lacks point-in-time recovery or a customer-managed key",
        ("aws_dynamodb_table",),
        data.dynamodb_pitr_cmk,
    ),
    Rule(
        "LOG_GROUP_KMS_RETENTION",
        "PCI DSS 10.3.2; 10.5.1",
        "medium",
        "log group lacks a customer-managed key or retention",
        ("aws_cloudwatch_log_group",),
        data.log_group_kms_retention,
    ),
    Rule(
        "MESSAGING_CMK",
        "PCI DSS 3.5.1",
        "medium",
        "topic or queue lacks a customer-managed key",
        ("aws_sns_topic", "aws_sqs_queue"),
        data.messaging_cmk,
    ),
    Rule(
        "LAMBDA_TRACING",
        "PCI DSS 10.2.1",
        "low",
        "function is not traced",
        ("aws_lambda_function",),
        data.lambda_tracing,
    ),
    Rule(
        "LAMBDA_CONCURRENCY",
        "Platform capacity policy (sized concurrency)",
        "medium",
        "function has no reserved concurrency",
        ("aws_lambda_function",),
        data.lambda_concurrency,
    ),
    Rule(
        "RDS_ENCRYPTION",
        "PCI DSS 3.5.1",
        "high",
        "database storage is not encrypted with a customer-managed key",
        ("aws_rds_cluster", "aws_db_instance"),
        data.rds_encryption,
    ),
    Rule(
        "DESTROYABLE",
        "Platform lifecycle policy (destroyable unless protect_stateful)",
        "medium",
        "deletion protection without protect_stateful",
        ("aws_rds_cluster", "aws_db_instance", "aws_dynamodb_table", "aws_lb", "*"),
        general.destroyable_unless_protected,
    ),
    Rule(
        "TLS12",
        "PCI DSS 4.2.1",
        "high",
        "endpoint allows TLS older than 1.2",
        ("aws_lb_listener", "aws_api_gateway_domain_name", "aws_apigatewayv2_domain_name"),
        general.tls12,
    ),
)
"""The platform baseline every stack must pass."""
