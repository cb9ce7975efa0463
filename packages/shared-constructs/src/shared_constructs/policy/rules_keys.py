"""Every customer-managed key can be used by those that must use it.

For each key of a stack, everything that refers to it is a use, and each use needs principals
allowed in the key policy (:data:`SERVICE_USES` and :func:`_uses`): the service principals that
write what the key encrypts (CloudWatch Logs, the services publishing to a topic or sending to a
queue, EventBridge, CloudTrail, GuardDuty, Step Functions log delivery), the Auto Scaling
service-linked role for EBS volumes of launch templates, every role whose identity policy reads or
writes what the key encrypts, and the deployer where Terraform itself must use the key (SSM
SecureString values and secret versions it reads back, grants RDS, DynamoDB and Firehose make).

A principal may use the key when a statement names it, or when a statement delegates to the
account (the root, or ``*`` limited by ``kms:CallerAccount``) and, for a role, the role's own
policy grants the same actions on the key. A ``kms:ViaService`` condition must name the service the
use goes through; an encryption-context condition on the log group or bus must name that one.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from shared_constructs.policy.arns import fits
from shared_constructs.policy.declare import encrypts_of
from shared_constructs.policy.graph import (
    REFERENCE,
    ROOT_PRINCIPAL,
    addresses_in,
    conditions,
    referrers,
    region_of,
    role_statements,
    statements,
    target,
)
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

DECRYPT = ("kms:Decrypt",)
WRITE = ("kms:Decrypt", "kms:GenerateDataKey")
GRANTS = ("kms:CreateGrant", "kms:DescribeKey")
AUTOSCALING_ROLE = ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
AUTOSCALING_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
"""What EC2 Auto Scaling's service-linked role needs to launch instances with encrypted volumes."""
KEY_PATTERN = "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}"

DATA_ACTIONS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "aws_sqs_queue": ("sqs", {"sqs:sendmessage": WRITE, "sqs:sendmessagebatch": WRITE, "sqs:receivemessage": DECRYPT}),
    "aws_sns_topic": ("sns", {"sns:publish": WRITE}),
    "aws_s3_bucket": ("s3", {"s3:getobject": DECRYPT, "s3:getobjectversion": DECRYPT, "s3:putobject": WRITE}),
    "aws_ssm_parameter": ("ssm", {"ssm:getparameter": DECRYPT, "ssm:getparameters": DECRYPT}),
    "aws_secretsmanager_secret": (
        "secretsmanager",
        {"secretsmanager:getsecretvalue": DECRYPT, "secretsmanager:putsecretvalue": WRITE},
    ),
    "data.aws_secretsmanager_secret": ("secretsmanager", {"secretsmanager:getsecretvalue": DECRYPT}),
}
"""Encrypted resource type -> (service the key is used through, data action -> key actions a role needs)."""
DEPLOYER_USES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "aws_rds_cluster": ("rds", GRANTS, "creates the encrypted cluster"),
    "aws_rds_cluster_instance": ("rds", GRANTS, "creates the encrypted instance"),
    "aws_db_instance": ("rds", GRANTS, "creates the encrypted instance"),
    "aws_dynamodb_table": ("dynamodb", GRANTS, "creates the encrypted table"),
    "aws_kinesis_firehose_delivery_stream": ("firehose", GRANTS, "creates the encrypted stream"),
    "aws_lambda_function": ("lambda", GRANTS, "encrypts the environment"),
    "aws_xray_encryption_config": ("xray", ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"), "configures X-Ray"),
    "aws_networkfirewall_firewall": ("network-firewall", GRANTS, "creates the encrypted firewall"),
    "aws_networkfirewall_rule_group": ("network-firewall", GRANTS, "creates the encrypted rule group"),
    "aws_networkfirewall_firewall_policy": ("network-firewall", GRANTS, "creates the encrypted policy"),
}
"""Resource type -> (service, actions, why): what the deployer does with the key when it applies."""
SERVICE_USES: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws_cloudwatch_event_bus": ("events.amazonaws.com", WRITE),
    "aws_cloudtrail": ("cloudtrail.amazonaws.com", ("kms:GenerateDataKey",)),
    "aws_guardduty_publishing_destination": ("guardduty.amazonaws.com", ("kms:GenerateDataKey",)),
}
"""Resource type -> (service principal, actions): services that encrypt with the key themselves."""


