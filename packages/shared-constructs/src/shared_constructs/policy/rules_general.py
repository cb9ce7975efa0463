"""Rules for tags, names, IAM, network exposure, lifecycle protection and TLS."""

from __future__ import annotations

from shared_constructs.policy.model import (
    COMPLIANT,
    NOT_APPLICABLE,
    Context,
    Resource,
    Result,
    as_list,
    non_compliant,
    policy_documents,
)

OPEN_CIDRS = {"0.0.0.0/0", "::/0"}

# Attributes that hold a resource's identifying name, and types whose "name" is not one
# (DNS names, fixed AWS names).
NAME_KEYS = ("name", "bucket", "function_name", "cluster_identifier", "identifier", "stream_name")
NAME_EXEMPT_TYPES = frozenset(
    {
        "aws_route53_record",
        "aws_route53_zone",
        "aws_acm_certificate",
        "aws_api_gateway_domain_name",
        "aws_api_gateway_base_path_mapping",
        "aws_cloudwatch_log_group",  # fixed AWS patterns (/aws/lambda/<function>) carry the function's name
        "aws_iam_role_policy_attachment",
        "aws_guardduty_detector_feature",  # ``name`` is the protection plan (S3_DATA_EVENTS, ...), fixed by AWS
    }
)

POLICY_ATTRIBUTES = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_s3_bucket_policy": "policy",
    "aws_kms_key": "policy",
    "aws_kms_replica_key": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_sqs_queue": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_cloudwatch_event_bus_policy": "policy",
    "aws_secretsmanager_resource_policy": "policy",
    "aws_vpc_endpoint": "policy",
    "aws_cloudwatch_log_resource_policy": "policy_document",
}

TLS12_LISTENER_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    }
)


def required_tags(resource: Resource, ctx: Context) -> Result:
    """An AWS provider's ``default_tags`` carry every required tag with a value."""
    blocks = as_list(resource.config.get("default_tags"))
    tags = blocks[0].get("tags", {}) if blocks else {}
    missing = [k for k in ctx.required_tags if not str(tags.get(k, "")).strip()]
    return non_compliant(f"missing {', '.join(missing)}") if missing else COMPLIANT


def name_has_suffix(resource: Resource, ctx: Context) -> Result:
    """Every identifying name carries the environment suffix."""
    if resource.type in NAME_EXEMPT_TYPES:
        return NOT_APPLICABLE
    names = [(k, resource.config[k]) for k in NAME_KEYS if isinstance(resource.config.get(k), str)]
    if not names:
        return NOT_APPLICABLE
    for key, value in names:
        if value.startswith("${"):
            continue  # a reference to another resource's (checked) name
        if ctx.suffix not in value:
            return non_compliant(f"{key}={value!r} lacks suffix {ctx.suffix!r}")
    return COMPLIANT


def no_wildcard_actions(resource: Resource, ctx: Context) -> Result:
    """Allow statements name their actions; no ``*``, ``service:*`` or ``service:Get*``."""
    attribute = POLICY_ATTRIBUTES.get(resource.type)
    if attribute is None or attribute not in resource.config:
        return NOT_APPLICABLE
    for document in policy_documents(resource.config[attribute]):
        for statement in as_list(document.get("Statement")):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                return non_compliant("Allow with NotAction")
            wild = [a for a in as_list(statement.get("Action")) if "*" in a]
            if wild:
                return non_compliant(f"wildcard actions {wild}")
    return COMPLIANT


def no_inline_policies(resource: Resource, ctx: Context) -> Result:
    """Roles use customer-managed policies only."""
    if resource.type == "aws_iam_role_policy":
        return non_compliant("inline role policy")
    if resource.type == "aws_iam_role":
        return non_compliant("inline_policy block") if resource.config.get("inline_policy") else COMPLIANT
    return NOT_APPLICABLE


def _open(cidrs: object) -> bool:
    return any(c in OPEN_CIDRS for c in as_list(cidrs))


