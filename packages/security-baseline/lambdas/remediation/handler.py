"""Remediate AWS Config non-compliance that is safe to fix automatically; report the rest.

Triggered by an EventBridge rule on ``Config Rules Compliance Change`` events whose new evaluation
is ``NON_COMPLIANT`` (also accepts the same events delivered through SNS). What it does depends on
the rule that fired, looked up in ``RULE_ACTIONS`` (rule name -> action):

- ``s3_public_access_block``: re-apply the four S3 public access block settings on the bucket.
- ``required_tags``: add the missing required tags from ``TAG_DEFAULTS`` (existing values are
  never overwritten); S3 buckets and EC2 resources only.
- anything else: nothing is changed; the finding is reported as needing a person.

Every event gives one structured JSON log line and one result; results that were not fixed are
published to ``REPORT_TOPIC_ARN`` when set. The handler never raises: malformed events, resources
that no longer exist and AWS errors all become results with ``status`` and ``detail``.

Environment:
    RULE_ACTIONS      JSON object, Config rule name -> action (above). Default: {}.
    TAG_DEFAULTS      JSON object, tag key -> value used when the tag is missing. Default: {}.
    REQUIRED_TAG_KEYS comma-separated keys the tag rule requires. Default: the keys of TAG_DEFAULTS.
    REPORT_TOPIC_ARN  SNS topic for results that need a person. Default: none (log only).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger("remediation")
LOGGER.setLevel(logging.INFO)

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
# AWS error codes meaning "the resource is gone": nothing to fix, not a failure of ours.
GONE_CODES = frozenset(
    {
        "NoSuchBucket",
        "NotFound",
        "404",
        "InvalidVolume.NotFound",
        "InvalidVpcID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidSubnetID.NotFound",
        "InvalidInstanceID.NotFound",
        "InvalidID",
        "InvalidVpcPeeringConnectionID.NotFound",
        "InvalidNetworkInterfaceID.NotFound",
        "InvalidRouteTableID.NotFound",
    }
)
EC2_TAGGABLE_PREFIX = "AWS::EC2::"
MAX_S3_TAGS = 50

# Result statuses.
REMEDIATED = "remediated"  # changed the resource so that it complies
COMPLIANT_ALREADY = "already_compliant"  # nothing to change (another fix or a race)
NOT_REMEDIABLE = "not_remediable"  # no safe automatic fix: reported for a person
RESOURCE_GONE = "resource_gone"  # the resource no longer exists
IGNORED = "ignored"  # not a non-compliance event
INVALID = "invalid_event"  # the event is not a Config compliance change
FAILED = "failed"  # AWS refused or failed: reported for a person


class InvalidEvent(ValueError):
    """The event lacks what a Config compliance-change event carries."""


def _json_env(name: str) -> dict[str, Any]:
    raw = os.environ.get(name, "")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        LOGGER.error(json.dumps({"message": "environment variable is not JSON", "variable": name}))
        return {}
    return value if isinstance(value, dict) else {}


def _client(service: str, region: str | None) -> Any:
    return boto3.client(service, region_name=region) if region else boto3.client(service)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


def _unwrap(event: Any) -> list[Any]:
    """The Config events inside ``event``: itself, or the messages of an SNS delivery."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        found: list[Any] = []
        for record in event["Records"]:
            message = record.get("Sns", {}).get("Message") if isinstance(record, dict) else None
            try:
                found.append(json.loads(message) if isinstance(message, str) else message)
            except ValueError:
                found.append(message)
        return found
    return [event]