@dataclass(frozen=True)
class Need:
    """A principal that must be allowed ``actions`` on the key (through ``via`` when set)."""

    kind: str  # "service", "role", "deployer" or "principal" (an AWS principal by ARN suffix)
    principal: str
    actions: tuple[str, ...]
    why: str
    via: str = ""
    context: tuple[str, str] | None = None  # (encryption-context condition key, value it must end with)


def _role_needs(consumer: Resource) -> list[Need]:
    """Roles of the stack whose policies read or write ``consumer``."""
    via, table = DATA_ACTIONS.get(consumer.type, ("", {}))
    needs = []
    for role in consumer.stack.resources("aws_iam_role"):
        for statement in role_statements(consumer.stack, role):
            if statement.get("Effect") != "Allow":
                continue
            if consumer.address not in addresses_in(statement.get("Resource")):
                continue
            for action in as_list(statement.get("Action")):
                actions = table.get(str(action).lower())
                if actions:
                    needs.append(Need("role", role.address, actions, f"{role.name} calls {action}", via))
    return needs


def _policy_services(consumer: Resource, policy_type: str, key: str, action: str) -> list[str]:
    """Service principals the resource policy of ``consumer`` lets call ``action``: its policy
    resources (``policy_type`` naming it in ``key``) and its own ``policy`` attribute, if any."""
    found = []
    policies = [
        p.config.get("policy")
        for p in consumer.stack.resources(policy_type)
        if consumer.address in addresses_in(p.config.get(key))
    ]
    for policy in [*policies, consumer.config.get("policy")]:
        for document in policy_documents(policy):
            for statement in statements(document):
                actions = [str(a).lower() for a in as_list(statement.get("Action"))]
                principal = statement.get("Principal")
                if statement.get("Effect") == "Allow" and action in actions and isinstance(principal, dict):
                    found += [str(s) for s in as_list(principal.get("Service"))]
    return found


