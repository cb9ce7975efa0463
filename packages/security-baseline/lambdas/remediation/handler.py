"""Remediate AWS Config non-compliance that is safe to fix automatically; report the rest.

Triggered by an EventBridge rule on ``Config Rules Compliance Change`` events whose new evaluation
is ``NON_COMPLIANT`` (also accepts the same events delivered through SNS). What it does depends on
the rule that fired, looked up in ``RULE_ACTIONS`` (rule name -> action):

- ``s3_public_access_block``: turn on the four S3 public access block settings of the bucket
  (``already_compliant`` when they are on already).
- ``required_tags``: add only what this function can know about a resource it did not create:
  ``ManagedBy`` (not made through the platform) and ``App`` (claimed by no app); a missing
  ``DataClassification``, ``Owner``, ``CostCenter`` or ``Environment`` is never guessed: the resource
  gets a ``NeedsClassification`` marker naming the keys a person must set, and the result is reported.
  S3 buckets and EC2 resources only.
- anything else: nothing is changed; the finding is reported with the rule's runbook step.

Safety: only resources of this function's own account are touched (the account comes from the
invocation context); an event about another account is refused and reported, and every S3 call
carries ``ExpectedBucketOwner`` so that S3 itself refuses a bucket another account owns.

Errors: a transient AWS error (throttling, HTTP 5xx, a timeout or dropped connection) raises
:class:`TransientAwsError`, so that the asynchronous invocation is retried and, when retries run
out, the event lands on the function's dead-letter queue. Every other outcome is a result with
``status`` and ``detail``, one JSON log line, and (when a person must act) an SNS report to
``REPORT_TOPIC_ARN`` carrying the runbook step.

Environment:
    RULE_ACTIONS      JSON object, Config rule name -> action (above). Default: {}.
    REQUIRED_TAG_KEYS comma-separated keys the tag rule requires. Default: the platform's keys.
    REPORT_TOPIC_ARN  SNS topic for results that need a person. Default: none (log only).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from remediation_runbook import NO_RUNBOOK, RUNBOOK

LOGGER = logging.getLogger("remediation")
LOGGER.setLevel(logging.INFO)

S3_BUCKET = "AWS::S3::Bucket"
EC2_TAGGABLE_PREFIX = "AWS::EC2::"
MAX_S3_TAGS = 50
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DEFAULT_REQUIRED_TAG_KEYS = ("Environment", "CostCenter", "Owner", "DataClassification", "ManagedBy", "App")
KNOWABLE_TAGS = {
    # The platform's stacks always set ManagedBy through default tags: a resource without it was not
    # made through the platform. That much is known; who made it is not.
    "ManagedBy": "manual",
    # No app claims the resource (App names the app: docs/decisions/0010-one-tag-policy.md).
    "App": "unassigned",
}
NEEDS_CLASSIFICATION = "NeedsClassification"
"""Marker tag: its value names the required keys only a person can set."""

# AWS error codes meaning "the resource is gone": nothing to fix, not a failure of ours.
GONE_CODES = frozenset({"NoSuchBucket", "NotFound", "404", "InvalidID"})
# Throttling and service-side failures: worth a retry. HTTP 429 and 5xx are transient whatever the code.
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
    }
)

# Result statuses.
REMEDIATED = "remediated"  # changed the resource so that it complies
COMPLIANT_ALREADY = "already_compliant"  # nothing to change (another fix or a race)
NOT_REMEDIABLE = "not_remediable"  # no safe automatic fix: reported with the runbook step
REFUSED = "refused_other_account"  # the resource is not of this account: reported, untouched
RESOURCE_GONE = "resource_gone"  # the resource no longer exists
IGNORED = "ignored"  # not a non-compliance event
INVALID = "invalid_event"  # the event is not a Config compliance change
FAILED = "failed"  # AWS refused (a permanent error): reported with the runbook step
REPORTED = frozenset({NOT_REMEDIABLE, REFUSED, FAILED})


class InvalidEvent(ValueError):
    """The event lacks what a Config compliance-change event carries."""


class TransientAwsError(RuntimeError):
    """AWS throttled, failed on its side or timed out: raised so that the invocation is retried."""


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


def is_transient(exc: Exception) -> bool:
    """Whether a retry can succeed: throttling, HTTP 429 or 5xx, timeouts and broken connections."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return _error_code(exc) in TRANSIENT_CODES or status == 429 or status >= 500
    # ConnectionError: endpoint unreachable, connect timeout; HTTPClientError: read timeout, connection
    # closed mid-response. Parameter validation and missing credentials are permanent.
    return isinstance(exc, ConnectionError | HTTPClientError)


def _gone(exc: Exception) -> bool:
    code = _error_code(exc)
    return code in GONE_CODES or code.endswith(".NotFound")


