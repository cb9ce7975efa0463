"""Does a policy's resource string fit an action's ARN patterns? Terraform references included.

A resource string of a synthesized policy is a literal ARN (wildcards ``*`` and ``?`` allowed), a
Terraform reference (``${aws_sqs_queue.q.arn}``), or both (``${aws_s3_bucket.b.arn}/*``,
``arn:aws:logs:...:${data.aws_caller_identity.c.account_id}:log-group:x``). A reference to a
resource's ARN is replaced by a representative ARN of that resource type (:data:`REPRESENTATIVE_ARNS`),
so that ``${aws_sqs_queue.q.arn}`` fits an SQS ``queue`` pattern and not a topic's; any other
reference (an id, a name, a local) stands for one or more characters. The string then fits a pattern
such as ``arn:${Partition}:sqs:${Region}:${Account}:${QueueName}`` when one ARN could match both.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_ACCOUNT, _REGION = "123456789012", "us-east-1"
_PREFIX = f"{_REGION}:{_ACCOUNT}"

REPRESENTATIVE_ARNS: dict[tuple[str, str], str] = {
    ("aws_cloudwatch_event_bus", "arn"): f"arn:aws:events:{_PREFIX}:event-bus/example",
    ("aws_cloudwatch_event_rule", "arn"): f"arn:aws:events:{_PREFIX}:rule/example",
    ("aws_cloudwatch_log_group", "arn"): f"arn:aws:logs:{_PREFIX}:log-group:example",
    ("aws_dynamodb_table", "arn"): f"arn:aws:dynamodb:{_PREFIX}:table/example",
    ("aws_dynamodb_table", "stream_arn"): f"arn:aws:dynamodb:{_PREFIX}:table/example/stream/2024-01-01T00:00:00.000",
    ("aws_iam_role", "arn"): f"arn:aws:iam::{_ACCOUNT}:role/example",
    ("aws_kinesis_firehose_delivery_stream", "arn"): f"arn:aws:firehose:{_PREFIX}:deliverystream/example",
    ("aws_kinesis_stream", "arn"): f"arn:aws:kinesis:{_PREFIX}:stream/example",
    ("aws_kms_key", "arn"): f"arn:aws:kms:{_PREFIX}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ("aws_kms_replica_key", "arn"): f"arn:aws:kms:{_PREFIX}:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    ("aws_kms_alias", "arn"): f"arn:aws:kms:{_PREFIX}:alias/example",
    ("aws_lambda_function", "arn"): f"arn:aws:lambda:{_PREFIX}:function:example",
    ("aws_lambda_function", "qualified_arn"): f"arn:aws:lambda:{_PREFIX}:function:example:1",
    ("aws_s3_bucket", "arn"): "arn:aws:s3:::example",
    ("aws_secretsmanager_secret", "arn"): f"arn:aws:secretsmanager:{_PREFIX}:secret:example-AbCdEf",
    ("aws_sfn_state_machine", "arn"): f"arn:aws:states:{_PREFIX}:stateMachine:example",
    ("aws_sns_topic", "arn"): f"arn:aws:sns:{_PREFIX}:example",
    ("aws_sqs_queue", "arn"): f"arn:aws:sqs:{_PREFIX}:example",
    ("aws_ssm_parameter", "arn"): f"arn:aws:ssm:{_PREFIX}:parameter/example",
    ("aws_api_gateway_rest_api", "execution_arn"): f"arn:aws:execute-api:{_PREFIX}:a1b2c3d4e5",
    ("aws_api_gateway_stage", "execution_arn"): f"arn:aws:execute-api:{_PREFIX}:a1b2c3d4e5/v1",
    ("aws_db_proxy", "arn"): f"arn:aws:rds:{_PREFIX}:db-proxy:prx-0123456789abcdef0",
    ("aws_rds_cluster", "arn"): f"arn:aws:rds:{_PREFIX}:cluster:example",
    ("aws_route53_zone", "arn"): "arn:aws:route53:::hostedzone/Z0123456789",
    ("aws_wafv2_web_acl", "arn"): f"arn:aws:wafv2:{_PREFIX}:regional/webacl/example/0123",
}
"""(Terraform type, attribute) -> an ARN such a reference resolves to. Data sources share the table."""
ARN_ATTRIBUTES = frozenset({"arn", "stream_arn", "qualified_arn", "execution_arn"})
"""Attributes that hold a whole ARN: a reference to one of a type not in the table cannot be checked."""
VALUE_ATTRIBUTES = {("aws_caller_identity", "account_id"): _ACCOUNT, ("aws_region", "name"): _REGION}

REFERENCE = re.compile(r"\$\{(?:data\.)?(?P<type>[a-z0-9_]+)\.[A-Za-z0-9_-]+\.(?P<attr>[a-z_]+)\}")
_ANY_TOKEN = re.compile(r"\$\{.*?\}+")


class UncheckableArnError(ValueError):
    """A reference to the ARN of a resource type the table does not know."""


@dataclass(frozen=True)
class _Element:
    kind: str  # "lit" (one character), "star" (0+ of anything), "one" (1 of anything), "var" (1+ allowed)
    char: str = ""
    excluded: str = ""


_STAR, _ONE = _Element("star"), _Element("one")


def resolve(resource: str) -> list[_Element]:
    """The elements of ``resource`` with references replaced (see module docstring)."""

    def replace(match: re.Match[str]) -> str:
        key = (match["type"], match["attr"])
        if key in REPRESENTATIVE_ARNS:
            return REPRESENTATIVE_ARNS[key]
        if key in VALUE_ATTRIBUTES:
            return VALUE_ATTRIBUTES[key]
        if match["attr"] in ARN_ATTRIBUTES:
            raise UncheckableArnError(f"no representative ARN for {match['type']}.{match['attr']}")
        return "\0"

    text = _ANY_TOKEN.sub("\0", REFERENCE.sub(replace, resource))
    elements: list[_Element] = []
    for char in text:
        if char == "\0":
            elements += [_ONE, _STAR]  # one or more characters
        elif char == "*":
            elements.append(_STAR)
        elif char == "?":
            elements.append(_ONE)
        else:
            elements.append(_Element("lit", char))
    return elements


_NO_SLASH = frozenset({"BucketName", "Partition", "Region", "Account"})


@functools.lru_cache(maxsize=2048)
def _pattern(arn_pattern: str) -> tuple[_Element, ...]:
    """Elements of an ARN pattern: ``${Name}`` is one or more characters; no ``:`` except in the last
    variable (log-group and object names may hold anything), no ``/`` in bucket names."""
    parts = re.split(r"(\$\{[A-Za-z0-9]+\})", arn_pattern)
    elements: list[_Element] = []
    last_var = max((i for i, p in enumerate(parts) if p.startswith("${")), default=-1)
    for index, part in enumerate(parts):
        if part.startswith("${"):
            name = part[2:-1]
            excluded = ("" if index == last_var else ":") + ("/" if name in _NO_SLASH else "")
            elements.append(_Element("var", excluded=excluded))
        else:
            elements.extend(_Element("lit", c) for c in part)
    return tuple(elements)


def _intersects(policy: list[_Element], pattern: tuple[_Element, ...]) -> bool:
    """True when some string matches both ``policy`` (a glob) and ``pattern`` (an ARN pattern)."""
    seen: set[tuple[int, int, bool]] = set()
    stack = [(0, 0, False)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j, inside = state  # inside: the pattern variable at j has taken at least one character
        if i == len(policy) and j == len(pattern):
            return True
        p = policy[i] if i < len(policy) else None
        q = pattern[j] if j < len(pattern) else None
        if q is not None and q.kind == "var" and inside:
            stack.append((i, j + 1, False))  # the variable ends here
        if p is not None and p.kind == "star":
            stack.append((i + 1, j, inside))  # the star ends here
            if q is not None:  # the star produces the pattern's next character
                stack.append((i, j, True) if q.kind == "var" else (i, j + 1, False))
        elif p is not None and q is not None:
            if q.kind == "var":
                if p.kind == "one" or p.char not in q.excluded:
                    stack.append((i + 1, j, True))
            elif p.kind == "one" or p.char == q.char:
                stack.append((i + 1, j + 1, False))
    return False


def fits(resource: str, arn_pattern: str) -> bool:
    """True when ``resource`` (a policy resource string) can name an ARN of ``arn_pattern``.

    Raises :class:`UncheckableArnError` for a reference to an ARN of an unknown resource type.
    """
    return _intersects(resolve(resource), _pattern(arn_pattern))