def _uses(consumer: Resource, ctx: Context, key_address: str = "") -> list[Need]:
    """What using the key (``key_address``) for ``consumer`` requires (module docstring)."""
    cfg, stack, kind = consumer.config, consumer.stack, consumer.type
    needs: list[Need] = []
    if kind == "aws_cloudwatch_log_group":
        service = f"logs.{region_of(consumer)}.amazonaws.com"
        context = ("kms:encryptioncontext:aws:logs:arn", f":log-group:{cfg.get('name')}")
        needs.append(
            Need(
                "service", service, ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"), "log group", context=context
            )
        )
    elif kind == "aws_cloudwatch_event_bus":
        context = ("kms:encryptioncontext:aws:events:event-bus:arn", f":event-bus/{cfg.get('name')}")
        needs.append(Need("service", "events.amazonaws.com", WRITE, "event bus", context=context))
    elif kind in SERVICE_USES:
        service, actions = SERVICE_USES[kind]
        needs.append(Need("service", service, actions, kind.removeprefix("aws_")))
    elif kind == "aws_sns_topic":
        for service in _policy_services(consumer, "aws_sns_topic_policy", "arn", "sns:publish"):
            needs.append(Need("service", service, WRITE, "publishes to the topic"))
    elif kind == "aws_sqs_queue":
        for service in _policy_services(consumer, "aws_sqs_queue_policy", "queue_url", "sqs:sendmessage"):
            needs.append(Need("service", service, WRITE, "sends to the queue"))
        for subscription in stack.resources("aws_sns_topic_subscription"):
            if subscription.config.get("protocol") == "sqs" and consumer.address in addresses_in(
                subscription.config.get("endpoint")
            ):
                needs.append(Need("service", "sns.amazonaws.com", WRITE, "delivers the topic's messages"))
    elif kind == "aws_launch_template":
        # Only a key that encrypts the volumes is Auto Scaling's to use (user data may name another).
        volumes = addresses_in(cfg.get("block_device_mappings"))
        if (not key_address or key_address in volumes) and any(
            consumer.address in addresses_in(g.config.get("launch_template"))
            for g in stack.resources("aws_autoscaling_group")
        ):
            needs.append(
                Need("principal", AUTOSCALING_ROLE, AUTOSCALING_ACTIONS, "launches instances with encrypted volumes")
            )
    elif kind == "aws_sfn_state_machine":
        role = target(stack, cfg.get("role_arn"))
        if role is not None:
            needs.append(Need("role", role.address, WRITE, "runs the encrypted state machine", "states"))
        level = (as_list(cfg.get("logging_configuration")) or [{}])[0].get("level", "OFF")
        if level != "OFF":
            needs.append(Need("service", "delivery.logs.amazonaws.com", DECRYPT, "delivers the state machine's logs"))
    elif kind == "aws_kinesis_firehose_delivery_stream":
        role = target(stack, (as_list(cfg.get("extended_s3_configuration")) or [{}])[0].get("role_arn"))
        if role is not None:
            needs.append(Need("role", role.address, WRITE, "delivers to the encrypted bucket", "s3"))
    elif kind == "aws_config_delivery_channel":
        for recorder in stack.resources("aws_config_configuration_recorder"):
            role = target(stack, recorder.config.get("role_arn"))
            if role is not None:
                needs.append(Need("role", role.address, WRITE, "delivers configuration snapshots", "s3"))
    elif kind == "aws_s3_bucket_server_side_encryption_configuration":
        bucket = target(stack, cfg.get("bucket"))
        if bucket is not None:
            for service in _policy_services(bucket, "aws_s3_bucket_policy", "bucket", "s3:putobject"):
                needs.append(Need("service", service, ("kms:GenerateDataKey",), "delivers to the bucket"))
            needs += _role_needs(bucket)
    elif kind == "aws_lambda_function":
        role = target(stack, cfg.get("role"))
        if role is not None:
            needs.append(Need("role", role.address, DECRYPT, "decrypts the function's environment"))
    needs += _deployer_needs(consumer, ctx)
    if kind in DATA_ACTIONS:
        needs += _role_needs(consumer)
    return needs


def _deployer_needs(consumer: Resource, ctx: Context) -> list[Need]:
    if not ctx.deployer:
        return []
    kind, cfg, stack = consumer.type, consumer.config, consumer.stack
    if kind in DEPLOYER_USES:
        via, actions, why = DEPLOYER_USES[kind]
        return [Need("deployer", ctx.deployer, actions, f"the deployer {why}", via)]
    if kind == "aws_ssm_parameter" and cfg.get("type") == "SecureString":
        write = "kms:GenerateDataKey" if cfg.get("tier") == "Advanced" else "kms:Encrypt"
        return [
            Need(
                "deployer", ctx.deployer, ("kms:Decrypt", write), "the deployer writes and reads back the value", "ssm"
            )
        ]
    if kind in ("aws_secretsmanager_secret", "data.aws_secretsmanager_secret"):
        versions = [
            v
            for v in [*stack.resources(), *stack.data_sources()]
            if v.type.endswith("aws_secretsmanager_secret_version")
        ]
        if any(consumer.address in addresses_in(v.config.get("secret_id")) for v in versions):
            return [
                Need("deployer", ctx.deployer, DECRYPT, "the deployer reads back the secret version", "secretsmanager")
            ]
    return []