def own_account(context: object) -> str:
    """This function's account id, from the ARN the invocation context carries; '' when absent."""
    arn = str(getattr(context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() and len(parts[4]) == 12 else ""


def runbook_step(rule: str) -> str:
    """The runbook step of ``rule`` (a deployed name such as ``security-baseline-s3-ssl-only-use1-dev``)."""
    matches = [key for key in RUNBOOK if f"-{key}-" in f"-{rule}-"]
    return RUNBOOK[max(matches, key=len)] if matches else NO_RUNBOOK


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
        "account": detail.get("awsAccountId") or event.get("account"),
        "compliance": evaluation.get("complianceType"),
        "region": detail.get("awsRegion") or event.get("region") or os.environ.get("AWS_REGION", ""),
    }
    missing = sorted(k for k, v in fields.items() if k != "region" and (not isinstance(v, str) or not v))
    if missing:
        raise InvalidEvent(f"missing or empty {', '.join(missing)}")
    return {k: str(v) for k, v in fields.items()}


def block_public_access(resource_type: str, bucket: str, region: str, owner: str) -> tuple[str, str]:
    """Turn on the four S3 public access block settings of ``bucket`` unless they are on."""
    if resource_type != S3_BUCKET:
        return NOT_REMEDIABLE, f"public access block applies to S3 buckets, not {resource_type}"
    s3 = _client("s3", region)
    try:
        current = s3.get_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if all(current.get(setting) is True for setting in PUBLIC_ACCESS_BLOCK):
        return COMPLIANT_ALREADY, "the four public access block settings are on already"
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK, ExpectedBucketOwner=owner
    )
    return REMEDIATED, "public access block turned on (all four settings true)"


def _tag_plan(existing: dict[str, str], required: list[str]) -> tuple[dict[str, str], list[str]]:
    """The tags to add (knowable values and the marker) and the keys only a person can set."""
    missing = [k for k in required if not existing.get(k)]
    add = {k: KNOWABLE_TAGS[k] for k in missing if k in KNOWABLE_TAGS}
    for_a_person = sorted(k for k in missing if k not in KNOWABLE_TAGS)
    if for_a_person and existing.get(NEEDS_CLASSIFICATION) != " ".join(for_a_person):
        add[NEEDS_CLASSIFICATION] = " ".join(for_a_person)
    return add, for_a_person


