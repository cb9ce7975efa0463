"""Everything at rest under a platform key, except the two kinds of log bucket AWS delivers only to
SSE-S3 buckets (docs/decisions/0020-aws-delivered-log-buckets.md), over every app and environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import resources
from shared_constructs.policy.suppress import suppressions_of
from shared_constructs.storage import ACCESS_LOG_SSE_REASON, ALB_ACCESS_LOG_SSE_REASON

ROOT = Path(__file__).resolve().parents[3]
APPS = sorted(p.parent.name for p in ROOT.glob("packages/*/cdktf.json"))
ENVIRONMENTS = [(app, p.stem) for app in APPS for p in sorted((ROOT / "packages" / app / "config").glob("*.toml"))]


ACCEPTED = {ACCESS_LOG_SSE_REASON, ALB_ACCESS_LOG_SSE_REASON}


def bucket_encryption(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Bucket resource name -> the default-encryption rule of its encryption configuration."""
    found = {}
    for config in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values():
        name = str(config["bucket"]).removeprefix("${aws_s3_bucket.").split(".")[0]
        found[name] = config["rule"][0]["apply_server_side_encryption_by_default"]
    return found


def judge(stack: dict[str, Any]) -> list[str]:
    """What breaks decision 0020 in one stack: a bucket without an encryption configuration, one
    under a key the stack did not create, an SSE-S3 bucket without one of the accepted reasons."""
    encryption, found = bucket_encryption(stack), []
    for name, bucket in resources(stack, "aws_s3_bucket").items():
        default = encryption.get(name)
        if default is None:
            found.append(f"{name}: no default encryption configuration")
        elif default["sse_algorithm"] == "aws:kms":
            if not str(default.get("kms_master_key_id", "")).startswith("${aws_kms_key."):
                found.append(f"{name}: SSE-KMS under a key the platform did not create")
        elif suppressions_of(bucket).get("S3_CMK_ENCRYPTION") not in ACCEPTED:
            found.append(f"{name}: {default['sse_algorithm']} without an accepted reason")
    return found


@pytest.mark.requirement("SEC-12", "SEC-C1", "PCI-C5")
@pytest.mark.parametrize(("app", "environment"), ENVIRONMENTS, ids=[f"{a}-{e}" for a, e in ENVIRONMENTS])
def test_every_bucket_is_under_a_platform_key_or_an_accepted_log_bucket(
    synth: Callable[..., SynthResult], app: str, environment: str
) -> None:
    stacks = synth(app, environment=environment).stacks
    buckets = sum(len(resources(stack, "aws_s3_bucket")) for stack in stacks.values())
    assert buckets, f"{app} {environment}: no bucket synthesized, nothing to judge"
    assert [f"{stack}/{line}" for stack, document in stacks.items() for line in judge(document)] == []


def _stack(default: dict[str, Any], suppressions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    bucket: dict[str, Any] = {"//": {"suppressions": suppressions}} if suppressions else {}
    return {
        "resource": {
            "aws_s3_bucket": {"b": bucket},
            "aws_s3_bucket_server_side_encryption_configuration": {
                "e": {"bucket": "${aws_s3_bucket.b.id}", "rule": [{"apply_server_side_encryption_by_default": default}]}
            },
        }
    }


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        (_stack({"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.k.arn}"}), []),
        (_stack({"sse_algorithm": "aws:kms"}), ["b: SSE-KMS under a key the platform did not create"]),
        (_stack({"sse_algorithm": "AES256"}), ["b: AES256 without an accepted reason"]),
        (
            _stack({"sse_algorithm": "AES256"}, [{"rule": "S3_CMK_ENCRYPTION", "reason": "cheaper"}]),
            ["b: AES256 without an accepted reason"],
        ),
        (_stack({"sse_algorithm": "AES256"}, [{"rule": "S3_CMK_ENCRYPTION", "reason": ACCESS_LOG_SSE_REASON}]), []),
        ({"resource": {"aws_s3_bucket": {"b": {}}}}, ["b: no default encryption configuration"]),
    ],
    ids=["platform-key", "aws-managed-key", "sse-s3-no-reason", "sse-s3-other-reason", "access-log-bucket", "none"],
)
def test_judge_finds_what_breaks_the_decision(stack: dict[str, Any], expected: list[str]) -> None:
    assert judge(stack) == expected