def _allowed_actions(statement: dict[str, Any], need: Need) -> set[str]:
    """The needed actions ``statement`` allows, given its ViaService and encryption-context conditions."""
    if statement.get("Effect") != "Allow":
        return set()
    found = conditions(statement)
    via = found.get("kms:viaservice")
    if via is not None and not (need.via and any(v.startswith(f"{need.via}.") for v in via)):
        return set()  # the statement admits calls through another service, or through none
    context = found.get(need.context[0], []) if need.context is not None else []
    if need.context is not None and context and not any(v.endswith(need.context[1]) for v in context):
        return set()
    granted = [str(a).lower() for a in as_list(statement.get("Action"))]
    return {a for a in need.actions if any(fnmatch.fnmatchcase(a.lower(), g) for g in granted)}


def _principals(statement: dict[str, Any], kind: str) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"] if kind == "AWS" else []
    return [str(p) for p in as_list(principal.get(kind))] if isinstance(principal, dict) else []


def _delegates(statement: dict[str, Any]) -> bool:
    """The statement hands the decision to IAM in the account (root, or ``*`` limited to the account)."""
    principals = _principals(statement, "AWS")
    if any(ROOT_PRINCIPAL.match(p) for p in principals):
        return True
    return "*" in principals and "kms:calleraccount" in conditions(statement)


def _names(statement: dict[str, Any], need: Need) -> bool:
    if need.kind == "service":
        services = _principals(statement, "Service")
        regional = need.principal.split(".")[0] + ".amazonaws.com"
        return need.principal in services or (need.principal.startswith("logs.") and regional in services)
    principals = _principals(statement, "AWS")
    if need.kind == "role":
        return any(m["address"] == need.principal for p in principals for m in REFERENCE.finditer(p))
    if need.kind == "principal":
        return any(p.endswith(need.principal) for p in principals)
    return need.principal in principals


def _identity_grants(key: Resource, need: Need) -> set[str]:
    """The needed actions the role's own policies grant on ``key``."""
    role = key.stack.get(need.principal)
    if role is None:
        return set()
    granted: set[str] = set()
    for statement in role_statements(key.stack, role):
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if key.address in addresses_in(resources) or any(
            r == "*" or (":key/" in r and "${" not in r and fits(r, KEY_PATTERN)) for r in resources
        ):
            granted |= _allowed_actions(statement, need)
    return granted


def missing(key: Resource, need: Need) -> set[str]:
    """The actions of ``need`` the key policy (with IAM where it delegates) does not allow."""
    named: set[str] = set()
    delegated: set[str] = set()
    for document in policy_documents(key.config.get("policy")):
        for statement in statements(document):
            allowed = _allowed_actions(statement, need)
            if _names(statement, need):
                named |= allowed
            if need.kind in ("role", "deployer") and _delegates(statement):
                delegated |= allowed
    if need.kind == "role":
        delegated &= _identity_grants(key, need)
    return set(need.actions) - named - delegated


def _consumers(key: Resource) -> list[Resource]:
    stack = key.stack
    found = [r for r in referrers(stack, key.address) if r.type not in ("aws_kms_alias", "aws_iam_policy")]
    declared = [stack.get(address) for address in addresses_in(encrypts_of(key.config))]
    return found + [d for d in declared if d is not None]


def key_usage(resource: Resource, ctx: Context) -> Result:
    """Every principal that must use a customer-managed key may use it (module docstring)."""
    if resource.type not in ("aws_kms_key", "aws_kms_replica_key"):
        return NOT_APPLICABLE
    problems: list[str] = []
    for consumer in _consumers(resource):
        for need in _uses(consumer, ctx, resource.address):
            lacking = missing(resource, need)
            if lacking:
                who = need.principal if need.kind != "role" else need.principal.split(".", 1)[1]
                problems.append(f"{who} ({need.why}, {consumer.address}) lacks {', '.join(sorted(lacking))}")
    unique = list(dict.fromkeys(problems))
    extra = f" (+{len(unique) - 4} more)" if len(unique) > 4 else ""
    return non_compliant("; ".join(unique[:4]) + extra) if unique else COMPLIANT