def no_open_ingress(resource: Resource, ctx: Context) -> Result:
    """No security-group ingress or NACL allow rule from ``0.0.0.0/0`` or ``::/0``."""
    cfg = resource.config
    if resource.type == "aws_security_group":
        for rule in as_list(cfg.get("ingress")):
            if _open(rule.get("cidr_blocks")) or _open(rule.get("ipv6_cidr_blocks")):
                return non_compliant("ingress from the internet")
        return COMPLIANT
    if resource.type == "aws_security_group_rule":
        if cfg.get("type") != "ingress":
            return NOT_APPLICABLE
        return (
            non_compliant("ingress from the internet")
            if _open(cfg.get("cidr_blocks")) or _open(cfg.get("ipv6_cidr_blocks"))
            else COMPLIANT
        )
    if resource.type == "aws_vpc_security_group_ingress_rule":
        return (
            non_compliant("ingress from the internet")
            if _open(cfg.get("cidr_ipv4")) or _open(cfg.get("cidr_ipv6"))
            else COMPLIANT
        )
    if resource.type == "aws_network_acl_rule":
        if cfg.get("egress") or cfg.get("rule_action") != "allow":
            return NOT_APPLICABLE
        return (
            non_compliant("NACL allows the internet")
            if _open(cfg.get("cidr_block")) or _open(cfg.get("ipv6_cidr_block"))
            else COMPLIANT
        )
    if resource.type == "aws_network_acl":
        for rule in as_list(cfg.get("ingress")):
            if rule.get("action") == "allow" and (_open(rule.get("cidr_block")) or _open(rule.get("ipv6_cidr_block"))):
                return non_compliant("NACL allows the internet")
        return COMPLIANT
    return NOT_APPLICABLE


PROTECTION_FLAGS = {
    "aws_rds_cluster": "deletion_protection",
    "aws_db_instance": "deletion_protection",
    "aws_dynamodb_table": "deletion_protection_enabled",
    "aws_lb": "enable_deletion_protection",
}


def destroyable_unless_protected(resource: Resource, ctx: Context) -> Result:
    """No deletion protection or ``prevent_destroy`` unless ``protect_stateful`` is set."""
    if ctx.protect_stateful:
        return NOT_APPLICABLE
    flag = PROTECTION_FLAGS.get(resource.type)
    if flag and resource.config.get(flag) is True:
        return non_compliant(f"{flag} is on")
    lifecycle = resource.config.get("lifecycle") or {}
    if isinstance(lifecycle, dict) and lifecycle.get("prevent_destroy"):
        return non_compliant("prevent_destroy is on")
    if resource.type in ("aws_rds_cluster", "aws_db_instance") and resource.config.get("skip_final_snapshot") is False:
        return non_compliant("skip_final_snapshot is false")
    return COMPLIANT


def tls12(resource: Resource, ctx: Context) -> Result:
    """HTTPS listeners and API custom domains negotiate TLS 1.2 or newer only."""
    cfg = resource.config
    if resource.type == "aws_lb_listener":
        protocol = cfg.get("protocol", "HTTP")
        if protocol in ("HTTPS", "TLS"):
            policy = cfg.get("ssl_policy")
            return COMPLIANT if policy in TLS12_LISTENER_POLICIES else non_compliant(f"ssl_policy {policy!r}")
        if protocol == "HTTP":
            actions = as_list(cfg.get("default_action"))
            redirects = all(
                a.get("type") == "redirect"
                and as_list(a.get("redirect"))
                and as_list(a.get("redirect"))[0].get("protocol") == "HTTPS"
                for a in actions
            )
            return COMPLIANT if actions and redirects else non_compliant("plain HTTP listener")
        return NOT_APPLICABLE
    if resource.type == "aws_api_gateway_domain_name":
        return (
            COMPLIANT
            if cfg.get("security_policy") == "TLS_1_2"
            else non_compliant(f"security_policy {cfg.get('security_policy')!r}")
        )
    if resource.type == "aws_apigatewayv2_domain_name":
        conf = as_list(cfg.get("domain_name_configuration"))
        policy = conf[0].get("security_policy") if conf else None
        return COMPLIANT if policy == "TLS_1_2" else non_compliant(f"security_policy {policy!r}")
    return NOT_APPLICABLE