def parse(event: Any) -> dict[str, str]:
    """The fields of a compliance-change event this handler needs; raises :class:`InvalidEvent`."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"expected a JSON object, got {type(event).__name__}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("missing object 'detail'")
    evaluation = detail.get("newEvaluationResult")
    if not isinstance(evaluation, dict):
        raise InvalidEvent("missing object 'detail.newEvaluationResult'")
    qualifier = (evaluation.get("evaluationResultIdentifier") or {}).get("evaluationResultQualifier") or {}
    fields = {
        "rule": detail.get("configRuleName") or qualifier.get("configRuleName"),
        "resource_type": detail.get("resourceType") or qualifier.get("resourceType"),
        "resource_id": detail.get("resourceId") or qualifier.get("resourceId"),
        "compliance": evaluation.get("complianceType"),
        "region": detail.get("awsRegion") or event.get("region") or os.environ.get("AWS_REGION", ""),
    }
    missing = sorted(k for k, v in fields.items() if k != "region" and (not isinstance(v, str) or not v))
    if missing:
        raise InvalidEvent(f"missing or empty {', '.join(missing)}")
    return {k: str(v) for k, v in fields.items()}


def block_public_access(resource_type: str, bucket: str, region: str) -> tuple[str, str]:
    """Re-apply the S3 public access block on ``bucket``."""
    if resource_type != "AWS::S3::Bucket":
        return NOT_REMEDIABLE, f"public access block applies to S3 buckets, not {resource_type}"
    s3 = _client("s3", region)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    return REMEDIATED, "public access block re-applied (all four settings true)"


def _missing(existing: dict[str, str], required: list[str]) -> list[str]:
    return [k for k in required if not existing.get(k)]


def add_required_tags(resource_type: str, resource_id: str, region: str) -> tuple[str, str]:
    """Add the missing required tags from ``TAG_DEFAULTS``; never overwrite a present value."""
    defaults = {str(k): str(v) for k, v in _json_env("TAG_DEFAULTS").items()}
    keys_env = os.environ.get("REQUIRED_TAG_KEYS", "")
    required = [k.strip() for k in keys_env.split(",") if k.strip()] or sorted(defaults)
    if resource_type == "AWS::S3::Bucket":
        s3 = _client("s3", region)
        try:
            tag_set = s3.get_bucket_tagging(Bucket=resource_id)["TagSet"]
        except ClientError as exc:
            if _error_code(exc) != "NoSuchTagSet":
                raise
            tag_set = []
        existing = {t["Key"]: t["Value"] for t in tag_set}
        missing = _missing(existing, required)
        fixable = [k for k in missing if defaults.get(k)]
        if fixable:
            merged = {**existing, **{k: defaults[k] for k in fixable}}
            if len(merged) > MAX_S3_TAGS:
                return NOT_REMEDIABLE, f"bucket would exceed {MAX_S3_TAGS} tags"
            # PutBucketTagging replaces the whole set: write the existing tags back with the new ones.
            s3.put_bucket_tagging(
                Bucket=resource_id, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]}
            )
    elif resource_type.startswith(EC2_TAGGABLE_PREFIX):
        ec2 = _client("ec2", region)
        pages = ec2.get_paginator("describe_tags").paginate(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
        existing = {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}
        missing = _missing(existing, required)
        fixable = [k for k in missing if defaults.get(k)]
        if fixable:
            # CreateTags adds or replaces only the keys given: existing tags stay as they are.
            ec2.create_tags(Resources=[resource_id], Tags=[{"Key": k, "Value": defaults[k]} for k in fixable])
    else:
        return NOT_REMEDIABLE, f"automatic tagging supports S3 buckets and EC2 resources, not {resource_type}"
    unfixable = [k for k in missing if k not in fixable]
    if unfixable:
        done = f"added {', '.join(fixable)}; " if fixable else ""
        return NOT_REMEDIABLE, f"{done}no default value for {', '.join(unfixable)}"
    if not fixable:
        return COMPLIANT_ALREADY, "every required tag is present"
    return REMEDIATED, f"added {', '.join(fixable)}"


ACTIONS = {
    "s3_public_access_block": lambda f: block_public_access(f["resource_type"], f["resource_id"], f["region"]),
    "required_tags": lambda f: add_required_tags(f["resource_type"], f["resource_id"], f["region"]),
}


def _ec2_gone(resource_type: str, resource_id: str, region: str) -> bool:
    """CreateTags on a deleted EC2 resource can succeed in some cases: check it exists first."""
    if not resource_type.startswith(EC2_TAGGABLE_PREFIX):
        return False
    ec2 = _client("ec2", region)
    kind = resource_type.removeprefix(EC2_TAGGABLE_PREFIX)
    lookups = {
        "Volume": ("describe_volumes", "VolumeIds"),
        "VPC": ("describe_vpcs", "VpcIds"),
        "SecurityGroup": ("describe_security_groups", "GroupIds"),
        "Subnet": ("describe_subnets", "SubnetIds"),
        "Instance": ("describe_instances", "InstanceIds"),
    }
    if kind not in lookups:
        return False
    method, param = lookups[kind]
    try:
        getattr(ec2, method)(**{param: [resource_id]})
    except ClientError as exc:
        if _error_code(exc) in GONE_CODES or _error_code(exc).endswith(".NotFound"):
            return True
        raise
    return False


def remediate(fields: dict[str, str]) -> dict[str, Any]:
    """Apply the action configured for the rule that fired; return the result."""
    result: dict[str, Any] = {
        "rule": fields["rule"],
        "resource_type": fields["resource_type"],
        "resource_id": fields["resource_id"],
        "region": fields["region"],
    }
    if fields["compliance"] != "NON_COMPLIANT":
        return {**result, "status": IGNORED, "detail": f"compliance is {fields['compliance']}"}
    action = str(_json_env("RULE_ACTIONS").get(fields["rule"], ""))
    result["action"] = action or "report"
    if action not in ACTIONS:
        return {**result, "status": NOT_REMEDIABLE, "detail": "no safe automatic remediation for this rule"}
    try:
        if action == "required_tags" and _ec2_gone(fields["resource_type"], fields["resource_id"], fields["region"]):
            return {**result, "status": RESOURCE_GONE, "detail": "the resource no longer exists"}
        status, detail = ACTIONS[action](fields)
    except ClientError as exc:
        code = _error_code(exc)
        if code in GONE_CODES or code.endswith(".NotFound"):
            return {**result, "status": RESOURCE_GONE, "detail": f"the resource no longer exists ({code})"}
        return {**result, "status": FAILED, "detail": f"AWS error {code}: {exc}"}
    except BotoCoreError as exc:
        return {**result, "status": FAILED, "detail": f"AWS client error {type(exc).__name__}: {exc}"}
    return {**result, "status": status, "detail": detail}


def _report(result: dict[str, Any]) -> None:
    """Publish a result that needs a person to the report topic; a failure here is only logged."""
    topic = os.environ.get("REPORT_TOPIC_ARN", "")
    if not topic or result["status"] not in (NOT_REMEDIABLE, FAILED):
        return
    subject = f"Config non-compliance needs attention: {result.get('rule', '?')}"[:100]
    try:
        _client("sns", None).publish(TopicArn=topic, Subject=subject, Message=json.dumps(result, sort_keys=True))
        result["reported"] = True
    except (ClientError, BotoCoreError) as exc:
        result["reported"] = False
        result["report_error"] = f"{_error_code(exc)}: {exc}"


def process(event: Any) -> dict[str, Any]:
    """Handle one Config event: parse, remediate, report, log; never raises."""
    try:
        fields = parse(event)
    except InvalidEvent as exc:
        result: dict[str, Any] = {"status": INVALID, "detail": str(exc)}
    else:
        try:
            result = remediate(fields)
        except Exception as exc:  # the handler must answer for every event, whatever happens
            result = {**fields, "status": FAILED, "detail": f"unexpected {type(exc).__name__}: {exc}"}
        _report(result)
    level = logging.WARNING if result["status"] in (NOT_REMEDIABLE, FAILED, INVALID) else logging.INFO
    LOGGER.log(level, json.dumps({"message": "remediation result", **result}, sort_keys=True, default=str))
    return result


def handler(event: Any, context: object) -> dict[str, Any]:
    """Lambda entry point: one result per Config event in ``event``."""
    results = [process(item) for item in _unwrap(event)]
    return {"results": results}