def _bucket_tags(bucket: str, region: str, owner: str, required: list[str]) -> tuple[dict[str, str], list[str]]:
    s3 = _client("s3", region)
    try:
        tag_set = s3.get_bucket_tagging(Bucket=bucket, ExpectedBucketOwner=owner)["TagSet"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchTagSet":
            raise
        tag_set = []
    existing = {t["Key"]: t["Value"] for t in tag_set}
    add, for_a_person = _tag_plan(existing, required)
    if add:
        merged = {**existing, **add}
        if len(merged) > MAX_S3_TAGS:
            return {}, [f"room for {len(add)} more tags (the bucket would exceed {MAX_S3_TAGS})"]
        # PutBucketTagging replaces the whole set: write the existing tags back with the new ones.
        tagging = {"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]}
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tagging, ExpectedBucketOwner=owner)
    return add, for_a_person


def _ec2_tags(resource_id: str, region: str, required: list[str]) -> tuple[dict[str, str], list[str]]:
    ec2 = _client("ec2", region)
    pages = ec2.get_paginator("describe_tags").paginate(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
    existing = {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}
    add, for_a_person = _tag_plan(existing, required)
    if add:
        # CreateTags adds or replaces only the keys given: existing tags stay as they are.
        ec2.create_tags(Resources=[resource_id], Tags=[{"Key": k, "Value": v} for k, v in sorted(add.items())])
    return add, for_a_person


def add_required_tags(resource_type: str, resource_id: str, region: str, owner: str) -> tuple[str, str]:
    """Add what can be known of the missing required tags; mark and report what a person must set."""
    keys_env = os.environ.get("REQUIRED_TAG_KEYS", "")
    required = [k.strip() for k in keys_env.split(",") if k.strip()] or list(DEFAULT_REQUIRED_TAG_KEYS)
    if resource_type == S3_BUCKET:
        added, for_a_person = _bucket_tags(resource_id, region, owner, required)
    elif resource_type.startswith(EC2_TAGGABLE_PREFIX):
        added, for_a_person = _ec2_tags(resource_id, region, required)
    else:
        return NOT_REMEDIABLE, f"automatic tagging supports S3 buckets and EC2 resources, not {resource_type}"
    done = f"added {', '.join(f'{k}={v}' for k, v in sorted(added.items()))}" if added else ""
    if for_a_person:
        return NOT_REMEDIABLE, "; ".join(filter(None, [done, f"a person must set {', '.join(for_a_person)}"]))
    if not added:
        return COMPLIANT_ALREADY, "every required tag is present"
    return REMEDIATED, done


ACTIONS = {
    "s3_public_access_block": lambda f, owner: block_public_access(
        f["resource_type"], f["resource_id"], f["region"], owner
    ),
    "required_tags": lambda f, owner: add_required_tags(f["resource_type"], f["resource_id"], f["region"], owner),
}


def _ec2_gone(resource_type: str, resource_id: str, region: str) -> bool:
    """CreateTags on a deleted EC2 resource can succeed in some cases: check it exists first."""
    lookups = {
        "Volume": ("describe_volumes", "VolumeIds"),
        "VPC": ("describe_vpcs", "VpcIds"),
        "SecurityGroup": ("describe_security_groups", "GroupIds"),
        "Subnet": ("describe_subnets", "SubnetIds"),
        "Instance": ("describe_instances", "InstanceIds"),
    }
    kind = resource_type.removeprefix(EC2_TAGGABLE_PREFIX)
    if not resource_type.startswith(EC2_TAGGABLE_PREFIX) or kind not in lookups:
        return False
    method, param = lookups[kind]
    try:
        getattr(_client("ec2", region), method)(**{param: [resource_id]})
    except ClientError as exc:
        if _gone(exc):
            return True
        raise
    return False


def _transient(result: dict[str, Any], exc: Exception) -> TransientAwsError:
    """Log the retry and build the exception that makes Lambda retry the event."""
    LOGGER.warning(json.dumps({"message": "transient AWS error, retrying", **result, "error": _error_code(exc)}))
    return TransientAwsError(f"transient AWS error {_error_code(exc)} on {result.get('resource_id', '?')}: {exc}")


def remediate(fields: dict[str, str], account: str) -> dict[str, Any]:
    """Apply the action configured for the rule that fired in this ``account``; return the result.

    Raises :class:`TransientAwsError` when AWS throttled, failed on its side or timed out.
    """
    result: dict[str, Any] = {k: fields[k] for k in ("rule", "resource_type", "resource_id", "account", "region")}
    if fields["compliance"] != "NON_COMPLIANT":
        return {**result, "status": IGNORED, "detail": f"compliance is {fields['compliance']}"}
    action = str(_json_env("RULE_ACTIONS").get(fields["rule"], ""))
    result["action"] = action or "report"
    result["runbook"] = runbook_step(fields["rule"])
    if not account:
        return {**result, "status": FAILED, "detail": "this function's account is unknown: no invocation context"}
    if fields["account"] != account:
        detail = f"the resource is in account {fields['account']}; this function changes only account {account}"
        return {**result, "status": REFUSED, "detail": detail}
    if action not in ACTIONS:
        return {**result, "status": NOT_REMEDIABLE, "detail": "no safe automatic remediation for this rule"}
    try:
        if action == "required_tags" and _ec2_gone(fields["resource_type"], fields["resource_id"], fields["region"]):
            return {**result, "status": RESOURCE_GONE, "detail": "the resource no longer exists"}
        status, detail = ACTIONS[action](fields, account)
    except (ClientError, BotoCoreError) as exc:
        if is_transient(exc):
            raise _transient(result, exc) from exc
        if _gone(exc):
            return {**result, "status": RESOURCE_GONE, "detail": f"the resource no longer exists ({_error_code(exc)})"}
        kind = "AWS error" if isinstance(exc, ClientError) else "AWS client error"
        return {**result, "status": FAILED, "detail": f"{kind} {_error_code(exc)}: {exc}"}
    return {**result, "status": status, "detail": detail}


def _report(result: dict[str, Any]) -> None:
    """Publish a result that needs a person; a transient failure raises, a permanent one is logged."""
    topic = os.environ.get("REPORT_TOPIC_ARN", "")
    if not topic or result["status"] not in REPORTED:
        return
    subject = f"Config non-compliance needs attention: {result.get('rule', '?')}"[:100]
    try:
        _client("sns", None).publish(TopicArn=topic, Subject=subject, Message=json.dumps(result, sort_keys=True))
        result["reported"] = True
    except (ClientError, BotoCoreError) as exc:
        if is_transient(exc):
            raise _transient(result, exc) from exc
        result["reported"] = False
        result["report_error"] = f"{_error_code(exc)}: {exc}"


def process(event: Any, account: str) -> dict[str, Any]:
    """Handle one Config event: parse, remediate, report, log. Raises only :class:`TransientAwsError`."""
    try:
        fields = parse(event)
    except InvalidEvent as exc:
        result: dict[str, Any] = {"status": INVALID, "detail": str(exc)}
    else:
        try:
            result = remediate(fields, account)
        except TransientAwsError:
            raise
        except Exception as exc:  # a defect must still give a reported result, not a silent retry loop
            result = {**fields, "status": FAILED, "detail": f"unexpected {type(exc).__name__}: {exc}"}
            result["runbook"] = runbook_step(fields["rule"])
        _report(result)
    level = logging.WARNING if result["status"] in REPORTED | {INVALID} else logging.INFO
    LOGGER.log(level, json.dumps({"message": "remediation result", **result}, sort_keys=True, default=str))
    return result


def handler(event: Any, context: object) -> dict[str, Any]:
    """Lambda entry point: one result per Config event in ``event``."""
    account = own_account(context)
    return {"results": [process(item, account) for item in _unwrap(event)]}
